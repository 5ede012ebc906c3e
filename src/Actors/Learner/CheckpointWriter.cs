using Advantage.Learning;

namespace Advantage.Actors;

/// <summary>
/// Writes the run's resumable checkpoint to every place it belongs (the run folder's <c>last.ckpt</c>, a cluster
/// learner's own checkpoint file) every <c>interval</c> updates and at the end. One cadence, counted in updates,
/// in every placement. A failed write throws a <see cref="RunWriteException"/> naming the file: the learner ends the run
/// rather than train on without a way back (short of file descriptors only, it retries at the next interval for a while;
/// the previous checkpoint stays whole, and the failed write's temporary file is removed).
/// </summary>
internal sealed class CheckpointWriter
{
    private readonly string[] paths;
    private readonly int interval;
    private readonly RunDisk disk;

    public CheckpointWriter(IEnumerable<string> paths, int interval, RunDisk? disk = null)
    {
        this.paths = paths.Distinct(StringComparer.Ordinal).ToArray();
        ArgumentOutOfRangeException.ThrowIfNegative(interval);
        this.interval = interval;
        this.disk = disk ?? RunDisk.Real;
    }

    /// <summary>Where checkpoints go; empty when the run keeps none.</summary>
    public IReadOnlyList<string> Paths => paths;

    /// <summary>The newest checkpoint this writer completed; null before the first.</summary>
    public string? LastPath { get; private set; }

    /// <summary>The parameter version <see cref="LastPath"/> holds.</summary>
    public long LastVersion { get; private set; }

    /// <summary>Whether the update that produced <paramref name="version"/> ends an interval.</summary>
    public bool Due(long version) => paths.Length > 0 && interval > 0 && version % interval == 0;

    /// <summary>Writes <paramref name="checkpoint"/> (atomically) to every path; returns the paths written.</summary>
    /// <exception cref="RunWriteException">A path could not be written; the paths before it were.</exception>
    public IReadOnlyList<string> Write(Checkpoint checkpoint)
    {
        foreach (string path in paths)
        {
            try
            {
                checkpoint.Save(path, disk.Create);
            }
            catch (Exception e) when (DiskProblem.Is(e))
            {
                throw new RunWriteException(path, e);
            }
            if (LastPath is null || path == paths[0])
            {
                LastPath = path;
                LastVersion = checkpoint.Progress?.Version ?? 0;
            }
        }
        return paths;
    }

    /// <summary>
    /// The checkpoint already at one of the paths (in a resumed run, its earlier part's), with its version; null when there is
    /// none or it does not load.
    /// </summary>
    public (string Path, long Version)? Existing()
    {
        foreach (string path in paths)
        {
            try
            {
                if (File.Exists(path)) return (path, Checkpoint.Load(path).Progress?.Version ?? 0);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
            }
        }
        return null;
    }
}

/// <summary>A file of the run could not be written; the message names it and says why in words (the disk is full, read-only...).</summary>
internal sealed class RunWriteException : IOException
{
    public RunWriteException(string path, Exception cause)
        : base(DiskProblem.Describe(path, cause), cause)
    {
        Path = path;
        HResult = cause.HResult;
    }

    /// <summary>The file that could not be written.</summary>
    public string Path { get; }
}
