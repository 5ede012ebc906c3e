using System.Globalization;
using System.Text.Json;
using Advantage.Learning.Testing;

namespace Advantage.Learning.Tests.Returns;

using Returns = Advantage.Learning.Returns;

/// <summary>
/// <see cref="Returns.VTrace(ReturnInputs, float[], double, double, double?, double?, double?)"/> against TorchBeast's
/// port of DeepMind's V-trace (Data/torchbeast_vtrace.json, see Data/torchbeast_vtrace.README.md): six random cases
/// with terminations, off-policy ratios and every clipping setting, computed in float32 by PyTorch.
/// </summary>
public class VTraceReferenceTests
{
    private sealed record Case(int Index, ReturnInputs Inputs, float[] LogRhos, double Gamma, double Lambda,
        double? RhoBar, double? PgRhoBar, float[] Vs, float[] PgAdvantages)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"case {Index} (T {Inputs.Steps}, B {Inputs.Envs})");
    }

    private static readonly Lazy<Case[]> Cases = new(Load);

    public static TheoryData<int> CaseIndices()
    {
        var data = new TheoryData<int>();
        for (int k = 0; k < Cases.Value.Length; k++) data.Add(k);
        return data;
    }

    private static Case[] Load()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Data", "torchbeast_vtrace.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select((c, k) =>
        {
            int steps = c.GetProperty("T").GetInt32(), envs = c.GetProperty("B").GetInt32();
            float[] Grid(string name) => c.GetProperty(name).EnumerateArray()
                .SelectMany(row => row.EnumerateArray().Select(x => (float)x.GetDouble())).ToArray();
            double? Bar(string name) => c.GetProperty(name).ValueKind == JsonValueKind.Null ? null : c.GetProperty(name).GetDouble();
            var terminated = Grid("terminated").Select(x => x != 0f).ToArray();
            var inputs = new ReturnInputs(steps, envs, Grid("rewards"), Grid("values"),
                c.GetProperty("bootstrap_value").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray(),
                terminated, new bool[steps * envs], new float[steps * envs]);
            Assert.Equal(steps * envs, inputs.Rewards.Length);
            return new Case(k, inputs, Grid("log_rhos"), c.GetProperty("gamma").GetDouble(), c.GetProperty("lambda_").GetDouble(),
                Bar("clip_rho_threshold"), Bar("clip_pg_rho_threshold"), Grid("vs"), Grid("pg_advantages"));
        }).ToArray();
    }

    [Fact]
    public void TheDataHoldsSixCasesCoveringTerminationsOffPolicyRatiosAndEveryClippingSetting()
    {
        var cases = Cases.Value;
        Assert.Equal(6, cases.Length);
        Assert.Contains(cases, c => c.Inputs.Terminated.Any(x => x));
        Assert.Contains(cases, c => c.LogRhos.Any(x => x != 0f));
        Assert.Contains(cases, c => c.RhoBar is null && c.PgRhoBar is null);
        Assert.Contains(cases, c => c.RhoBar is < 1.0);
        Assert.All(cases, c => Assert.Equal(1.0, c.Lambda));
    }

    /// <summary>
    /// TorchBeast's trace coefficient is <c>min(1, rho)</c> whatever its rho-bar (so c-bar 1, lambda 1). The
    /// bound is the float epsilon times each element's magnitude (<see cref="ReturnTolerance.Bound"/>): our
    /// result is rounded once, and the reference's float32 arithmetic stays within it on these cases
    /// (worst 0.66 of the bound when this was written).
    /// </summary>
    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void VTrace_MatchesTorchBeast_ToFloatPrecision(int index)
    {
        var c = Cases.Value[index];
        var result = Returns.VTrace(c.Inputs, c.LogRhos, c.Gamma, c.Lambda, c.RhoBar, cBar: 1.0, c.PgRhoBar);
        var expected = ReferenceReturns.VTrace(c.Inputs, c.LogRhos, c.Gamma, c.Lambda, c.RhoBar, 1.0, c.PgRhoBar);
        for (int i = 0; i < c.Vs.Length; i++)
        {
            Assert.True(ReturnTolerance.Agree(result.Vs[i], c.Vs[i], expected.Vs.Magnitudes[i]),
                $"{c} vs (t {i / c.Inputs.Envs}, b {i % c.Inputs.Envs}): got {result.Vs[i]:R}, TorchBeast {c.Vs[i]:R}, allowed {expected.Vs.Tolerance(i):G3}");
            Assert.True(ReturnTolerance.Agree(result.PgAdvantages[i], c.PgAdvantages[i], expected.PgAdvantages.Magnitudes[i]),
                $"{c} pg (t {i / c.Inputs.Envs}, b {i % c.Inputs.Envs}): got {result.PgAdvantages[i]:R}, TorchBeast {c.PgAdvantages[i]:R}, allowed {expected.PgAdvantages.Tolerance(i):G3}");
        }
    }

    /// <summary>The testing kit's oracle (the paper's sum, in double) agrees with TorchBeast too, so laws checked against it mean V-trace.</summary>
    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void TheKitsOracle_MatchesTorchBeast_ToFloatPrecision(int index)
    {
        var c = Cases.Value[index];
        var expected = ReferenceReturns.VTrace(c.Inputs, c.LogRhos, c.Gamma, c.Lambda, c.RhoBar, 1.0, c.PgRhoBar);
        Assert.True(expected.Vs.Matches(c.Vs), $"{c}: {expected.Vs.Explain(c.Vs)}");
        Assert.True(expected.PgAdvantages.Matches(c.PgAdvantages), $"{c}: {expected.PgAdvantages.Explain(c.PgAdvantages)}");
    }

    /// <summary>
    /// A worked example by hand, for the truncation rule TorchBeast does not exercise. T 2, one column, gamma 0.5,
    /// lambda 1, every threshold 1; ratios 2 then 0.5; step 1 truncated with V(final) 4 (the bootstrap 100 is not read).
    /// <code>
    /// t 1: target = 2 + 0.5 * 4 = 4;  vs = 1 + min(1, 0.5) * (4 - 1) = 2.5;  pg = min(1, 0.5) * (4 - 1) = 1.5
    /// t 0: target = 1 + 0.5 * 1 = 1.5;  vs = 0.5 + 1 * (1.5 - 0.5) + 0.5 * min(1, 2) * (2.5 - 1) = 2.25
    ///      pg = min(1, 2) * (1 + 0.5 * 2.5 - 0.5) = 1.75  (3.5 with no pg clipping)
    /// </code>
    /// </summary>
    [Fact]
    public void AWorkedExample_WithATruncatedStepAndClippedRatios()
    {
        var inputs = new ReturnInputs(2, 1, [1f, 2f], [0.5f, 1f], [100f], [false, false], [false, true], [0f, 4f]);
        float[] logRhos = [MathF.Log(2f), MathF.Log(0.5f)];
        var clipped = Returns.VTrace(inputs, logRhos, 0.5, 1.0, 1.0, 1.0, 1.0);
        var unclippedPg = Returns.VTrace(inputs, logRhos, 0.5, 1.0, 1.0, 1.0, null);
        Assert.Equal([2.25f, 2.5f], clipped.Vs, (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal([1.75f, 1.5f], clipped.PgAdvantages, (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal([3.5f, 1.5f], unclippedPg.PgAdvantages, (a, b) => Math.Abs(a - b) < 1e-6);
    }

    /// <summary>The reference's trace coefficient really is clipped at 1: without c-bar the off-policy cases disagree.</summary>
    [Fact]
    public void WithoutCBar_TheOffPolicyCasesDisagree_SoTheCBarOfOneIsWhatTheyTest()
    {
        var c = Cases.Value.First(c => c.RhoBar is null && c.LogRhos.Any(x => x > 0f));
        var unclipped = Returns.VTrace(c.Inputs, c.LogRhos, c.Gamma, c.Lambda, c.RhoBar, cBar: null, c.PgRhoBar);
        var expected = ReferenceReturns.VTrace(c.Inputs, c.LogRhos, c.Gamma, c.Lambda, c.RhoBar, null, c.PgRhoBar);
        Assert.False(Enumerable.Range(0, c.Vs.Length).All(i => ReturnTolerance.Agree(unclipped.Vs[i], c.Vs[i], expected.Vs.Magnitudes[i])));
    }
}
