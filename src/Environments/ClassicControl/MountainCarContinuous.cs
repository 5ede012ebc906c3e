namespace Advantage.Environments;

/// <summary>
/// The continuous-action mountain-car task with Gymnasium 0.29.1's <c>Continuous_MountainCarEnv</c>
/// dynamics: goal at position 0.45, force = clip(action, -1, 1) * 0.0015. Register it wrapped in
/// <see cref="TimeLimit"/> (999 steps) to get <c>MountainCarContinuous-v0</c>.
/// </summary>
/// <remarks>
/// Reward is -0.1 a^2 per step plus 100 on reaching the goal. Reset draws the position from
/// U(-0.6, -0.4) with <see cref="NumPyRandom"/> (Gymnasium's generator, so a seed gives Gymnasium's start)
/// with zero velocity in float64; every step stores the new state as float32, as
/// Gymnasium does, so later steps start from rounded values and trajectories agree with it.
/// </remarks>
public sealed class MountainCarContinuous : IStatefulEnvironment, IResumableEnvironment
{
    private const double MinAction = -1.0;
    private const double MaxAction = 1.0;
    private const double MinPosition = -1.2;
    private const double MaxPosition = 0.6;
    private const double MaxSpeed = 0.07;
    private const double GoalPosition = 0.45;
    private const double GoalVelocity = 0.0;
    private const double Power = 0.0015;

    private static readonly Box Actions = new([1], [(float)MinAction], [(float)MaxAction]);

    private static readonly Box Observations = new(
        [2], [(float)MinPosition, -(float)MaxSpeed], [(float)MaxPosition, (float)MaxSpeed]);

    private readonly NumPyRandom random = new();
    private double position, velocity;
    private bool started;

    /// <inheritdoc />
    /// <remarks>Position and velocity.</remarks>
    public Space ObservationSpace => Observations;

    /// <inheritdoc />
    /// <remarks>One force in [-1, 1]; values outside are clipped, as in Gymnasium.</remarks>
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
    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        Guard.BoxAction(action, Actions);
        Guard.Observation(observation, Observations);
        Guard.Started(started, nameof(MountainCarContinuous));
        double a = action[0];
        double force = Math.Min(Math.Max(a, MinAction), MaxAction);

        velocity += force * Power - 0.0025 * Math.Cos(3 * position);
        if (velocity > MaxSpeed) velocity = MaxSpeed;
        if (velocity < -MaxSpeed) velocity = -MaxSpeed;
        position += velocity;
        if (position > MaxPosition) position = MaxPosition;
        if (position < MinPosition) position = MinPosition;
        if (position == MinPosition && velocity < 0) velocity = 0.0;

        bool terminated = position >= GoalPosition && velocity >= GoalVelocity;
        double reward = (terminated ? 100.0 : 0.0) - a * a * 0.1;

        position = (float)position;
        velocity = (float)velocity;
        WriteObservation(observation);
        return new StepResult(reward, terminated, false);
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
    public byte[] Save() => SavedState.Write(nameof(MountainCarContinuous), w =>
    {
        w.WriteDoubles(GetState());
        w.Write(started);
        w.WriteRandom(random);
    });

    /// <inheritdoc />
    public void Restore(ReadOnlySpan<byte> saved) => SavedState.Read(saved, nameof(MountainCarContinuous), r =>
    {
        double[] state = r.ReadDoubles();
        bool wasStarted = r.ReadBoolean();
        r.ReadRandom(random);
        SetState(state);
        started = wasStarted;
    });
}
