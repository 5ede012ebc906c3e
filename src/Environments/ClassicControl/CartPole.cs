namespace Advantage.Environments;

/// <summary>
/// The cart-pole balancing task with Gymnasium 0.29.1's <c>CartPoleEnv</c> dynamics (explicit Euler),
/// so results and hyperparameters from the Python world carry over. Register it wrapped in
/// <see cref="TimeLimit"/> (500 steps) to get <c>CartPole-v1</c>.
/// </summary>
/// <remarks>
/// The state is kept in double precision and the observation is its float32 rounding, exactly as in
/// Gymnasium. Reset draws each state component from U(-0.05, 0.05) with <see cref="NumPyRandom"/>, the
/// generator Gymnasium seeds, so <c>Reset(seed)</c> gives Gymnasium's initial observation bit for bit. A
/// step allocates nothing.
/// </remarks>
public sealed class CartPole : IStatefulEnvironment, IResumableEnvironment
{
    private const double Gravity = 9.8;
    private const double MassCart = 1.0;
    private const double MassPole = 0.1;
    private const double TotalMass = MassPole + MassCart;
    private const double Length = 0.5; // half the pole's length, as in Gymnasium
    private const double PoleMassLength = MassPole * Length;
    private const double ForceMagnitude = 10.0;
    private const double Tau = 0.02;

    /// <summary>The pole angle (radians) beyond which the episode terminates: 12 degrees.</summary>
    public const double ThetaThresholdRadians = 12 * 2 * Math.PI / 360;

    /// <summary>The cart position beyond which the episode terminates.</summary>
    public const double XThreshold = 2.4;

    private static readonly Discrete Actions = new(2);

    private static readonly Box Observations = new(
        [4],
        [-(float)(XThreshold * 2), -float.MaxValue, -(float)(ThetaThresholdRadians * 2), -float.MaxValue],
        [(float)(XThreshold * 2), float.MaxValue, (float)(ThetaThresholdRadians * 2), float.MaxValue]);

    private readonly NumPyRandom random = new();
    private double x, xDot, theta, thetaDot;
    private bool started;
    // Gymnasium's steps_beyond_terminated: stepping on after termination pays 0 instead of 1.
    private bool terminatedBefore;

    /// <inheritdoc />
    public Space ObservationSpace => Observations;

    /// <inheritdoc />
    /// <remarks><c>Discrete(2)</c>: 0 pushes the cart left, 1 pushes it right.</remarks>
    public Space ActionSpace => Actions;

    /// <inheritdoc />
    public int StateSize => 4;

    /// <inheritdoc />
    /// <remarks>
    /// Draws x, x_dot, theta, theta_dot in that order, as Gymnasium's <c>uniform(-0.05, 0.05, size=(4,))</c>.
    /// The seeding contract is Gymnasium's (see <see cref="NumPyRandom"/>): <c>Reset(seed)</c> starts the
    /// episode <c>env.reset(seed=seed)</c> starts, <c>Reset(null)</c> draws on from the same stream, and
    /// before any seed the stream is seed <see cref="NumPyRandom.DefaultSeed"/>'s.
    /// </remarks>
    public void Reset(int? seed, Span<float> observation)
    {
        Guard.Observation(observation, Observations);
        if (seed is int s) random.Reseed(NumPyRandom.FromEnvironmentSeed(s));
        x = random.Uniform(-0.05, 0.05);
        xDot = random.Uniform(-0.05, 0.05);
        theta = random.Uniform(-0.05, 0.05);
        thetaDot = random.Uniform(-0.05, 0.05);
        started = true;
        terminatedBefore = false;
        WriteObservation(observation);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The action is not 0 or 1.</exception>
    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        int a = Guard.DiscreteAction(action, Actions);
        Guard.Observation(observation, Observations);
        Guard.Started(started, nameof(CartPole));

        double force = a == 1 ? ForceMagnitude : -ForceMagnitude;
        double cosTheta = Math.Cos(theta);
        double sinTheta = Math.Sin(theta);
        // Same association order as Gymnasium, so the float64 results agree bit for bit where libm does.
        double temp = (force + PoleMassLength * (thetaDot * thetaDot) * sinTheta) / TotalMass;
        double thetaAcc = (Gravity * sinTheta - cosTheta * temp)
            / (Length * (4.0 / 3.0 - MassPole * (cosTheta * cosTheta) / TotalMass));
        double xAcc = temp - PoleMassLength * thetaAcc * cosTheta / TotalMass;

        x += Tau * xDot;
        xDot += Tau * xAcc;
        theta += Tau * thetaDot;
        thetaDot += Tau * thetaAcc;

        bool terminated = x < -XThreshold || x > XThreshold
            || theta < -ThetaThresholdRadians || theta > ThetaThresholdRadians;
        double reward = 1.0;
        if (terminated)
        {
            if (terminatedBefore) reward = 0.0;
            terminatedBefore = true;
        }
        WriteObservation(observation);
        return new StepResult(reward, terminated, false);
    }

    /// <inheritdoc />
    /// <remarks>Order: x, x_dot, theta, theta_dot.</remarks>
    public double[] GetState() => [x, xDot, theta, thetaDot];

    /// <inheritdoc />
    /// <remarks>Order: x, x_dot, theta, theta_dot.</remarks>
    public void SetState(ReadOnlySpan<double> state)
    {
        Guard.State(state, StateSize);
        (x, xDot, theta, thetaDot) = (state[0], state[1], state[2], state[3]);
        started = true;
    }

    /// <inheritdoc />
    public void WriteObservation(Span<float> observation)
    {
        Guard.Observation(observation, Observations);
        observation[0] = (float)x;
        observation[1] = (float)xDot;
        observation[2] = (float)theta;
        observation[3] = (float)thetaDot;
    }

    /// <inheritdoc />
    public bool CanSave => true;

    /// <inheritdoc />
    public byte[] Save() => SavedState.Write(nameof(CartPole), w =>
    {
        w.WriteDoubles(GetState());
        w.Write(started);
        w.Write(terminatedBefore);
        w.WriteRandom(random);
    });

    /// <inheritdoc />
    public void Restore(ReadOnlySpan<byte> saved) => SavedState.Read(saved, nameof(CartPole), r =>
    {
        double[] state = r.ReadDoubles();
        bool wasStarted = r.ReadBoolean();
        bool wasTerminated = r.ReadBoolean();
        r.ReadRandom(random);
        SetState(state);
        started = wasStarted;
        terminatedBefore = wasTerminated;
    });
}
