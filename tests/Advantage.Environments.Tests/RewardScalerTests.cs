namespace Advantage.Environments.Tests;

/// <summary>RewardScaler: hand-computed steps, episode boundaries, and the unit-variance goal.</summary>
public class RewardScalerTests
{
    [Fact]
    public void FirstStepByHand()
    {
        // K = 2, gamma 0.5. Returns [1, 2]: batch mean 1.5, var 0.25, n 2, folded into (mean 0, var 1, count 1e-4).
        var scaler = new RewardScaler(2, new RewardScalerOptions(Gamma: 0.5));
        float[] rewards = [1f, 2f];
        scaler.Scale(rewards, [false, false], [false, false]);
        double total = 2.0001;
        double var = (1e-4 * 1.0 + 0.25 * 2 + 1.5 * 1.5 * 1e-4 * 2 / total) / total;
        Assert.Equal(var, scaler.Statistics.Var[0], 15);
        Assert.Equal(1.5 * 2 / total, scaler.Statistics.Mean[0], 15);
        Assert.Equal((float)(1 / Math.Sqrt(var + 1e-8)), rewards[0]);
        Assert.Equal((float)(2 / Math.Sqrt(var + 1e-8)), rewards[1]);
        Assert.Equal([1.0, 2.0], scaler.Returns);
        Assert.Equal(Math.Sqrt(var + 1e-8), scaler.Divisor, 15);
    }

    [Fact]
    public void ReturnsAccumulateAndRestartAfterTerminationOrTruncation()
    {
        var scaler = new RewardScaler(3, new RewardScalerOptions(0.5, 1e-8));
        scaler.Scale([1f, 1f, 1f], [false, false, false], [false, false, false]);
        Assert.Equal([1.0, 1.0, 1.0], scaler.Returns);

        // Env 0 terminates and env 1 is truncated on this step: their returns include the step, then restart.
        var statsBefore = scaler.Statistics.Snapshot();
        scaler.Scale([2f, 2f, 2f], [true, false, false], [false, true, false]);
        var expectedStats = new RunningMeanStd(statsBefore);
        expectedStats.Update([2.5, 2.5, 2.5], 3); // the terminal step's return still counts
        Assert.Equal(expectedStats.Snapshot(), scaler.Statistics.Snapshot());
        Assert.Equal([0.0, 0.0, 2.5], scaler.Returns);

        scaler.Scale([4f, 4f, 4f], [false, false, false], [false, false, false]);
        Assert.Equal([4.0, 4.0, 5.25], scaler.Returns);
    }

    [Fact]
    public void RewardsAreDividedNeverShifted()
    {
        var scaler = new RewardScaler(1);
        for (int t = 0; t < 50; t++) scaler.Scale(0, 5.0, false, false);
        Assert.Equal(0.0, scaler.Scale(0, 0.0, false, false));
        Assert.True(scaler.Scale(0, -1.0, false, false) < 0);
    }

    [Fact]
    public void SingleEnvironmentStepsFollowGymnasiumsFormulaWithinAnEpisode()
    {
        // Gymnasium NormalizeReward: ret = ret * gamma + r; rms.update([ret]); r / sqrt(var + eps).
        var scaler = new RewardScaler(1, new RewardScalerOptions(0.9));
        var random = new SeededRandom(3);
        double ret = 0, mean = 0, var = 1, count = 1e-4;
        for (int t = 0; t < 200; t++)
        {
            double r = random.Uniform(-2, 3);
            ret = ret * 0.9 + r;
            double delta = ret - mean, total = count + 1;
            double m2 = var * count + 0.0 * 1 + delta * delta * count * 1 / total;
            mean += delta * 1 / total;
            var = m2 / total;
            count = total;
            Assert.Equal(r / Math.Sqrt(var + 1e-8), scaler.Scale(0, r, false, false), 12);
        }
    }

    [Fact]
    public void ScaledDiscountedReturnsHaveRoughlyUnitVariance()
    {
        // Rewards of scale 100 in episodes of 40 steps across 4 environments; after warm-up the
        // discounted return of the scaled rewards should have variance near 1 (Engstrom et al.'s aim).
        const int k = 4;
        var scaler = new RewardScaler(k, new RewardScalerOptions(0.99));
        var random = new SeededRandom(11);
        var shadow = new double[k];
        double sum = 0, sumSq = 0;
        int n = 0;
        var rewards = new float[k];
        var terminated = new bool[k];
        var truncated = new bool[k];
        for (int t = 0; t < 40_000; t++)
        {
            for (int i = 0; i < k; i++)
            {
                rewards[i] = (float)(random.Uniform(0, 200) - 50);
                terminated[i] = (t + 10 * i) % 40 == 39;
            }
            scaler.Scale(rewards, terminated, truncated);
            for (int i = 0; i < k; i++)
            {
                shadow[i] = shadow[i] * 0.99 + rewards[i];
                if (t >= 4_000)
                {
                    sum += shadow[i];
                    sumSq += shadow[i] * shadow[i];
                    n++;
                }
                if (terminated[i]) shadow[i] = 0;
            }
        }
        double variance = sumSq / n - (sum / n) * (sum / n);
        Assert.InRange(variance, 0.8, 1.2);
    }

    [Fact]
    public void FrozenStatisticsAreLeftAloneAndRestoredOnesAreUsed()
    {
        var owner = new RunningMeanStd(1);
        owner.Update([10.0, -10.0], 2);
        var scaler = new RewardScaler(2) { UpdateStatistics = false };
        scaler.Statistics.Restore(owner.Snapshot());
        float[] rewards = [1f, 3f];
        scaler.Scale(rewards, [false, false], [false, false]);
        Assert.Equal(owner.Snapshot(), scaler.Statistics.Snapshot());
        Assert.Equal((float)(1 / Math.Sqrt(owner.Var[0] + 1e-8)), rewards[0]);
        Assert.Equal([1.0, 3.0], scaler.Returns); // returns still run
        scaler.ResetReturns();
        Assert.Equal([0.0, 0.0], scaler.Returns);
    }

    [Fact]
    public void OptionsAndArgumentsAreValidated()
    {
        Assert.Equal(0.99, RewardScalerOptions.Default.Gamma);
        Assert.Equal(1e-8, RewardScalerOptions.Default.Epsilon);
        Assert.Equal(new RewardScalerOptions(0.9, 1e-8), RewardScalerOptions.Default.WithGamma(0.9));
        Assert.Equal(new RewardScalerOptions(0.99, 1e-6), RewardScalerOptions.Default.WithEpsilon(1e-6));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RewardScalerOptions(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RewardScalerOptions(0.9, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RewardScaler(0));
        var scaler = new RewardScaler(2);
        Assert.Throws<ArgumentException>(() => scaler.Scale(new float[3], new bool[2], new bool[2]));
        Assert.Throws<ArgumentException>(() => scaler.Scale(new float[2], new bool[1], new bool[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => scaler.Scale(2, 1.0, false, false));
    }

    [Fact]
    public void ScalingAllocatesNothing()
    {
        var scaler = new RewardScaler(8);
        var rewards = new float[8];
        var flags = new bool[8];
        scaler.Scale(rewards, flags, flags);
        scaler.Scale(0, 1.0, false, false);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            rewards.AsSpan().Fill(1f);
            scaler.Scale(rewards, flags, flags);
            scaler.Scale(i % 8, 1.0, i % 7 == 0, false);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
