using System.Globalization;
using System.Text;

namespace Advantage.Learning.Testing;

/// <summary>
/// One generated test case for V-trace code: a rollout, the log importance ratios of its actions, the
/// discount, the trace lambda and the three clipping thresholds (null: no clipping). A record so FsCheck
/// can print a counterexample and a law can vary one part of it.
/// </summary>
/// <param name="Inputs">The rollout, laid out as <see cref="Returns"/> expects.</param>
/// <param name="LogRhos"><c>[T, N]</c> log importance ratios <c>log(pi / mu)</c>, flattened as <c>t * N + n</c>.</param>
/// <param name="Gamma">Discount in [0, 1].</param>
/// <param name="Lambda">Trace lambda in [0, 1].</param>
/// <param name="RhoBar">Clip of the ratio in the TD term, &gt; 0, or null.</param>
/// <param name="CBar">Clip of the ratio in the trace coefficient, &gt; 0, or null.</param>
/// <param name="PgRhoBar">Clip of the ratio weighting the policy-gradient advantage, &gt; 0, or null.</param>
public sealed record VTraceCase(
    ReturnInputs Inputs, float[] LogRhos, double Gamma, double Lambda, double? RhoBar, double? CBar, double? PgRhoBar)
{
    /// <summary><c>T</c>, the number of time steps.</summary>
    public int Steps => Inputs.Steps;

    /// <summary><c>N</c>, the number of environment columns.</summary>
    public int Envs => Inputs.Envs;

    /// <summary>The rollout with its gamma and lambda as a <see cref="ReturnCase"/>, to compare with GAE and n-step laws.</summary>
    public ReturnCase ReturnCase => new(Inputs, Gamma, Lambda);

    /// <summary>A copy with another rollout (same shape), for laws that transform the inputs.</summary>
    public VTraceCase WithInputs(ReturnInputs inputs) => this with { Inputs = inputs };

    /// <summary>A copy with other log importance ratios.</summary>
    public VTraceCase WithLogRhos(float[] logRhos) => this with { LogRhos = logRhos };

    /// <summary>A copy that is on-policy: every ratio 1 (log ratio 0).</summary>
    public VTraceCase OnPolicy() => this with { LogRhos = new float[LogRhos.Length] };

    /// <summary>A copy with another discount.</summary>
    public VTraceCase WithGamma(double gamma) => this with { Gamma = gamma };

    /// <summary>A copy with another trace lambda.</summary>
    public VTraceCase WithLambda(double lambda) => this with { Lambda = lambda };

    /// <summary>A copy with another rho-bar (null: no clipping).</summary>
    public VTraceCase WithRhoBar(double? rhoBar) => this with { RhoBar = rhoBar };

    /// <summary>A copy with another c-bar (null: no clipping).</summary>
    public VTraceCase WithCBar(double? cBar) => this with { CBar = cBar };

    /// <summary>A copy with another policy-gradient rho-bar (null: no clipping).</summary>
    public VTraceCase WithPgRhoBar(double? pgRhoBar) => this with { PgRhoBar = pgRhoBar };

    /// <summary>The case restricted to (or reordered by) the given columns, ratios included.</summary>
    /// <param name="columns">Column indices of this case, each in [0, Envs); repeats allowed.</param>
    public VTraceCase SelectColumns(IReadOnlyList<int> columns) =>
        this with
        {
            Inputs = ReturnLayout.SelectColumns(Inputs, columns),
            LogRhos = ReturnLayout.SelectColumns(LogRhos, Steps, Envs, columns),
        };

    /// <summary>The steps <c>[start, start + count)</c>, bootstrapped as <see cref="ReturnLayout.SelectSteps"/> does, ratios included.</summary>
    public VTraceCase SelectSteps(int start, int count) =>
        this with
        {
            Inputs = ReturnLayout.SelectSteps(Inputs, start, count),
            LogRhos = LogRhos.AsSpan(start * Envs, count * Envs).ToArray(),
        };

    /// <summary>A table of the case, one line per step with each ratio, so a failing property shows what it ran on.</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        static string Bar(double? b) => b is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "none";
        var s = new StringBuilder();
        s.Append(c, $"VTraceCase(T {Steps}, N {Envs}, gamma {Gamma:R}, lambda {Lambda:R}, rho-bar {Bar(RhoBar)}, c-bar {Bar(CBar)}, pg-rho-bar {Bar(PgRhoBar)})");
        for (int t = 0; t < Steps; t++)
        {
            s.Append(c, $"\n  t {t}:");
            for (int n = 0; n < Envs; n++)
            {
                int i = t * Envs + n;
                string flag = Inputs.Terminated[i] ? (Inputs.Truncated[i] ? " term+trunc" : " term")
                    : Inputs.Truncated[i] ? string.Create(c, $" trunc final {Inputs.FinalValues[i]:R}") : "";
                s.Append(c, $"  [r {Inputs.Rewards[i]:R} V {Inputs.Values[i]:R} log-rho {LogRhos[i]:R}{flag}]");
            }
        }
        s.Append("\n  bootstrap:");
        foreach (float v in Inputs.BootstrapValues) s.Append(c, $" {v:R}");
        return s.ToString();
    }
}
