namespace Advantage.Actors;

/// <summary>
/// How a run opens the files it writes (checkpoints, the run folder's logs, plot and summary). The real disk in every
/// run; tests substitute one that fills up or turns read-only part-way, which a real disk cannot be made to do on demand.
/// </summary>
internal class RunDisk
{
    /// <summary>The file system.</summary>
    public static readonly RunDisk Real = new();

    /// <summary>Creates (or truncates) <paramref name="path"/> for writing.</summary>
    public virtual Stream Create(string path) => new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);

    /// <summary>Opens <paramref name="path"/> for appending, creating it when missing.</summary>
    public virtual Stream Append(string path) => new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically: a temporary file renamed over it, removed again if the write fails.</summary>
    public void WriteAtomically(string path, ReadOnlySpan<byte> bytes)
    {
        string temp = $"{path}.tmp-{Environment.ProcessId}";
        try
        {
            using (var stream = Create(temp)) stream.Write(bytes);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Deletes a file if it can; a leftover is not worth failing for.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>Says what an <see cref="IOException"/> from writing a run's files means, in words a user acts on.</summary>
internal static class DiskProblem
{
    // .NET's IOException.HResult on Unix is the errno.
    private const int NoSpace = 28, QuotaExceeded = 122, ReadOnly = 30, TooManyOpenFiles = 24, TooManyOpenFilesInSystem = 23;

    /// <summary>Whether the exception is about the disk (or the permissions on it) rather than a bug.</summary>
    public static bool Is(Exception e) => e is IOException or UnauthorizedAccessException;

    /// <summary>Whether the failure passes by itself (a full descriptor table); a full or read-only disk does not.</summary>
    public static bool Passes(Exception e) => e is IOException { HResult: TooManyOpenFiles or TooManyOpenFilesInSystem };

    /// <summary>"cannot write 'path': the disk is full (No space left on device)".</summary>
    public static string Describe(string path, Exception e)
    {
        string what = e switch
        {
            IOException { HResult: NoSpace or QuotaExceeded } => "the disk is full",
            IOException { HResult: ReadOnly } => "the disk is read-only",
            IOException { HResult: TooManyOpenFiles or TooManyOpenFilesInSystem } => "the process is out of file descriptors",
            UnauthorizedAccessException => "no permission",
            _ => "an I/O error",
        };
        return $"cannot write '{path}': {what} ({e.Message.TrimEnd('.')})";
    }
}
