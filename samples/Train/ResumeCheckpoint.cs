using Advantage.Learning;

namespace Advantage.Samples.Train;

/// <summary>Loads a checkpoint to continue training from, or says on stderr why it cannot.</summary>
internal static class ResumeCheckpoint
{
    /// <summary>The training checkpoint at <paramref name="path"/>; null (after printing the reason) when it is unreadable or a bare model.</summary>
    public static Checkpoint? Load(string path)
    {
        Checkpoint saved;
        try
        {
            saved = Checkpoint.Load(path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            Console.Error.WriteLine($"Cannot resume: {e.Message}");
            return null;
        }
        if (!saved.CanResume)
        {
            Console.Error.WriteLine($"Cannot resume: '{path}' is a bare model without optimizer state and counters.");
            return null;
        }
        return saved;
    }
}
