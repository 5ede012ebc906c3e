namespace Advantage.Environments.Tests;

/// <summary>RunningMeanStd, NormalizerState and ObservationNormalizer against values computed by hand or in two passes.</summary>
public class NormalizationTests
{
    private static float[] RandomBatch(int rows, int size, int seed)
    {
        var random = new SeededRandom(seed);
        var data = new float[rows * size];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < size; i++)
                data[r * size + i] = (float)(random.Uniform(-1, 1) * (i + 1) * 3 + i * 10 - 5); // each column its own scale and offset
        return data;
    }

    /// <summary>Textbook two-pass population mean and variance per column, in double.</summary>
    private static (double[] Mean, double[] Var) TwoPass(float[] data, int size)
    {
        int rows = data.Length / size;
        var mean = new double[size];
        var var = new double[size];
        for (int i = 0; i < size; i++)
        {
            double m = 0;
            for (int r = 0; r < rows; r++) m += data[r * size + i];
            m /= rows;
            double v = 0;
            for (int r = 0; r < rows; r++) v += (data[r * size + i] - m) * (data[r * size + i] - m);
            mean[i] = m;
            var[i] = v / rows;
        }
        return (mean, var);
    }

    private static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double relative)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * Math.Max(1.0, Math.Abs(expected[i])),
                $"[{i}] expected {expected[i]:R}, got {actual[i]:R}");
    }

    [Fact]
    public void StartsAtMeanZeroVarianceOneCountEpsilon()
    {
        var rms = new RunningMeanStd(3);
        Assert.Equal([0.0, 0.0, 0.0], rms.Mean);
        Assert.Equal([1.0, 1.0, 1.0], rms.Var);
        Assert.Equal(1e-4, rms.Count);
        Assert.Equal(NormalizerState.Initial(3), rms.Snapshot());
    }

    [Fact]
    public void OneUpdateMatchesGymnasiumsFormulaByHand()
    {
        // Batch [1, 3]: mean 2, var 1, n 2. With count 1e-4, mean 0, var 1:
        // delta 2, total 2.0001, mean 2*2/2.0001, M2 = 1e-4 + 2 + 4 * 1e-4 * 2 / 2.0001, var = M2 / 2.0001.
        var rms = new RunningMeanStd(1);
        rms.Update([1f, 3f], 2);
        double total = 2.0001;
        Assert.Equal(4.0 / total, rms.Mean[0], 15);
        Assert.Equal((1e-4 + 2 + 4 * 1e-4 * 2 / total) / total, rms.Var[0], 15);
        Assert.Equal(total, rms.Count, 15);
    }

    [Fact]
    public void UpdatesInBatchesMatchATwoPassOverAllTheData()
    {
        const int size = 5;
        float[] data = RandomBatch(1000, size, 1);
        (double[] mean, double[] var) = TwoPass(data, size);

        var rms = new RunningMeanStd(size, epsilon: 0.0);
        foreach (int rows in new[] { 1, 7, 64, 128, 300, 500 })
        {
            int start = new[] { 1, 7, 64, 128, 300, 500 }.TakeWhile(r => r != rows).Sum();
            rms.Update(data.AsSpan(start * size, rows * size), rows);
        }
        Assert.Equal(1000.0, rms.Count);
        AssertClose(mean, rms.Mean, 1e-12);
        AssertClose(var, rms.Var, 1e-12);

        // With the default epsilon the prior (mean 0, var 1) weighs 1e-4 of a sample against 1000, so the
        // variance moves by about 1e-4 * (1 + mean^2) / 1000 (about 1e-5 relative here for means up to 40).
        var withPrior = new RunningMeanStd(size);
        withPrior.Update(data, 1000);
        AssertClose(mean, withPrior.Mean, 1e-5);
        AssertClose(var, withPrior.Var, 1e-5);
    }

    [Fact]
    public void MergingTwoHalvesEqualsOnePass()
    {
        const int size = 4;
        float[] data = RandomBatch(600, size, 2);
        var whole = new RunningMeanStd(size, 0.0);
        whole.Update(data, 600);

        var first = new RunningMeanStd(size, 0.0);
        var second = new RunningMeanStd(size, 0.0);
        first.Update(data.AsSpan(0, 250 * size), 250);
        second.Update(data.AsSpan(250 * size), 350);
        first.Merge(second.Snapshot());
        Assert.Equal(600.0, first.Count);
        AssertClose(whole.Mean, first.Mean, 1e-12);
        AssertClose(whole.Var, first.Var, 1e-12);

        // Default epsilons: counts add (both priors), and the statistics agree to the prior's weight.
        var a = new RunningMeanStd(size);
        var b = new RunningMeanStd(size);
        a.Update(data.AsSpan(0, 250 * size), 250);
        b.Update(data.AsSpan(250 * size), 350);
        a.Merge(b.Snapshot());
        Assert.Equal(600.0002, a.Count, 9);
        AssertClose(whole.Mean, a.Mean, 1e-5);
        AssertClose(whole.Var, a.Var, 1e-5);
    }

    [Fact]
    public void DoubleAndFloatBatchesAgree()
    {
        float[] data = RandomBatch(50, 2, 3);
        var f = new RunningMeanStd(2);
        var d = new RunningMeanStd(2);
        f.Update(data, 50);
        d.Update(data.Select(x => (double)x).ToArray(), 50);
        Assert.Equal(f.Snapshot(), d.Snapshot());
    }

    [Fact]
    public void SnapshotIsACopyAndRestoreContinuesExactly()
    {
        float[] data = RandomBatch(40, 3, 4);
        var rms = new RunningMeanStd(3);
        rms.Update(data.AsSpan(0, 60), 20);
        NormalizerState snapshot = rms.Snapshot();
        double[] meanBefore = snapshot.Mean.ToArray();
        rms.Update(data.AsSpan(60), 20);
        Assert.Equal(meanBefore, snapshot.Mean); // the snapshot did not move with the statistics

        var restored = new RunningMeanStd(snapshot);
        restored.Update(data.AsSpan(60), 20);
        Assert.Equal(rms.Snapshot(), restored.Snapshot());

        var other = new RunningMeanStd(3);
        other.Restore(rms.Snapshot());
        Assert.Equal(rms.Snapshot(), other.Snapshot());
    }

    [Fact]
    public void UpdateAndMergeAllocateNothing()
    {
        float[] data = RandomBatch(32, 8, 5);
        var rms = new RunningMeanStd(8);
        NormalizerState other = new RunningMeanStd(8).Snapshot();
        rms.Update(data, 32);
        rms.Merge(other);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            rms.Update(data, 32);
            rms.Merge(other);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        var rms = new RunningMeanStd(3);
        Assert.Throws<ArgumentException>(() => rms.Update(new float[7], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => rms.Update(new float[0], -1));
        Assert.Throws<ArgumentException>(() => rms.Merge(NormalizerState.Initial(2)));
        Assert.Throws<ArgumentException>(() => rms.Restore(NormalizerState.Initial(4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RunningMeanStd(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RunningMeanStd(2, -1));
        Assert.Throws<ArgumentException>(() => new NormalizerState([0.0], [1.0, 1.0], 1));
        Assert.Throws<ArgumentException>(() => new NormalizerState([0.0], [-1.0], 1));
        Assert.Throws<ArgumentException>(() => new NormalizerState([double.NaN], [1.0], 1));
        Assert.Throws<ArgumentException>(() => new NormalizerState([], [], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NormalizerState([0.0], [1.0], -1));
        rms.Update(new float[0], 0); // an empty batch changes nothing
        Assert.Equal(1e-4, rms.Count);
    }

    [Fact]
    public void NormalizerStateCopiesItsInputAndComparesByContent()
    {
        double[] mean = [1, 2];
        var state = new NormalizerState(mean, [3, 4], 5);
        mean[0] = 99;
        Assert.Equal(1.0, state.Mean[0]);
        Assert.Equal(new NormalizerState([1, 2], [3, 4], 5), state);
        Assert.NotEqual(new NormalizerState([1, 2], [3, 4], 6), state);
        Assert.NotEqual(new NormalizerState([1, 2], [3, 4.5], 5), state);
        Assert.Equal(2, state.Size);
    }

    [Fact]
    public void ObservationNormalizerComputesClippedStandardScoresByHand()
    {
        var state = new NormalizerState([1.0, -2.0, 0.0], [4.0, 0.25, 0.0], 10);
        var normalizer = new ObservationNormalizer(state);
        float[] batch = [3f, -2f, 0f, /* row 2 */ -1f, 0f, 1f];
        normalizer.Normalize(batch);
        float[] expected =
        [
            (float)(2.0 / Math.Sqrt(4 + 1e-8)), 0f, 0f,
            (float)(-2.0 / Math.Sqrt(4 + 1e-8)), (float)(2.0 / Math.Sqrt(0.25 + 1e-8)), 10f, // 1 / 1e-4 = 1e4 is clipped
        ];
        Assert.Equal(expected, batch);

        var unclipped = new ObservationNormalizer(state, epsilon: 1e-8, clip: double.PositiveInfinity);
        float[] single = [1f, -2f, 1f];
        unclipped.Normalize(single);
        Assert.Equal([0f, 0f, (float)(1 / Math.Sqrt(1e-8))], single);

        float[] source = [3f, -2f, -5f];
        var destination = new float[3];
        normalizer.Normalize(source, destination);
        Assert.Equal([3f, -2f, -5f], source);
        Assert.Equal([(float)(2.0 / Math.Sqrt(4 + 1e-8)), 0f, -10f], destination);
    }

    [Fact]
    public void ObservationNormalizerWithFreshStatisticsIsTheIdentityUpToEpsilon()
    {
        var normalizer = new ObservationNormalizer(NormalizerState.Initial(2));
        float[] x = [0.5f, -3f];
        normalizer.Normalize(x);
        Assert.Equal(0.5f, x[0], 6);
        Assert.Equal(-3f, x[1], 6);
    }

    [Fact]
    public void ObservationNormalizerRejectsBadInputAndAllocatesNothing()
    {
        var normalizer = new ObservationNormalizer(NormalizerState.Initial(3));
        Assert.Throws<ArgumentException>(() => normalizer.Normalize(new float[4]));
        Assert.Throws<ArgumentException>(() => normalizer.Normalize(new float[3], new float[6]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ObservationNormalizer(NormalizerState.Initial(3), clip: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ObservationNormalizer(NormalizerState.Initial(3), epsilon: -1));
        var buffer = new float[300];
        normalizer.Normalize(buffer);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) normalizer.Normalize(buffer);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
