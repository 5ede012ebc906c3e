using Advantage.Learning;

namespace Advantage.Actors;

/// <summary>
/// Writes the run's resumable checkpoint to every place it belongs (the run folder's <c>last.ckpt</c>, a cluster
/// learner's own checkpoint file) every <c>interval</c> updates and at the end. One cadence, counted in updates,
/// in every placement. A failed write throws: the learner ends the run rather than train on without a way back
/// (short of file descriptors only, it retries at the next interval for a while; the previous checkpoint stays whole).
/// </summary>
internal sealed class CheckpointWriter
{
    private readonly string[] paths;
    private readonly int interval;

    public CheckpointWriter(IEnumerable<string> paths, int interval)
    {
        this.paths = paths.Distinct(StringComparer.Ordinal).ToArray();
        ArgumentOutOfRangeException.ThrowIfNegative(interval);
        this.interval = interval;
    }

    /// <summary>Where checkpoints go; empty when the run keeps none.</summary>
    public IReadOnlyList<string> Paths => paths;

    /// <summary>Whether the update that produced <paramref name="version"/> ends an interval.</summary>
    public bool Due(long version) => paths.Length > 0 && interval > 0 && version % interval == 0;

    /// <summary>Writes <paramref name="checkpoint"/> (atomically) to every path; returns the paths written.</summary>
    public IReadOnlyList<string> Write(Checkpoint checkpoint)
    {
        foreach (string path in paths) checkpoint.Save(path);
        return paths;
    }
}
