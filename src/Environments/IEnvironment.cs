namespace Advantage.Environments;

/// <summary>
/// What one environment step reports besides the observation. <see cref="Terminated"/> and
/// <see cref="Truncated"/> are kept apart because they mean different things to the return
/// computation: a terminated state has no future value, a truncated one (time limit) does.
/// </summary>
/// <param name="Reward">The reward for the transition.</param>
/// <param name="Terminated">The MDP reached a terminal state; bootstrapping stops here.</param>
/// <param name="Truncated">The episode was cut from outside (time limit); the state still has value.</param>
public readonly record struct StepResult(double Reward, bool Terminated, bool Truncated)
{
    /// <summary>True when the episode is over for either reason and the environment must be reset.</summary>
    public bool IsFinished => Terminated || Truncated;

    // Named factories: two bare booleans read poorly in either language, and F# cannot use named
    // arguments here (StepResult(Reward = r, ...) also matches the struct's parameterless constructor
    // with property setters, so the call is ambiguous).

    /// <summary>A step after which the episode goes on.</summary>
    public static StepResult Continuing(double reward) => new(reward, false, false);

    /// <summary>A step that reached a terminal state of the MDP (<see cref="Terminated"/>).</summary>
    public static StepResult Terminal(double reward) => new(reward, true, false);

    /// <summary>A step after which the episode is cut from outside, its state still of value (<see cref="Truncated"/>).</summary>
    public static StepResult Truncating(double reward) => new(reward, false, true);
}

/// <summary>
/// Gymnasium's environment contract, shaped so a step allocates nothing: the caller owns the
/// observation buffer and the action buffer. Implement it in C# or as an F# object expression.
/// </summary>
/// <remarks>
/// Actions are flat floats: a <see cref="Discrete"/> action is one float holding the integer index,
/// a <see cref="Box"/> action is its elements in row-major order. Observations are written flat,
/// <see cref="Space.FlatSize"/> floats of <see cref="ObservationSpace"/>.
/// </remarks>
public interface IEnvironment
{
    /// <summary>The space observations live in; sizes the network input.</summary>
    Space ObservationSpace { get; }

    /// <summary>The space actions live in; selects the policy head.</summary>
    Space ActionSpace { get; }

    /// <summary>
    /// Starts a new episode and writes its first observation. A seed re-seeds the environment's
    /// random source (as Gymnasium's <c>reset(seed=...)</c>); <c>null</c> continues the current stream.
    /// <c>Reset(seed)</c> must start the same episode whatever happened before it, and must write every
    /// element of the observation (<see cref="EnvironmentChecker"/> checks both).
    /// </summary>
    void Reset(int? seed, Span<float> observation);

    /// <summary>
    /// Applies an action and writes the next observation (every element, finite, inside the declared bounds).
    /// After a step that finished the episode (terminated or truncated) the caller resets before stepping
    /// again, as <see cref="VectorEnvironment"/> always does; a step anyway is undefined, as in Gymnasium,
    /// and an environment may refuse it with <see cref="InvalidOperationException"/>.
    /// </summary>
    StepResult Step(ReadOnlySpan<float> action, Span<float> observation);
}
