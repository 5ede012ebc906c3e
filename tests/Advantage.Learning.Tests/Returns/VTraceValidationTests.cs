namespace Advantage.Learning.Tests.Returns;

using Returns = Advantage.Learning.Returns;

/// <summary>V-trace refuses bad input like GAE does: the argument's name and the allowed range, before any output is written.</summary>
public class VTraceValidationTests
{
    // T = 2, N = 2
    private static float[] F(int n, float v = 1) => Enumerable.Repeat(v, n).ToArray();
    private static bool[] B(int n) => new bool[n];

    private static void VTrace(float[]? logRhos = null, float[]? r = null, float[]? v = null, float[]? boot = null,
        bool[]? term = null, bool[]? trunc = null, float[]? fin = null, int steps = 2, int envs = 2,
        double gamma = 0.9, double lambda = 1.0, double? rhoBar = 1.0, double? cBar = 1.0, double? pgRhoBar = 1.0,
        float[]? vs = null, float[]? pg = null) =>
        Returns.VTrace(logRhos ?? F(4, 0), r ?? F(4), v ?? F(4), boot ?? F(2), term ?? B(4), trunc ?? B(4), fin ?? F(4),
            steps, envs, gamma, lambda, rhoBar, cBar, pgRhoBar, vs ?? new float[4], pg ?? new float[4]);

    private static T Throws<T>(string param, Action call, params string[] mentions) where T : ArgumentException
    {
        var e = Assert.Throws<T>(call);
        Assert.Equal(param, e.ParamName);
        Assert.Contains(param, e.Message);
        foreach (var m in mentions) Assert.Contains(m, e.Message);
        return e;
    }

