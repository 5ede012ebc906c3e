namespace Advantage.Environments;

/// <summary>
/// A small, fast, deterministic random source (SplitMix64) for environments' reset distributions.
/// </summary>
/// <remarks>
/// For environments with no Gymnasium episode to reproduce (MinAtar Breakout, whose original draws from
/// NumPy's <c>RandomState</c>) and for tests; the classic-control environments use
/// <see cref="NumPyRandom"/> so a seed starts Gymnasium's episode. What matters here is that a seed fully
/// determines an environment's episodes on every platform and runtime, which <see cref="System.Random"/>
/// does not promise across .NET versions. It is a class (not a struct) so
/// that an environment's stream cannot be forked by an accidental copy. Not thread-safe: each
/// environment owns one.
/// </remarks>
public sealed class SeededRandom
{
    /// <summary>
    /// The seed used before any explicit seeding, so an environment nobody seeded still replays the
    /// same episodes run after run.
    /// </summary>
    public const int DefaultSeed = 0;

    private ulong state;

    /// <summary>Creates a generator positioned at the start of <paramref name="seed"/>'s stream.</summary>
    public SeededRandom(int seed = DefaultSeed) => Reseed(seed);

    /// <summary>
    /// Restarts the stream from <paramref name="seed"/>; what <c>Reset(seed)</c> calls so that equal
    /// seeds give equal episodes.
    /// </summary>
    public void Reseed(int seed) => state = unchecked((ulong)(uint)seed);

    /// <summary>The generator's whole state (SplitMix64's counter), so a saved environment can bring its stream back (<see cref="Restore"/>).</summary>
    public ulong State => state;

    /// <summary>Continues the stream from a <see cref="State"/> read earlier.</summary>
    public void Restore(ulong state) => this.state = state;

    /// <summary>The next 64 uniformly distributed bits; the primitive every other draw is built on.</summary>
    public ulong NextUInt64()
    {
        unchecked
        {
            ulong z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>A double uniform in [0, 1) with 53 random bits, as NumPy's <c>random()</c>.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>
    /// A double uniform in [<paramref name="low"/>, <paramref name="high"/>), computed as NumPy's
    /// <c>uniform</c> does (<c>low + (high - low) * u</c>) so reset distributions have Gymnasium's support.
    /// </summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>
    /// An integer uniform in [0, <paramref name="maxExclusive"/>), without modulo bias, for environments
    /// with discrete randomness (spawn positions, noise choices).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is not positive.</exception>
    public int Next(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        // Lemire's multiply-shift with rejection: unbiased and division-free in the common case.
        ulong range = (ulong)maxExclusive;
        UInt128 product = (UInt128)NextUInt64() * range;
        ulong low = (ulong)product;
        if (low < range)
        {
            ulong threshold = unchecked(0UL - range) % range;
            while (low < threshold)
            {
                product = (UInt128)NextUInt64() * range;
                low = (ulong)product;
            }
        }
        return (int)(product >> 64);
    }
}
