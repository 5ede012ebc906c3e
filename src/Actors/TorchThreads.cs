using TorchSharp;

namespace Advantage.Actors;

/// <summary>
/// Small networks run fastest with one intra-op thread: the work per call is tiny and thread hand-offs
/// cost more than they save, and workers and the learner already run in parallel on their own threads.
/// </summary>
/// <remarks>
/// The intra-op setting is per calling thread (OpenMP keeps the thread count in each thread's own
/// environment), so every actor thread that runs torch sets it for itself; setting it once per process
/// left later actors' threads at the default, and a learner then summed in a different order depending on
/// which thread it happened to get, which broke bit-for-bit reproducibility (and exact resume). The
/// inter-op pool is process-wide and can be set only once.
/// </remarks>
internal static class TorchThreads
{
    private static int interopConfigured;

    [ThreadStatic]
    private static bool threadConfigured;

    public static void UseOne()
    {
        if (!threadConfigured)
        {
            torch.set_num_threads(1);
            threadConfigured = true;
        }
        if (Interlocked.Exchange(ref interopConfigured, 1) == 0)
        {
            try
            {
                torch.set_num_interop_threads(1);
            }
            catch (Exception)
            {
                // Already fixed by earlier torch work in this process (the host used torch first): keep its value.
            }
        }
    }
}
