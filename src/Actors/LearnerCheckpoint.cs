using System.Globalization;
using Advantage.Learning;

namespace Advantage.Actors;

/// <summary>Where and how often a learner writes its resumable state.</summary>
/// <param name="Path">Checkpoint file (format 2, the same as an in-process run's <c>last.ckpt</c>).</param>
/// <param name="Interval">How often it is rewritten (atomically) while training.</param>
internal sealed record LearnerCheckpointing(string Path, TimeSpan Interval);

/// <summary>How a learner is hosted: in one process (ends when its workers are gone) or in a cluster (waits for workers to come back).</summary>
/// <param name="WaitForWorkers">When the last worker is gone, wait for new ones instead of ending with <see cref="StopReason.NoWorkers"/>.</param>
/// <param name="Checkpoint">Periodic checkpoints and resume; null for none.</param>
internal sealed record LearnerHosting(bool WaitForWorkers, LearnerCheckpointing? Checkpoint)
{
    public static readonly LearnerHosting InProcess = new(false, null);

    /// <summary>Where the run stood in the hosted checkpoint, already loaded into the learner's algorithm; null for a fresh start.</summary>
    public CheckpointProgress? Resumed { get; init; }

    /// <summary>A cluster learner's data lane: parameters go to workers on it when they have one.</summary>
    public Cluster.LearnerLane? Lane { get; init; }
}

/// <summary>
/// Reads a cluster learner's own checkpoint at start. It is written (atomically, every interval and at the end) as
/// the same format-2 <see cref="Checkpoint"/> that an in-process run writes as <c>last.ckpt</c>, with optimizer state,
/// counters, return window and observation statistics inside, so one file resumes either kind of run and
/// <c>eval</c> reads it too.
/// </summary>
internal static class LearnerCheckpoint
{
    /// <summary>
    /// The run's algorithm, continued from its hosted checkpoint when the file exists (else from
    /// <see cref="TrainingOptions.ResumeFrom"/>), and where that checkpoint stood.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint file is corrupt, of another network, or cannot resume; names the path.</exception>
    public static (A2CLearner Algorithm, CheckpointProgress? Resumed) CreateLearner(TrainingOptions options, Learning.Networks.NetworkSpec spec, LearnerCheckpointing? checkpoint)
    {
        var algorithm = Training.CreateLearner(options, spec);
        try
        {
            return (algorithm, checkpoint is null ? null : TryLoad(checkpoint.Path, algorithm));
        }
        catch
        {
            algorithm.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads the checkpoint at <paramref name="path"/> into <paramref name="algorithm"/> and returns where the run
    /// stood; null when there is no file yet (a fresh run).
    /// </summary>
    /// <exception cref="InvalidDataException">The file is corrupt, of another network, or cannot resume training.</exception>
    public static CheckpointProgress? TryLoad(string path, A2CLearner algorithm)
    {
        if (!File.Exists(path)) return null;
        var saved = Checkpoint.Load(path);
        if (!saved.Spec.Equals(algorithm.Spec) || saved.Parameters.Length != algorithm.Parameters.Count)
            throw new InvalidDataException($"Checkpoint '{path}' holds another network ({saved.Spec.ObservationSize} observations, hidden [{string.Join(", ", saved.Spec.HiddenSizes)}], {saved.Spec.ActionSize} actions); this run trains {algorithm.Spec.ObservationSize}, [{string.Join(", ", algorithm.Spec.HiddenSizes)}], {algorithm.Spec.ActionSize}.");
        if (saved.Progress is null && saved.OptimizerState is null) return LoadLegacy(path, saved, algorithm);
        if (!saved.CanResume)
            throw new InvalidDataException($"Checkpoint '{path}' is a bare model (no optimizer state, counters or options); a learner can only resume from a training checkpoint.");
        LearnerState.Restore(algorithm, saved);
        return saved.Progress;
    }

    /// <summary>
    /// The cluster learner's format before it wrote format 2 (kept for one release): counters and observation
    /// statistics as metadata strings, the optimizer in a side file <c>PATH.optimizer</c>, no return window.
    /// </summary>
    private static CheckpointProgress LoadLegacy(string path, Checkpoint saved, A2CLearner algorithm)
    {
        algorithm.Parameters.Write(saved.Parameters);
        var metadata = saved.Metadata;
        if (metadata.TryGetValue("observation_mean", out var mean) && metadata.TryGetValue("observation_var", out var var)
            && metadata.TryGetValue("observation_count", out var count) && algorithm.ObservationStatistics is not null)
        {
            algorithm.RestoreObservationStatistics(new Environments.NormalizerState(Doubles(mean), Doubles(var), double.Parse(count, CultureInfo.InvariantCulture)));
        }
        string optimizer = path + ".optimizer";
        if (File.Exists(optimizer)) LearnerState.LoadOptimizer(algorithm, File.ReadAllBytes(optimizer));
        return new CheckpointProgress(Read(metadata, "version"), Read(metadata, "steps"), Read(metadata, "episodes"), []);
    }

    private static double[] Doubles(string text) =>
        text.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();

    private static long Read(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out var text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : 0;
}
