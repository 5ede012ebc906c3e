namespace Advantage.Environments;

/// <summary>
/// An environment whose physical state can be read and replaced, as Gymnasium's
/// <c>env.unwrapped.state</c>. It exists so tests can start an episode from a recorded state and replay
/// recorded actions: our reset draws cannot reproduce NumPy's, but the dynamics from a given state can
/// be checked to float tolerance.
/// </summary>
public interface IStatefulEnvironment : IEnvironment
{
    /// <summary>How many doubles <see cref="GetState"/> returns and <see cref="SetState"/> expects.</summary>
    int StateSize { get; }

    /// <summary>
    /// A copy of the current state, in Gymnasium's <c>state</c> order. A copy, so callers cannot
    /// change the environment behind its back; not meant for hot loops.
    /// </summary>
    double[] GetState();

    /// <summary>
    /// Replaces the state (Gymnasium's <c>state</c> order) without starting a new episode or touching
    /// the random stream, so the next <see cref="IEnvironment.Step"/> continues from it. Also makes a
    /// never-reset environment steppable.
    /// </summary>
    /// <exception cref="ArgumentException">The span does not hold <see cref="StateSize"/> values.</exception>
    void SetState(ReadOnlySpan<double> state);

    /// <summary>
    /// Writes the observation of the current state, so a test can check the observation that belongs to
    /// a state it set.
    /// </summary>
    void WriteObservation(Span<float> observation);
}
