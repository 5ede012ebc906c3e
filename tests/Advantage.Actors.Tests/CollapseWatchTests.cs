
namespace Advantage.Actors.Tests;

public class CollapseWatchTests
{
    [Fact]
    public void Entropy_near_zero_while_returns_fall_is_a_collapse_and_is_reported_once()
    {
        var watch = new CollapseWatch();
        for (int i = 0; i < 100; i++) Assert.False(watch.Observe(i * 256, 20 + 4 * i, 0.4));
        // Returns fall with a healthy entropy: not a collapse.
        for (int i = 0; i < 50; i++) Assert.False(watch.Observe(30_000 + i * 256, 300 - 5 * i, 0.4));
        Assert.Null(watch.Collapse);
        int noticed = 0;
        for (int i = 0; i < 40; i++)
            if (watch.Observe(50_000 + i * 256, 9.3, 4e-6)) noticed++;
        Assert.Equal(1, noticed);
        var c = Assert.NotNull(watch.Collapse);
        Assert.Equal(416.0, c.BestMeanReturn);
        Assert.Equal(9.3, c.MeanReturn);
        Assert.Equal(50_000 + (CollapseWatch.Patience - 1) * 256, c.Steps);
        Assert.Contains("collapsed", watch.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_solved_deterministic_policy_is_not_a_collapse()
    {
        var watch = new CollapseWatch();
        for (int i = 0; i < 200; i++) Assert.False(watch.Observe(i * 256, Math.Min(500, 10 + 5 * i), i < 100 ? 0.5 : 0.001));
        Assert.Null(watch.Collapse);
        Assert.Equal("", watch.Describe());
    }
}