    [Fact]
    public void ShapeAndDiscounts_AreCheckedLikeGae()
    {
        Throws<ArgumentOutOfRangeException>("steps", () => VTrace(steps: 0), ">= 1");
        Throws<ArgumentOutOfRangeException>("envs", () => VTrace(envs: -1), ">= 1");
        Throws<ArgumentOutOfRangeException>("gamma", () => VTrace(gamma: 1.5), "[0, 1]");
        Throws<ArgumentOutOfRangeException>("lambda", () => VTrace(lambda: double.NaN), "[0, 1]");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.NegativeInfinity)]
    public void ThresholdNotPositive_NamesTheThresholdAndTheRange(double bad)
    {
        Throws<ArgumentOutOfRangeException>("rhoBar", () => VTrace(rhoBar: bad), "> 0", "null for no clipping");
        Throws<ArgumentOutOfRangeException>("cBar", () => VTrace(cBar: bad), "> 0", "null for no clipping");
        Throws<ArgumentOutOfRangeException>("pgRhoBar", () => VTrace(pgRhoBar: bad), "> 0", "null for no clipping");
    }

    [Fact]
    public void NoThresholds_AndTinyOrHugeOnes_AreAccepted()
    {
        VTrace(rhoBar: null, cBar: null, pgRhoBar: null);
        VTrace(rhoBar: 1e-9, cBar: 1e9, pgRhoBar: double.PositiveInfinity, gamma: 0, lambda: 0);
    }

    [Fact]
    public void LogRhos_MustHaveOneFiniteRatioPerStep()
    {
        Throws<ArgumentException>("logRhos", () => VTrace(logRhos: F(3, 0)), "4", "got 3");
        Throws<ArgumentException>("logRhos", () => VTrace(logRhos: [0, 0, float.NegativeInfinity, 0]), "logRhos[2]", "t 1, env 0", "finite");
        Throws<ArgumentException>("logRhos", () => VTrace(logRhos: [float.NaN, 0, 0, 0]), "logRhos[0]", "finite");
    }

    [Fact]
    public void TheRolloutIsCheckedLikeGae()
    {
        Throws<ArgumentException>("rewards", () => VTrace(r: F(5)), "4", "got 5");
        Throws<ArgumentException>("values", () => VTrace(v: [1, float.NaN, 1, 1]), "values[1]", "finite");
        Throws<ArgumentException>("bootstrapValues", () => VTrace(boot: F(3)), "2", "got 3");
        Throws<ArgumentException>("terminated", () => VTrace(term: B(2)), "got 2");
        Throws<ArgumentException>("truncated", () => VTrace(trunc: B(5)), "got 5");
        Throws<ArgumentException>("finalValues", () => VTrace(trunc: [false, true, false, false], fin: [0, float.NaN, 0, 0]), "finalValues[1]", "finite");
        VTrace(trunc: [false, true, false, false], term: [false, true, false, false], fin: F(4, float.NaN)); // not read: fine
    }

    [Fact]
    public void Outputs_HaveTheRightLengthAndOverlapNothing()
    {
        Throws<ArgumentException>("vs", () => VTrace(vs: new float[3]), "4", "got 3");
        Throws<ArgumentException>("pgAdvantages", () => VTrace(pg: new float[5]), "4", "got 5");
        var values = F(4);
        Throws<ArgumentException>("vs", () => VTrace(v: values, vs: values), "overlap");
        var logRhos = F(4, 0);
        Throws<ArgumentException>("pgAdvantages", () => VTrace(logRhos: logRhos, pg: logRhos), "overlap", "logRhos");
        var buffer = new float[6];
        Throws<ArgumentException>("pgAdvantages", () =>
            Returns.VTrace(F(4, 0), F(4), F(4), F(2), B(4), B(4), F(4), 2, 2, 0.9, 1, 1, 1, 1, buffer.AsSpan(0, 4), buffer.AsSpan(2, 4)),
            "overlap", "vs");
    }

    [Fact]
    public void ArrayApi_ReportsTheSameErrors()
    {
        var ok = new ReturnInputs(2, 2, F(4), F(4), F(2), B(4), B(4), F(4));
        Throws<ArgumentException>("logRhos", () => Returns.VTrace(ok, F(2, 0), 0.9, 1, 1, 1, 1), "got 2");
        Throws<ArgumentException>("rewards", () => Returns.VTrace(ok.WithRewards(F(3)), F(4, 0), 0.9, 1, 1, 1, 1), "got 3");
        Throws<ArgumentOutOfRangeException>("cBar", () => Returns.VTrace(ok, F(4, 0), 0.9, 1, 1, 0, 1), "> 0");
        Assert.Throws<ArgumentNullException>(() => Returns.VTrace(null!, F(4, 0), 0.9, 1, 1, 1, 1));
        Assert.Throws<ArgumentNullException>(() => Returns.VTrace(ok, null!, 0.9, 1, 1, 1, 1));
    }

    [Fact]
    public void FailedCall_LeavesTheOutputsUntouched()
    {
        var vs = F(4, 42);
        var pg = F(4, 42);
        Assert.Throws<ArgumentOutOfRangeException>(() => VTrace(pgRhoBar: 0, vs: vs, pg: pg));
        Assert.Throws<ArgumentException>(() => VTrace(logRhos: [0, 0, 0, float.NaN], vs: vs, pg: pg));
        Assert.All(vs, x => Assert.Equal(42f, x));
        Assert.All(pg, x => Assert.Equal(42f, x));
    }

    [Fact]
    public void TheSpanVersion_AllocatesNothing()
    {
        float[] logRhos = [0.1f, -0.2f, 0.3f, 0f], r = F(4), v = F(4), boot = F(2), fin = F(4), vs = new float[4], pg = new float[4];
        bool[] term = [false, true, false, false], trunc = [false, false, true, false];
        Returns.VTrace(logRhos, r, v, boot, term, trunc, fin, 2, 2, 0.9, 0.95, 1.0, null, 1.0, vs, pg); // warm up (JIT)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int k = 0; k < 100; k++)
            Returns.VTrace(logRhos, r, v, boot, term, trunc, fin, 2, 2, 0.9, 0.95, 1.0, null, 1.0, vs, pg);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
