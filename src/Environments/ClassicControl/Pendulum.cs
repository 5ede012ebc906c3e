namespace Advantage.Environments;

/// <summary>
/// The inverted-pendulum swing-up task with Gymnasium 0.29.1's <c>PendulumEnv</c> dynamics (g = 10,
/// dt = 0.05, torque clipped to [-2, 2], speed to [-8, 8]). It never terminates, so it exercises the
/// truncation path of the learner; register it wrapped in <see cref="TimeLimit"/> (200 steps) to get
/// <c>Pendulum-v1</c>.
/// </summary>
/// <remarks>
/// Reward is -(θ² + 0.1 θ̇² + 0.001 u²) with θ normalized to [-π, π). Reset draws θ from U(-π, π) and θ̇
/// from U(-1, 1) with <see cref="NumPyRandom"/> (Gymnasium's generator, so a seed gives Gymnasium's start).
/// </remarks>
public sealed class Pendulum : IStatefulEnvironment, IResumableEnvironment
{
    private const double MaxSpeed = 8.0;
    private const double MaxTorque = 2.0;
    private const double Dt = 0.05;
    private const double G = 10.0;
    private const double M = 1.0;
    private const double L = 1.0;

    private static readonly Box Actions = new([1], [-(float)MaxTorque], [(float)MaxTorque]);

    private static readonly Box Observations = new([3], [-1f, -1f, -(float)MaxSpeed], [1f, 1f, (float)MaxSpeed]);

    private readonly NumPyRandom random = new();
    private double theta, thetaDot;
    private bool started;

    /// <inheritdoc />
    /// <remarks>cos θ, sin θ, θ̇.</remarks>
    public Space ObservationSpace => Observations;

    /// <inheritdoc />
    /// <remarks>One torque in [-2, 2]; values outside are clipped, as in Gymnasium.</remarks>
    public Space ActionSpace => Actions;

    /// <inheritdoc />
    public int StateSize => 2;

    /// <inheritdoc />
    /// <remarks>
    /// Draws θ from U(-π, π), then θ̇ from U(-1, 1), as Gymnasium's <c>uniform(low=-high, high=high)</c> with <c>high = [π, 1]</c>.
    /// The seeding contract is Gymnasium's (see <see cref="NumPyRandom"/>): <c>Reset(seed)</c> starts the
    /// episode <c>env.reset(seed=seed)</c> starts, <c>Reset(null)</c> draws on from the same stream, and
    /// before any seed the stream is seed <see cref="NumPyRandom.DefaultSeed"/>'s.
    /// </remarks>
    public void Reset(int? seed, Span<float> observation)
    {
        Guard.Observation(observation, Observations);
        if (seed is int s) random.Reseed(NumPyRandom.FromEnvironmentSeed(s));
        theta = random.Uniform(-Math.PI, Math.PI);
        thetaDot = random.Uniform(-1.0, 1.0);
        started = true;
        WriteObservation(observation);
    }

    /// <inheritdoc />
    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        Guard.BoxAction(action, Actions);
        Guard.Observation(observation, Observations);
        Guard.Started(started, nameof(Pendulum));
        // Gymnasium clips in float32 (the action's dtype), then computes in float64.
        double u = Math.Clamp(action[0], -(float)MaxTorque, (float)MaxTorque);

        double normalized = NormalizeAngle(theta);
        double cost = normalized * normalized + 0.1 * (thetaDot * thetaDot) + 0.001 * (u * u);

        double newThetaDot = thetaDot + (3 * G / (2 * L) * Math.Sin(theta) + 3.0 / (M * (L * L)) * u) * Dt;
        newThetaDot = Math.Clamp(newThetaDot, -MaxSpeed, MaxSpeed);
        theta += newThetaDot * Dt;
        thetaDot = newThetaDot;

        WriteObservation(observation);
        return new StepResult(-cost, false, false);
    }

    /// <inheritdoc />
    /// <remarks>Order: θ, θ̇. θ is not wrapped; only the cost normalizes it.</remarks>
    public double[] GetState() => [theta, thetaDot];

    /// <inheritdoc />
    /// <remarks>Order: θ, θ̇.</remarks>
    public void SetState(ReadOnlySpan<double> state)
    {
        Guard.State(state, StateSize);
        (theta, thetaDot) = (state[0], state[1]);
        started = true;
    }

    /// <inheritdoc />
    public void WriteObservation(Span<float> observation)
    {
        Guard.Observation(observation, Observations);
        observation[0] = (float)Math.Cos(theta);
        observation[1] = (float)Math.Sin(theta);
        observation[2] = (float)thetaDot;
    }

    // NumPy's ((x + pi) % (2 pi)) - pi: a floored modulo (result takes the divisor's sign), unlike C#'s %.
    private static double NormalizeAngle(double x)
    {
        const double period = 2 * Math.PI;
        double r = (x + Math.PI) % period;
        if (r != 0 && r < 0) r += period;
        return r - Math.PI;
    }

    /// <inheritdoc />
    public bool CanSave => true;

    /// <inheritdoc />
    public byte[] Save() => SavedState.Write(nameof(Pendulum), w =>
    {
        w.WriteDoubles(GetState());
        w.Write(started);
        w.WriteRandom(random);
    });

    /// <inheritdoc />
    public void Restore(ReadOnlySpan<byte> saved) => SavedState.Read(saved, nameof(Pendulum), r =>
    {
        double[] state = r.ReadDoubles();
        bool wasStarted = r.ReadBoolean();
        r.ReadRandom(random);
        SetState(state);
        started = wasStarted;
    });
}
