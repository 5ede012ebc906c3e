using Advantage.Environments;
using Advantage.Learning;

namespace Advantage.Actors;

/// <summary>Marker for every message that crosses between workers and the learner; binds them to one serializer.</summary>
internal interface IAdvantageMessage;

/// <summary>A worker announces itself to the learner; the learner watches it and replies with the current <see cref="Parameters"/>.</summary>
/// <param name="WorkerId">Stable id; orders the worker's columns in a batch.</param>
/// <param name="Environments">K, how many columns the worker contributes.</param>
internal sealed record RegisterWorker(int WorkerId, int Environments) : IAdvantageMessage;

/// <summary>Fresh parameters from the learner: a worker loads them and collects the next rollout with them.</summary>
/// <param name="Version">Parameter version; rollouts are stamped with it.</param>
/// <param name="Values">The flat parameter vector (layout from the network's named parameters).</param>
/// <param name="ObservationStatistics">
/// Running observation mean and variance learned on the learner side, when observation normalisation is on;
/// workers normalise with exactly these, so acting and learning see the same inputs.
/// </param>
internal sealed record Parameters(long Version, float[] Values, NormalizerState? ObservationStatistics = null) : IAdvantageMessage
{
    /// <summary>
    /// Asynchronous rounds: how many of the receiving worker's rollouts the learner has taken (into an update, or
    /// dropped) since it last told this worker. A worker may run ahead of the learner by a bounded number of rollouts;
    /// this is what lets it go on, so the learner's queue never grows without bound. 0 in synchronous rounds.
    /// </summary>
    public int Acknowledged { get; init; }
}

/// <summary>A rollout travelling from a worker to the learner.</summary>
/// <param name="Data">The experience.</param>
internal sealed record RolloutCollected(Rollout Data) : IAdvantageMessage
{
    /// <summary>
    /// The worker's saved state right after this rollout (environments with their episodes in progress, action
    /// sampling, reward scaling), attached when the update this rollout feeds writes a checkpoint
    /// (<see cref="WorkerSettings.CheckpointInterval"/>), so the checkpoint can carry it; null otherwise.
    /// </summary>
    public byte[]? WorkerState { get; init; }
}

/// <summary>
/// From the learner of a resumed run to a worker before its first parameters: continue from this saved state (the
/// checkpoint's), so the worker's episodes go on where they were instead of starting fresh.
/// </summary>
/// <param name="WorkerId">The worker it is for.</param>
/// <param name="Version">The checkpoint's version, which the worker's first parameters carry.</param>
/// <param name="State">What the worker saved (<see cref="RolloutCollected.WorkerState"/>).</param>
internal sealed record RestoreWorker(int WorkerId, long Version, byte[] State) : IAdvantageMessage;

/// <summary>
/// A worker restarted after a failure (its environment threw or produced a non-finite value, or the learner refused its
/// rollout); its partial rollout was discarded. The learner counts it against <see cref="TrainingOptions.MaxWorkerRestarts"/>.
/// </summary>
/// <param name="WorkerId">Which worker.</param>
/// <param name="Reason">What failed, in one line: the worker, the environment slot, the method and step, the exception's type and message.</param>
/// <remarks>
/// Restarts that happen while a failed run's learner is already gone reach nobody; they are not logged as dead letters
/// (<see cref="Akka.Event.IDeadLetterSuppression"/>), and a printed message shows the reason, never the cause's stack trace.
/// </remarks>
internal sealed record WorkerRestarted(int WorkerId, string Reason) : IAdvantageMessage, Akka.Event.IDeadLetterSuppression
{
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("WorkerId = ").Append(WorkerId).Append(", Reason = ").Append(Reason);
        return true;
    }

    /// <summary>
    /// In one process, the failure itself (a <see cref="WorkerFaultException"/> with the environment's exception inside),
    /// so a failed run's cause is the real exception; null when the message crossed the network (only
    /// <see cref="Reason"/> travels).
    /// </summary>
    public Exception? Cause { get; init; }
}

