namespace Advantage.Actors;

/// <summary>Derives independent seeds from the run's one seed, so a run is reproducible from it alone.</summary>
internal static class Seeds
{
    /// <summary>SplitMix64 of (seed, stream): neighbouring streams get unrelated seeds.</summary>
    public static int Derive(int seed, int stream)
    {
        ulong z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)stream * 0xBF58476D1CE4E5B9UL + 0x94D049BB133111EBUL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x3FFFFFFF);
    }
}
