using Advantage.Learning;

namespace Advantage.Actors;

/// <summary>
/// Something that happened in a training run, published on the actor system's event stream so host actors
/// follow a run with ordinary Akka code (<c>Context.System.EventStream.Subscribe(Self, typeof(TrainingEvent))</c>,
/// or one concrete type) instead of polling. Local only: events are not sent across the network.
/// </summary>
/// <param name="Run">The run's name (its supervisor actor's name), so a host running several runs can tell them apart.</param>
public abstract record TrainingEvent(string Run);

/// <summary>An episode ended in some worker's environment and its statistics reached the learner.</summary>
/// <param name="Run">The run's name.</param>
/// <param name="Steps">Environment steps applied when the learner counted it (the x axis of learning curves).</param>
/// <param name="Episode">1-based episode number within the run.</param>
/// <param name="Return">Undiscounted return.</param>
/// <param name="Length">Episode length in steps.</param>
/// <param name="WorkerId">The worker whose environment produced it.</param>
public sealed record EpisodeFinished(string Run, long Steps, long Episode, double Return, int Length, int WorkerId) : TrainingEvent(Run);

/// <summary>One update of the run's algorithm was applied; the parameter version moved to <paramref name="Version"/>.</summary>
/// <param name="Run">The run's name.</param>
/// <param name="Version">The new parameter version.</param>
/// <param name="Steps">Environment steps applied so far.</param>
/// <param name="Metrics">Losses, entropy, gradient norm and explained variance of this update.</param>
/// <param name="StepsPerSecond">Steps since this learner started divided by its wall time (CleanRL's SPS).</param>
public sealed record UpdateFinished(string Run, long Version, long Steps, UpdateMetrics Metrics, double StepsPerSecond) : TrainingEvent(Run)
{
    /// <summary>Mean return over the run's return window after this update (NaN before the first episode), so a log at a fixed update cadence needs no other event.</summary>
    public double MeanReturn { get; init; } = double.NaN;

    /// <summary>Episodes finished so far.</summary>
    public long Episodes { get; init; }

    /// <summary>Wall time of the learner when the update finished.</summary>
    public double Seconds { get; init; }
}

/// <summary>A periodic evaluation with deterministic actions on separate environments finished.</summary>
/// <param name="Run">The run's name.</param>
/// <param name="Version">Parameter version evaluated.</param>
/// <param name="Steps">Environment steps of training when the parameters were taken.</param>
/// <param name="Result">The returns and lengths of the evaluation episodes.</param>
/// <param name="IsBest">True when its mean return beat every earlier evaluation of the run (the best checkpoint was replaced).</param>
public sealed record EvaluationFinished(string Run, long Version, long Steps, EvaluationResult Result, bool IsBest) : TrainingEvent(Run);

/// <summary>Which checkpoint file was written.</summary>
public enum CheckpointKind
{
    /// <summary>The run's latest state (<c>last.ckpt</c>), written every checkpoint interval and at the end.</summary>
    Latest,

    /// <summary>The state whose evaluation scored best so far (<c>best.ckpt</c>).</summary>
    Best,
}

/// <summary>A checkpoint was written atomically and is complete on disk.</summary>
/// <param name="Run">The run's name.</param>
/// <param name="Path">Where it was written.</param>
/// <param name="Kind">Latest or best.</param>
/// <param name="Version">Parameter version it holds.</param>
/// <param name="Steps">Environment steps it holds.</param>
public sealed record CheckpointWritten(string Run, string Path, CheckpointKind Kind, long Version, long Steps) : TrainingEvent(Run);

/// <summary>A worker registered with the learner (at start, after a restart, or late).</summary>
/// <param name="Run">The run's name.</param>
/// <param name="WorkerId">Its id.</param>
/// <param name="Environments">Columns it contributes.</param>
/// <param name="Workers">Live workers now.</param>
public sealed record WorkerJoined(string Run, int WorkerId, int Environments, int Workers) : TrainingEvent(Run);

/// <summary>A worker died (or its node left); rounds shrink without it.</summary>
/// <param name="Run">The run's name.</param>
/// <param name="WorkerId">Its id.</param>
/// <param name="Workers">Live workers now.</param>
public sealed record WorkerLost(string Run, int WorkerId, int Workers) : TrainingEvent(Run);

/// <summary>A rollout was refused (stale, duplicated, from a stranger, malformed or non-finite) and never applied.</summary>
/// <param name="Run">The run's name.</param>
/// <param name="WorkerId">The worker id the rollout claimed.</param>
/// <param name="Reason">Why it was refused.</param>
public sealed record RolloutRejected(string Run, int WorkerId, string Reason) : TrainingEvent(Run);

/// <summary>
/// A synchronous round of a simulation run closed without the rollouts of some simulations, which had not come within
/// <see cref="Simulation.SimulationOptions.RoundTimeout"/> of its first (slow, stopped, or waiting on another simulation's
/// entities): the update used the rollouts it had, counted in <see cref="TrainingResult.ShortRounds"/>.
/// </summary>
/// <param name="Run">The run's name.</param>
/// <param name="Version">The round's parameter version (the update makes the next).</param>
/// <param name="Rollouts">Rollouts the round closed with.</param>
/// <param name="Missing">The simulations (worker ids) it went without, in id order.</param>
public sealed record RoundClosedShort(string Run, long Version, int Rollouts, IReadOnlyList<int> Missing) : TrainingEvent(Run);

/// <summary>The run ended; the same outcome completes <see cref="TrainingRun.Completion"/>.</summary>
/// <param name="Run">The run's name.</param>
/// <param name="Reason">Why it ended.</param>
/// <param name="Detail">A human-readable explanation (which stop condition fired, for instance).</param>
/// <param name="Progress">The final snapshot.</param>
public sealed record TrainingFinished(string Run, StopReason Reason, string Detail, TrainingProgress Progress) : TrainingEvent(Run);
