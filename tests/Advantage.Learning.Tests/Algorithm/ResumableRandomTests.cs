namespace Advantage.Learning.Tests.Algorithm;

/// <summary>The policy's sampler draws System.Random's seeded stream, and its saved state continues it exactly.</summary>
public class ResumableRandomTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-7)]
    [InlineData(123456789)]
    [InlineData(int.MaxValue)]
    [InlineData(int.MinValue)]
    public void It_draws_System_Randoms_seeded_stream_and_a_restored_copy_continues_it(int seed)
    {
        var reference = new Random(seed);
        var ours = new ResumableRandom(seed);
        for (int i = 0; i < 100_000; i++) Assert.Equal(reference.NextDouble(), ours.NextDouble());
        var copy = new ResumableRandom(99);
        copy.Restore(ours.Save());
        for (int i = 0; i < 10_000; i++)
        {
            double expected = reference.NextDouble();
            Assert.Equal(expected, ours.NextDouble());
            Assert.Equal(expected, copy.NextDouble());
        }
    }
}
