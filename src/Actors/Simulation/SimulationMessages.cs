namespace Advantage.Actors.Simulation;

/// <summary>
/// An agent stream of the user's simulation asks its <see cref="SimulationCollector"/> (the gateway) for an action. The
/// collector replies to the sender with a <see cref="Decision"/> (or a <see cref="DecisionRefused"/>), never blocking:
/// the reply may come later, when the collector waits for the learner's next parameters, and the simulation's own
/// messages are the clock. Each <see cref="Decide"/> must be followed by one <see cref="Outcome"/> before the next
/// <see cref="Decide"/> of the same stream; a <see cref="Decide"/> while the previous action is unreported means the
/// stream (or its simulation) restarted: see <see cref="SimulationStatistics.StreamRestarts"/>.
/// </summary>
/// <param name="Stream">The stream's column in 0..Streams-1 of this collector; one entity of the simulation.</param>
/// <param name="Observation">The entity's flat observation now (the first of a new episode after one ended).</param>
public sealed record Decide(int Stream, float[] Observation);

/// <summary>The action for a <see cref="Decide"/>.</summary>
/// <param name="Stream">The stream asked for.</param>
/// <param name="Action">The action: one float holding the index for a discrete space, else the (clipped) vector.</param>
/// <param name="Version">The parameter version that chose it.</param>
public sealed record Decision(int Stream, float[] Action, long Version)
{
    /// <summary>The action as a discrete index (for a <see cref="Advantage.Environments.Discrete"/> action space).</summary>
    public int Index => (int)Action[0];
}

/// <summary>
/// What the action of the stream's last <see cref="Decision"/> led to. An episode that ends (terminated or truncated) mid
/// rollout is recorded as such; the stream's next <see cref="Decide"/> carries the new episode's first observation.
/// </summary>
/// <param name="Stream">The stream.</param>
/// <param name="Reward">The reward of the step (finite).</param>
/// <param name="Terminated">The episode ended in a terminal state (no bootstrap).</param>
/// <param name="Truncated">The episode was cut (a time limit): its value is bootstrapped from <paramref name="FinalObservation"/>.</param>
/// <param name="FinalObservation">Required when truncated and not terminated: the observation the episode was cut at; else null.</param>
public sealed record Outcome(int Stream, double Reward, bool Terminated = false, bool Truncated = false, float[]? FinalObservation = null);

/// <summary>A <see cref="Decide"/> the collector cannot answer (a stream outside the collector's columns, a wrong length, a non-finite value); counted.</summary>
/// <param name="Stream">The stream named in the request.</param>
/// <param name="Reason">What is wrong, naming the field.</param>
public sealed record DecisionRefused(int Stream, string Reason);

/// <summary>
/// An <see cref="Outcome"/> the collector refused: for an action never asked for (or already reported), for a stream
/// outside its columns, or with a bad value; counted in <see cref="SimulationStatistics.RefusedOutcomes"/>. Nothing of it is recorded.
/// </summary>
/// <param name="Stream">The stream named in the report.</param>
/// <param name="Reason">Why.</param>
public sealed record OutcomeRefused(int Stream, string Reason);

/// <summary>Asks a collector for its <see cref="SimulationStatistics"/>.</summary>
public sealed record GetSimulationStatistics
{
    /// <summary>The one instance.</summary>
    public static GetSimulationStatistics Instance { get; } = new();

    private GetSimulationStatistics() { }
}

/// <summary>A collector's counters since it started.</summary>
/// <param name="Decisions">Actions answered.</param>
/// <param name="ForwardPasses">Policy forward passes (several pending decisions share one).</param>
/// <param name="Steps">Outcomes recorded.</param>
/// <param name="Rollouts">Rollouts sent to the learner.</param>
/// <param name="Episodes">Episodes finished (terminated or truncated) and reported to the learner.</param>
/// <param name="RefusedDecisions">Refused <see cref="Decide"/> requests.</param>
/// <param name="RefusedOutcomes">Refused <see cref="Outcome"/> reports (for actions never asked for and bad values).</param>
/// <param name="SilentStreams">Streams that went silent past <see cref="SimulationOptions.StreamTimeout"/>; their partial columns were dropped or bootstrapped (<see cref="SimulationOptions.SilentStreams"/>).</param>
/// <param name="DroppedSteps">Steps dropped with those partial columns.</param>
/// <param name="StreamRestarts">Streams that asked again with their last action unreported (the simulation restarted).</param>
public sealed record SimulationStatistics(
    long Decisions,
    long ForwardPasses,
    long Steps,
    long Rollouts,
    long Episodes,
    long RefusedDecisions,
    long RefusedOutcomes,
    long SilentStreams,
    long DroppedSteps,
    long StreamRestarts)
{
    /// <summary>
    /// Steps of silent streams' partial columns kept (<see cref="SilentStreamHandling.Bootstrap"/>): cut at the last step whose
    /// successor is known and bootstrapped from the last observation, trained on once the stream returns and completes its column.
    /// </summary>
    public long BootstrappedSteps { get; init; }

    /// <summary>
    /// Rollouts that went without their slow streams because another stream waited for its decision longer than
    /// <see cref="SimulationOptions.RoundTimeout"/> (the slow streams' partial columns are counted in <see cref="DroppedSteps"/>
    /// or <see cref="BootstrappedSteps"/>).
    /// </summary>
    public long StalledRollouts { get; init; }
}
