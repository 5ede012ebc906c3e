namespace Advantage.Environments;

/// <summary>
/// The discrete mountain-car task with Gymnasium 0.29.1's <c>MountainCarEnv</c> dynamics: an
/// under-powered car must rock itself up to position 0.5. Register it wrapped in
/// <see cref="TimeLimit"/> (200 steps) to get <c>MountainCar-v0</c>.
/// </summary>
/// <remarks>
/// Reward is -1 every step, which makes it a hard-exploration benchmark. Reset draws the position from
/// U(-0.6, -0.4) with <see cref="NumPyRandom"/> (Gymnasium's generator, so a seed gives Gymnasium's start)
/// with zero velocity; the state is float64 and the observation its float32 rounding.
/// </remarks>
public sealed class MountainCar : IStatefulEnvironment, IResumableEnvironment
{
    private const double MinPosition = -1.2;
    private const double MaxPosition = 0.6;
    private const double MaxSpeed = 0.07;
    private const double GoalPosition = 0.5;
    private const double GoalVelocity = 0.0;
    private const double Force = 0.001;
    private const double Gravity = 0.0025;

    private static readonly Discrete Actions = new(3);

    private static readonly Box Observations = new(
        [2], [(float)MinPosition, -(float)MaxSpeed], [(float)MaxPosition, (float)MaxSpeed]);

    private readonly NumPyRandom random = new();
    private double position, velocity;
    private bool started;

    /// <inheritdoc />
    /// <remarks>Position and velocity.</remarks>
    public Space ObservationSpace => Observations;

    /// <inheritdoc />
    /// <remarks><c>Discrete(3)</c>: accelerate left, do nothing, accelerate right.</remarks>
    public Space ActionSpace => Actions;

    /// <inheritdoc />
    public int StateSize => 2;

    /// <inheritdoc />
    /// <remarks>
    /// Draws the position, as Gymnasium's <c>uniform(-0.6, -0.4)</c>; the velocity starts at 0.
    /// The seeding contract is Gymnasium's (see <see cref="NumPyRandom"/>): <c>Reset(seed)</c> starts the
    /// episode <c>env.reset(seed=seed)</c> starts, <c>Reset(null)</c> draws on from the same stream, and
    /// before any seed the stream is seed <see cref="NumPyRandom.DefaultSeed"/>'s.
    /// </remarks>
    public void Reset(int? seed, Span<float> observation)
    {
        Guard.Observation(observation, Observations);
        if (seed is int s) random.Reseed(NumPyRandom.FromEnvironmentSeed(s));
        position = random.Uniform(-0.6, -0.4);
        velocity = 0.0;
        started = true;
        WriteObservation(observation);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The action is not 0, 1 or 2.</exception>
    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        int a = Guard.DiscreteAction(action, Actions);
        Guard.Observation(observation, Observations);
        Guard.Started(started, nameof(MountainCar));

        velocity += (a - 1) * Force + Math.Cos(3 * position) * -Gravity;
        velocity = Math.Clamp(velocity, -MaxSpeed, MaxSpeed);
        position += velocity;
        position = Math.Clamp(position, MinPosition, MaxPosition);
        if (position == MinPosition && velocity < 0) velocity = 0.0; // the left wall is inelastic

        bool terminated = position >= GoalPosition && velocity >= GoalVelocity;
        WriteObservation(observation);
        return new StepResult(-1.0, terminated, false);
    }

    /// <inheritdoc />
    /// <remarks>Order: position, velocity.</remarks>
    public double[] GetState() => [position, velocity];

    /// <inheritdoc />
    /// <remarks>Order: position, velocity.</remarks>
    public void SetState(ReadOnlySpan<double> state)
    {
        Guard.State(state, StateSize);
        (position, velocity) = (state[0], state[1]);
        started = true;
    }

    /// <inheritdoc />
    public void WriteObservation(Span<float> observation)
    {
        Guard.Observation(observation, Observations);
        observation[0] = (float)position;
        observation[1] = (float)velocity;
    }

    /// <inheritdoc />
    public bool CanSave => true;

    /// <inheritdoc />
    public byte[] Save() => SavedState.Write(nameof(MountainCar), w =>
    {
        w.WriteDoubles(GetState());
        w.Write(started);
        w.WriteRandom(random);
    });

    /// <inheritdoc />
    public void Restore(ReadOnlySpan<byte> saved) => SavedState.Read(saved, nameof(MountainCar), r =>
    {
        double[] state = r.ReadDoubles();
        bool wasStarted = r.ReadBoolean();
        r.ReadRandom(random);
        SetState(state);
        started = wasStarted;
    });
}
