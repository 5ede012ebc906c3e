using System.Globalization;
using Advantage.Learning;

namespace Advantage.Actors;

/// <summary>Where and how often a learner writes its resumable state.</summary>
/// <param name="Path">Checkpoint file; the optimizer state goes beside it in <c>Path + ".optimizer"</c>.</param>
/// <param name="Interval">How often it is rewritten (atomically) while training.</param>
internal sealed record LearnerCheckpointing(string Path, TimeSpan Interval);

/// <summary>How a learner is hosted: in one process (ends when its workers are gone) or in a cluster (waits for workers to come back).</summary>
/// <param name="WaitForWorkers">When the last worker is gone, wait for new ones instead of ending with <see cref="StopReason.NoWorkers"/>.</param>
/// <param name="Checkpoint">Periodic checkpoints and resume; null for none.</param>
internal sealed record LearnerHosting(bool WaitForWorkers, LearnerCheckpointing? Checkpoint)
{
    public static readonly LearnerHosting InProcess = new(false, null);

    /// <summary>A cluster learner's data lane: parameters go to workers on it when they have one.</summary>
    public Cluster.LearnerLane? Lane { get; init; }
}

/// <summary>What a resumed learner continues from.</summary>
internal sealed record ResumedLearner(long Version, long Steps, long Episodes);

/// <summary>
/// A learner's resumable state on disk: parameters, version and step count in an <see cref="Checkpoint"/>
/// (atomic: temporary file, then rename), the observation normaliser's statistics in its metadata, and the
/// optimizer's state beside it, written the same way.
/// </summary>
internal static class LearnerCheckpoint
{
    public static string OptimizerPath(string path) => path + ".optimizer";

    public static void Save(string path, A2CLearner algorithm, float[] parameters, long version, long steps, long episodes)
    {
        // Optimizer first: a checkpoint file never points at optimizer state older than itself by more than one interval.
        string optimizer = OptimizerPath(path);
        string temp = optimizer + ".tmp-" + Environment.ProcessId;
        string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        if (algorithm.Optimizer is TorchSharp.Modules.OptimizerHelper helper)
        {
            helper.save_state_dict(temp);
            File.Move(temp, optimizer, overwrite: true);
        }
        var metadata = new Dictionary<string, string>
        {
            ["version"] = version.ToString(CultureInfo.InvariantCulture),
            ["steps"] = steps.ToString(CultureInfo.InvariantCulture),
            ["episodes"] = episodes.ToString(CultureInfo.InvariantCulture),
        };
        if (algorithm.ObservationStatistics is { } statistics)
        {
            metadata["observation_mean"] = string.Join(',', statistics.Mean.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
            metadata["observation_var"] = string.Join(',', statistics.Var.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
            metadata["observation_count"] = statistics.Count.ToString("R", CultureInfo.InvariantCulture);
        }
        new Checkpoint(algorithm.Spec, parameters, metadata).Save(path);
    }

    /// <summary>Loads the state into <paramref name="algorithm"/> when a checkpoint exists; null when there is none.</summary>
    /// <exception cref="InvalidDataException">The checkpoint exists but is corrupt or belongs to another network.</exception>
    public static ResumedLearner? TryResume(string path, A2CLearner algorithm)
    {
        if (!File.Exists(path)) return null;
        var checkpoint = Checkpoint.Load(path);
        if (!checkpoint.Spec.Equals(algorithm.Spec) || checkpoint.Parameters.Length != algorithm.Parameters.Count)
            throw new InvalidDataException($"Checkpoint '{path}' is of another network ({checkpoint.Spec}); this run trains {algorithm.Spec}.");
        algorithm.Parameters.Write(checkpoint.Parameters);
        if (checkpoint.Metadata.TryGetValue("observation_mean", out var mean) && checkpoint.Metadata.TryGetValue("observation_var", out var var)
            && checkpoint.Metadata.TryGetValue("observation_count", out var count) && algorithm.ObservationStatistics is not null)
        {
            algorithm.RestoreObservationStatistics(new Environments.NormalizerState(Doubles(mean), Doubles(var), double.Parse(count, CultureInfo.InvariantCulture)));
        }
        if (File.Exists(OptimizerPath(path)) && algorithm.Optimizer is TorchSharp.Modules.OptimizerHelper helper)
            helper.load_state_dict(OptimizerPath(path));
        return new ResumedLearner(Read(checkpoint, "version"), Read(checkpoint, "steps"), Read(checkpoint, "episodes"));
    }

    private static double[] Doubles(string text) =>
        text.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();

    private static long Read(Checkpoint checkpoint, string key) =>
        checkpoint.Metadata.TryGetValue(key, out var text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : 0;
}
