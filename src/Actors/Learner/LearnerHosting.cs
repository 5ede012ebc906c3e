using Advantage.Learning;

namespace Advantage.Actors;

/// <summary>How a learner is hosted: in one process (ends when its workers are gone) or in a cluster (waits for workers to come back).</summary>
/// <param name="Run">The run's name, carried by every event.</param>
/// <param name="Cluster">
/// A cluster learner: when the last worker is gone it waits for new ones instead of ending with
/// <see cref="StopReason.NoWorkers"/>, and it waits for the configured workers without a deadline before the first round.
/// </param>
/// <param name="CheckpointPath">A cluster learner's own checkpoint file (written with <c>last.ckpt</c>'s cadence); null for none.</param>
internal sealed record LearnerHosting(string Run, bool Cluster, string? CheckpointPath)
{
    /// <summary>Where the run stood in the checkpoint it continues, already loaded into the learner's algorithm; null for a fresh start.</summary>
    public CheckpointProgress? Resumed { get; init; }

    /// <summary>The workers' saved states of the checkpoint it continues (handed back to them), null when it holds none.</summary>
    public IReadOnlyList<WorkerSavedState>? ResumedWorkers { get; init; }

    /// <summary>How the run's files are opened: the real disk, or a test's that fills up.</summary>
    public RunDisk Disk { get; init; } = RunDisk.Real;
}

/// <summary>
/// Builds a run's algorithm, continued from where the run stood: a cluster learner's own checkpoint file when it
/// exists (it is this run's and newer), else <see cref="TrainingOptions.ResumeFrom"/>. Both are format-3 training
/// checkpoints; anything else is refused with the path and the reason before an actor starts.
/// </summary>
internal static class LearnerCheckpoint
{
    /// <exception cref="InvalidDataException">The checkpoint file is corrupt, of another network, or a bare model; names the path.</exception>
    public static (IPolicyLearner Algorithm, Checkpoint? Resumed) CreateLearner(TrainingOptions options, Learning.Networks.NetworkSpec spec, string? checkpointPath)
    {
        var algorithm = Learners.Create(options.Algorithm, spec);
        try
        {
            if (checkpointPath is not null && File.Exists(checkpointPath)) return (algorithm, Load(checkpointPath, algorithm));
            if (options.ResumeFrom is { } resume)
            {
                LearnerState.Restore(algorithm, resume);
                return (algorithm, resume);
            }
            return (algorithm, null);
        }
        catch
        {
            algorithm.Dispose();
            throw;
        }
    }

    private static Checkpoint Load(string path, IPolicyLearner algorithm)
    {
        var saved = Checkpoint.Load(path);
        if (!saved.Spec.Equals(algorithm.Spec) || saved.Parameters.Length != algorithm.Parameters.Count)
            throw new InvalidDataException($"Checkpoint '{path}' holds another network ({saved.Spec.ObservationSize} observations, hidden [{string.Join(", ", saved.Spec.HiddenSizes)}], {saved.Spec.ActionSize} actions); this run trains {algorithm.Spec.ObservationSize}, [{string.Join(", ", algorithm.Spec.HiddenSizes)}], {algorithm.Spec.ActionSize}.");
        if (!saved.CanResume)
            throw new InvalidDataException($"Checkpoint '{path}' is a bare model (no optimizer state, counters or options); a learner can only resume from a training checkpoint.");
        if (LearnerState.AlgorithmMismatch(saved, algorithm.Options) is { } mismatch)
            throw new InvalidDataException($"Checkpoint '{path}': {mismatch}");
        LearnerState.Restore(algorithm, saved);
        return saved;
    }
}
