namespace Advantage.Learning.Tests.Returns;

using Returns = Advantage.Learning.Returns;

/// <summary>Bad input fails fast with the argument's name and the allowed range, before any output is written.</summary>
public class ReturnValidationTests
{
    // T = 2, N = 2
    private static float[] F(int n, float v = 1) => Enumerable.Repeat(v, n).ToArray();
    private static bool[] B(int n) => new bool[n];

    private static void NStep(float[] r, float[] v, float[] boot, bool[] term, bool[] trunc, float[] fin,
        int steps = 2, int envs = 2, double gamma = 0.9, float[]? output = null) =>
        Returns.NStep(r, v, boot, term, trunc, fin, steps, envs, gamma, output ?? new float[4]);

    private static void Gae(float[] r, float[] v, float[] boot, bool[] term, bool[] trunc, float[] fin,
        int steps = 2, int envs = 2, double gamma = 0.9, double lambda = 0.95, float[]? advantages = null, float[]? returns = null) =>
        Returns.Gae(r, v, boot, term, trunc, fin, steps, envs, gamma, lambda, advantages ?? new float[4], returns ?? new float[4]);

    private static T Throws<T>(string param, Action call, params string[] mentions) where T : ArgumentException
    {
        var e = Assert.Throws<T>(call);
        Assert.Equal(param, e.ParamName);
        Assert.Contains(param, e.Message);
        foreach (var m in mentions) Assert.Contains(m, e.Message);
        return e;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void StepsBelowOne_NamesStepsAndTheRange(int steps)
    {
        Throws<ArgumentOutOfRangeException>("steps", () => NStep(F(4), F(4), F(2), B(4), B(4), F(4), steps: steps), ">= 1");
        Throws<ArgumentOutOfRangeException>("steps", () => Gae(F(4), F(4), F(2), B(4), B(4), F(4), steps: steps), ">= 1");
    }

    [Fact]
    public void EnvsBelowOne_NamesEnvsAndTheRange() =>
        Throws<ArgumentOutOfRangeException>("envs", () => NStep(F(4), F(4), F(2), B(4), B(4), F(4), envs: 0), ">= 1");

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void GammaOutsideUnitInterval_NamesGammaAndTheRange(double gamma)
    {
        Throws<ArgumentOutOfRangeException>("gamma", () => NStep(F(4), F(4), F(2), B(4), B(4), F(4), gamma: gamma), "[0, 1]");
        Throws<ArgumentOutOfRangeException>("gamma", () => Gae(F(4), F(4), F(2), B(4), B(4), F(4), gamma: gamma), "[0, 1]");
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(2.0)]
    [InlineData(double.NaN)]
    public void LambdaOutsideUnitInterval_NamesLambdaAndTheRange(double lambda) =>
        Throws<ArgumentOutOfRangeException>("lambda", () => Gae(F(4), F(4), F(2), B(4), B(4), F(4), lambda: lambda), "[0, 1]");

    [Fact]
    public void GammaAndLambdaAtTheEndsOfTheRange_AreAccepted()
    {
        Gae(F(4), F(4), F(2), B(4), B(4), F(4), gamma: 0, lambda: 0);
        Gae(F(4), F(4), F(2), B(4), B(4), F(4), gamma: 1, lambda: 1);
    }

    [Fact]
    public void LengthMismatch_NamesTheSpanAndTheExpectedLength()
    {
        Throws<ArgumentException>("rewards", () => NStep(F(3), F(4), F(2), B(4), B(4), F(4)), "4", "got 3");
        Throws<ArgumentException>("values", () => NStep(F(4), F(5), F(2), B(4), B(4), F(4)), "4", "got 5");
        Throws<ArgumentException>("bootstrapValues", () => NStep(F(4), F(4), F(4), B(4), B(4), F(4)), "2", "got 4");
        Throws<ArgumentException>("terminated", () => NStep(F(4), F(4), F(2), B(2), B(4), F(4)), "4", "got 2");
        Throws<ArgumentException>("truncated", () => NStep(F(4), F(4), F(2), B(4), B(0), F(4)), "4", "got 0");
        Throws<ArgumentException>("finalValues", () => NStep(F(4), F(4), F(2), B(4), B(4), F(1)), "4", "got 1");
        Throws<ArgumentException>("returns", () => NStep(F(4), F(4), F(2), B(4), B(4), F(4), output: new float[3]), "4", "got 3");
        Throws<ArgumentException>("advantages", () => Gae(F(4), F(4), F(2), B(4), B(4), F(4), advantages: new float[5]), "4", "got 5");
        Throws<ArgumentException>("returns", () => Gae(F(4), F(4), F(2), B(4), B(4), F(4), returns: new float[5]), "4", "got 5");
    }

    [Fact]
    public void NonFiniteInput_NamesTheSpanAndTheElement()
    {
        Throws<ArgumentException>("rewards", () => NStep([1, 1, float.NaN, 1], F(4), F(2), B(4), B(4), F(4)), "rewards[2]", "t 1, env 0", "finite");
        Throws<ArgumentException>("values", () => Gae(F(4), [1, float.PositiveInfinity, 1, 1], F(2), B(4), B(4), F(4)), "values[1]", "finite");
        Throws<ArgumentException>("bootstrapValues", () => NStep(F(4), F(4), [0, float.NegativeInfinity], B(4), B(4), F(4)), "bootstrapValues[1]", "finite");
        Throws<ArgumentException>("finalValues", () => Gae(F(4), F(4), F(2), B(4), [false, false, false, true], [0, 0, 0, float.NaN]), "finalValues[3]", "finite");
    }

    [Fact]
    public void NonFiniteFinalValue_IsFineWhereItIsNotRead()
    {
        // not truncated, or truncated and terminated: the final value is never read
        float[] fin = [float.NaN, float.NaN, float.NaN, float.NaN];
        var returns = new float[4];
        Returns.NStep(F(4), F(4), F(2), [false, true, false, false], [false, true, false, false], fin, 2, 2, 0.9, returns);
        Assert.All(returns, x => Assert.True(float.IsFinite(x)));
        Gae(F(4), F(4), F(2), [false, true, false, false], [false, true, false, false], fin);
    }

    [Fact]
    public void OutputOverlappingAnInput_IsRefused()
    {
        var values = F(4);
        Throws<ArgumentException>("returns", () => Returns.NStep(F(4), values, F(2), B(4), B(4), F(4), 2, 2, 0.9, values), "overlap");
        var buffer = new float[6];
        Throws<ArgumentException>("returns", () =>
            Returns.Gae(F(4), F(4), F(2), B(4), B(4), F(4), 2, 2, 0.9, 0.9, buffer.AsSpan(0, 4), buffer.AsSpan(2, 4)), "overlap", "advantages");
    }

    [Fact]
    public void ArrayApi_ReportsTheSameErrors()
    {
        var ok = new ReturnInputs(2, 2, F(4), F(4), F(2), B(4), B(4), F(4));
        Throws<ArgumentException>("rewards", () => Returns.NStep(ok.WithRewards(F(3)), 0.9), "got 3");
        Throws<ArgumentOutOfRangeException>("steps", () => Returns.NStep(ok with { Steps = 0 }, 0.9), ">= 1");
        Throws<ArgumentOutOfRangeException>("lambda", () => Returns.Gae(ok, 0.9, -1), "[0, 1]");
        Assert.Throws<ArgumentNullException>(() => Returns.NStep(null!, 0.9));
    }

    [Fact]
    public void FailedCall_LeavesTheOutputUntouched()
    {
        var returns = F(4, 42);
        Assert.Throws<ArgumentException>(() => Returns.NStep([1, 1, 1, float.NaN], F(4), F(2), B(4), B(4), F(4), 2, 2, 0.9, returns));
        Assert.All(returns, x => Assert.Equal(42f, x));
    }
}
