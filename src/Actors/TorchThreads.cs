using TorchSharp;

namespace Advantage.Actors;

/// <summary>
/// Small networks run fastest with one intra-op thread: the work per call is tiny and thread hand-offs
/// cost more than they save, and workers and the learner already run in parallel on their own threads.
/// </summary>
internal static class TorchThreads
{
    private static int configured;

    public static void UseOne()
    {
        if (Interlocked.Exchange(ref configured, 1) == 0)
        {
            torch.set_num_threads(1);
            torch.set_num_interop_threads(1);
        }
    }
}