/// <summary>
/// The learner refused a worker's rollout of the current round (malformed or non-finite contents). The worker restarts
/// with fresh environments (counted like any failure) and registers again; the learner then sends it the round's
/// parameters, so the round completes instead of waiting for a rollout that would never come.
/// </summary>
/// <param name="Version">The version of the refused rollout.</param>
/// <param name="Reason">Why, naming the step and environment slot where it can.</param>
internal sealed record RolloutRefused(long Version, string Reason) : IAdvantageMessage;

/// <summary>
/// A worker failed: its environment threw (on creation, in Reset or in Step) or produced a non-finite value, or the
/// learner refused its rollout. The message names the worker, the environment and its slot, the method and the step;
/// <see cref="Exception.InnerException"/> is the environment's own exception when there is one. It is the cause of a run
/// that ends because <see cref="TrainingOptions.MaxWorkerRestarts"/> ran out.
/// </summary>
public sealed class WorkerFaultException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WorkerFaultException(int workerId, string message, Exception? inner = null)
        : base(message, inner) => WorkerId = workerId;

    /// <summary>The worker that failed.</summary>
    public int WorkerId { get; }
}

/// <summary>Ends a run early; the run completes with <see cref="StopReason.Stopped"/>.</summary>
public sealed record StopTraining : IAdvantageMessage
{
    /// <summary>The one instance.</summary>
    public static StopTraining Instance { get; } = new();

    private StopTraining() { }
}

/// <summary>Asks the learner for a <see cref="TrainingProgress"/> snapshot now.</summary>
public sealed record GetProgress : IAdvantageMessage
{
    /// <summary>The one instance.</summary>
    public static GetProgress Instance { get; } = new();

    private GetProgress() { }
}

/// <summary>Why a run ended.</summary>
public enum StopReason
{
    /// <summary>The mean return over the window reached the target.</summary>
    TargetReached,

    /// <summary>The step budget ran out.</summary>
    StepBudgetExhausted,

    /// <summary>Someone asked it to stop.</summary>
    Stopped,

    /// <summary>Every worker died.</summary>
    NoWorkers,

    /// <summary>The learner failed (see the completion task's exception).</summary>
    Failed,

    /// <summary>One of <see cref="TrainingOptions.StopConditions"/> said so (named in <see cref="TrainingResult.Detail"/>).</summary>
    StopConditionMet,
}

/// <summary>A snapshot of a run, sent to progress subscribers at the progress interval.</summary>
/// <param name="Steps">Environment steps applied so far.</param>
/// <param name="Seconds">Wall time since training started.</param>
/// <param name="StepsPerSecond">Throughput over the last interval.</param>
/// <param name="Episodes">Episodes finished.</param>
/// <param name="MeanReturn">Mean undiscounted return of the last (up to) window episodes; NaN before the first.</param>
/// <param name="Version">Current parameter version (number of updates).</param>
/// <param name="Workers">Live workers.</param>
/// <param name="RejectedRollouts">Rollouts refused (stale, malformed or non-finite) so far.</param>
/// <param name="WorkerRestarts">Worker restarts so far.</param>
/// <param name="LastUpdate">Metrics of the latest update; null before the first.</param>
public sealed record TrainingProgress(
    long Steps,
    double Seconds,
    double StepsPerSecond,
    long Episodes,
    double MeanReturn,
    long Version,
    int Workers,
    long RejectedRollouts,
    long WorkerRestarts,
    UpdateMetrics? LastUpdate) : IAdvantageMessage;

/// <summary>How a run ended, with the trained parameters.</summary>
/// <param name="Reason">Why it ended.</param>
/// <param name="Solved">Whether the target mean return was reached.</param>
/// <param name="Progress">The final snapshot.</param>
/// <param name="Parameters">The final parameter vector.</param>
/// <param name="Spec">The network sizes the parameters belong to.</param>
public sealed record TrainingResult(StopReason Reason, bool Solved, TrainingProgress Progress, float[] Parameters, Advantage.Learning.Networks.NetworkSpec Spec)
{
    /// <summary>A human-readable explanation of <see cref="Reason"/> (which stop condition fired, for instance); empty when none.</summary>
    public string Detail { get; init; } = "";

