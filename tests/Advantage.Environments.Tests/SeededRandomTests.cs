namespace Advantage.Environments.Tests;

public class SeededRandomTests
{
    [Fact]
    public void SameSeedSameStreamAndReseedRestarts()
    {
        var a = new SeededRandom(9);
        var b = new SeededRandom(9);
        ulong[] first = [a.NextUInt64(), a.NextUInt64(), a.NextUInt64()];
        Assert.Equal(first, new[] { b.NextUInt64(), b.NextUInt64(), b.NextUInt64() });
        a.Reseed(9);
        Assert.Equal(first[0], a.NextUInt64());
        Assert.NotEqual(first[0], new SeededRandom(10).NextUInt64());
    }

    [Fact]
    public void KnownFirstValueKeepsRunsReproducibleAcrossVersions()
    {
        // SplitMix64 from state 0: the published first output. Changing the generator changes every
        // seeded episode, so this pins it.
        Assert.Equal(0xE220A8397B1DCDAFUL, new SeededRandom(0).NextUInt64());
    }

    [Fact]
    public void UniformStaysInItsHalfOpenIntervalAndCoversIt()
    {
        var rng = new SeededRandom(1);
        double min = double.MaxValue, max = double.MinValue, sum = 0;
        const int n = 100_000;
        for (int i = 0; i < n; i++)
        {
            double v = rng.Uniform(-0.05, 0.05);
            Assert.True(v >= -0.05 && v < 0.05);
            min = Math.Min(min, v);
            max = Math.Max(max, v);
            sum += v;
        }
        Assert.True(min < -0.0499 && max > 0.0499);
        Assert.InRange(sum / n, -0.001, 0.001);
    }

    [Fact]
    public void NextIsUnbiasedEnoughAndInRange()
    {
        var rng = new SeededRandom(2);
        var counts = new int[3];
        for (int i = 0; i < 30_000; i++) counts[rng.Next(3)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.Next(0));
        Assert.Equal(0, rng.Next(1));
    }
}