    /// <summary>
    /// The newest checkpoint of this run that is whole on disk (<c>last.ckpt</c>, or a cluster learner's own file), to resume
    /// from; null when the run kept none or none could be written. It holds <see cref="CheckpointVersion"/>, which is older than
    /// the final state when <see cref="FinalCheckpointWritten"/> is false.
    /// </summary>
    public string? CheckpointPath { get; init; }

    /// <summary>The parameter version <see cref="CheckpointPath"/> holds; 0 when there is none.</summary>
    public long CheckpointVersion { get; init; }

    /// <summary>
    /// Whether the run's final state was written as its checkpoint. False when the run keeps no checkpoints, and when the
    /// final write failed (a full disk, no file descriptors left): then <see cref="OutputProblems"/> says why and
    /// <see cref="CheckpointPath"/> names the older checkpoint that remains.
    /// </summary>
    public bool FinalCheckpointWritten { get; init; }

    /// <summary>
    /// Everything the run was asked to write and could not (the final checkpoint, TensorBoard events, the run folder's files
    /// down to <c>summary.json</c>), one line each naming the file and the reason; empty when everything was written.
    /// </summary>
    public IReadOnlyList<string> OutputProblems { get; init; } = [];

    /// <summary>
    /// Synchronous rounds of this session that closed without some simulations' rollouts because they had not come within
    /// <see cref="Simulation.SimulationOptions.RoundTimeout"/> (see <see cref="RoundClosedShort"/>); always 0 for built-in
    /// workers, whose rounds wait for every live worker. Many of them mean the simulations wait on each other or one is stuck.
    /// </summary>
    public long ShortRounds { get; init; }

    /// <summary>
    /// The observation statistics the workers normalised with at the end; null when the run did not normalise. The
    /// parameters are worthless without them in such a run: the network only ever saw normalised observations.
    /// </summary>
    public Advantage.Environments.NormalizerState? ObservationStatistics { get; init; }

    /// <summary>The algorithm's options the run trained with (their type names the algorithm); null when not known.</summary>
    public AlgorithmOptions? Options { get; init; }

    /// <summary>The environment id the run trained on; null when not known.</summary>
    public string? EnvironmentId { get; init; }

    /// <summary>The action space Gaussian actions were clipped to; null for a categorical policy.</summary>
    public Advantage.Environments.Box? ActionBounds { get; init; }

    /// <summary>The optimizer's state at the end, so the saved result can also be resumed; null when it could not be read.</summary>
    public byte[]? OptimizerState { get; init; }

    /// <summary>The returns in the mean-return window at the end, oldest first (what a resumed run continues its mean from).</summary>
    public IReadOnlyList<double> RecentReturns { get; init; } = [];

    /// <summary>
    /// The result as one checkpoint: parameters, spec, observation statistics, action bounds, options, counters,
    /// return window, environment id and optimizer state. The run's own <c>last.ckpt</c> at the end holds the same;
    /// <see cref="TrainedPolicy.FromCheckpoint"/> acts with it as the run did, and <see cref="TrainingOptions.ResumeFrom"/>
    /// continues it.
    /// </summary>
    public Checkpoint ToCheckpoint() =>
        new(Spec, Parameters, new Dictionary<string, string>
        {
            ["stop_reason"] = Reason.ToString(),
            ["solved"] = Solved ? "true" : "false",
            ["mean_return"] = Progress.MeanReturn.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            ObservationStatistics = ObservationStatistics,
            Options = Options,
            EnvironmentId = EnvironmentId,
            ActionBounds = ActionBounds,
            OptimizerState = OptimizerState,
            Progress = new CheckpointProgress(Progress.Version, Progress.Steps, Progress.Episodes, RecentReturns.ToArray()),
        };

    /// <summary>Saves <see cref="ToCheckpoint"/> to <paramref name="path"/> (atomically), for <see cref="TrainedPolicy.Load"/> or a resume.</summary>
    public void Save(string path) => ToCheckpoint().Save(path);
}
