using System.Globalization;
using FsCheck;
using FsCheck.Fluent;

namespace Advantage.Learning.Testing;

/// <summary>
/// Oracles: the return definitions of ARCHITECTURE.md written as plain recursion in <see cref="double"/>,
/// with no loops, buffers or shared state, so they can be read against the equations and trusted to
/// check faster code (this library's <see cref="Returns"/>, or yours).
/// </summary>
/// <remarks>
/// <code>
/// target_t = r_t                             if terminated_t (wins when both flags are set)
///          = r_t + gamma * V(final_t)        if truncated_t
///          = r_t + gamma * V(s_{t+1})        otherwise, with V(s_T) = bootstrapValues
/// R_T = V(s_T);  R_t = target_t if done_t else r_t + gamma * R_{t+1}
/// delta_t = target_t - V(s_t);  A_T = 0;  A_t = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}
/// </code>
/// Each expected value comes with its magnitude: the same recursion over absolute values, i.e. the
/// sum of the absolute values of every term that went into it. Any implementation that sums those
/// terms in float or double and rounds the result to float once is off by at most a small multiple of
/// the float epsilon times that magnitude, whatever the order of summation and however much
/// cancellation there is; <see cref="ReturnTolerance"/> turns it into a bound.
/// The recursion costs O(T²) per column: meant for the small T of property tests.
/// </remarks>
public static class ReferenceReturns
{
    /// <summary>The one-step targets <c>target_t</c>.</summary>
    public static ExpectedValues Targets(ReturnInputs inputs, double gamma) =>
        Tabulate(inputs, (t, n) => Target(inputs, gamma, t, n));

    /// <summary>The one-step TD errors <c>delta_t = target_t - V(s_t)</c> (GAE with lambda = 0).</summary>
    public static ExpectedValues TdErrors(ReturnInputs inputs, double gamma) =>
        Tabulate(inputs, (t, n) => Delta(inputs, gamma, t, n));

    /// <summary>The n-step returns <c>R_t</c>.</summary>
    public static ExpectedValues NStep(ReturnInputs inputs, double gamma) =>
        Tabulate(inputs, (t, n) => Return(inputs, gamma, t, n));

    /// <summary>GAE advantages <c>A_t</c> and critic targets <c>A_t + V(s_t)</c>.</summary>
    public static ExpectedGae Gae(ReturnInputs inputs, double gamma, double lambda)
    {
        var advantages = Tabulate(inputs, (t, n) => Advantage(inputs, gamma, lambda, t, n));
        var returns = Tabulate(inputs, (t, n) =>
        {
            var (a, am) = Advantage(inputs, gamma, lambda, t, n);
            double v = inputs.Values[t * inputs.Envs + n];
            return (a + v, am + Math.Abs(v));
        });
        return new ExpectedGae(advantages, returns);
    }

    /// <summary>The n-step returns of a generated case (its gamma).</summary>
    public static ExpectedValues NStep(ReturnCase value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return NStep(value.Inputs, value.Gamma);
    }

    /// <summary>The GAE advantages and critic targets of a generated case (its gamma and lambda).</summary>
    public static ExpectedGae Gae(ReturnCase value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Gae(value.Inputs, value.Gamma, value.Lambda);
    }

    /// <summary>
    /// V-trace targets <c>vs_t</c> and policy-gradient advantages, written as the paper's sum (IMPALA eq. 1)
    /// rather than the backward recursion, so it checks the recursion instead of repeating it:
    /// </summary>
    /// <remarks>
    /// <code>
    /// rho_t = exp(logRhos_t);  clip(bar, rho) = min(bar, rho), or rho when bar is null
    /// delta_s = clip(rhoBar, rho_s) * (target_s - V(x_s))
    /// vs_t = V(x_t) + sum_{s=t}^{e} gamma^(s-t) * (prod_{i=t}^{s-1} lambda * clip(cBar, rho_i)) * delta_s
    ///        where e is the first done step at or after t, or T - 1
    /// pgAdv_t = clip(pgRhoBar, rho_t) * (q_t - V(x_t)),  q_t = target_t if done_t else r_t + gamma * vs_{t+1}  (vs_T = V(x_T))
    /// </code>
    /// The ratio is <c>Math.Exp</c> in double, as in <see cref="Returns"/>; magnitudes are the same sums over
    /// absolute values (ratios and weights are non-negative). O(T²) per column.
    /// </remarks>
    public static ExpectedVTrace VTrace(ReturnInputs inputs, float[] logRhos, double gamma, double lambda,
        double? rhoBar, double? cBar, double? pgRhoBar)
    {
        Check(inputs);
        ArgumentNullException.ThrowIfNull(logRhos);
        if (logRhos.Length != inputs.Steps * inputs.Envs)
            throw new ArgumentException($"{nameof(logRhos)} must have {inputs.Steps * inputs.Envs} elements; got {logRhos.Length}.", nameof(logRhos));
        var vs = Tabulate(inputs, (t, n) => VTraceTarget(inputs, logRhos, gamma, lambda, rhoBar, cBar, t, n));
        var pg = Tabulate(inputs, (t, n) =>
        {
            int i = t * inputs.Envs + n;
            double v = inputs.Values[i];
            var (q, qm) = Done(inputs, i)
                ? Target(inputs, gamma, t, n)
                : Plus(inputs.Rewards[i], gamma, VTraceTarget(inputs, logRhos, gamma, lambda, rhoBar, cBar, t + 1, n));
            double w = Clip(pgRhoBar, logRhos[i]);
            return (w * (q - v), w * (qm + Math.Abs(v)));
        });
        return new ExpectedVTrace(vs, pg);
    }

    /// <summary>The V-trace targets and advantages of a generated case (its ratios, discounts and thresholds).</summary>
    public static ExpectedVTrace VTrace(VTraceCase value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return VTrace(value.Inputs, value.LogRhos, value.Gamma, value.Lambda, value.RhoBar, value.CBar, value.PgRhoBar);
    }

    private static double Clip(double? bar, float logRho)
    {
        double rho = Math.Exp(logRho);
        return bar is { } b ? Math.Min(b, rho) : rho;
    }

    private static (double Value, double Magnitude) Plus(double r, double gamma, (double Value, double Magnitude) later) =>
        (r + gamma * later.Value, Math.Abs(r) + gamma * later.Magnitude);

    private static (double Value, double Magnitude) VTraceTarget(ReturnInputs x, float[] logRhos, double gamma, double lambda,
        double? rhoBar, double? cBar, int t, int n)
    {
        if (t == x.Steps) return (x.BootstrapValues[n], Math.Abs(x.BootstrapValues[n]));
        double v = x.Values[t * x.Envs + n];
        double sum = v, magnitude = Math.Abs(v);
        double weight = 1.0; // gamma^(s-t) * prod_{i=t}^{s-1} c_i
        for (int s = t; s < x.Steps; s++)
        {
            int i = s * x.Envs + n;
            var (delta, deltaMagnitude) = Delta(x, gamma, s, n);
            double rho = Clip(rhoBar, logRhos[i]);
            sum += weight * rho * delta;
            magnitude += weight * rho * deltaMagnitude;
            if (Done(x, i)) break;
            weight *= gamma * lambda * Clip(cBar, logRhos[i]);
        }
        return (sum, magnitude);
    }

    private static bool Done(ReturnInputs x, int i) => x.Terminated[i] || x.Truncated[i];

    private static (double Value, double Magnitude) NextValue(ReturnInputs x, int t, int n)
    {
        double v = t + 1 == x.Steps ? x.BootstrapValues[n] : x.Values[(t + 1) * x.Envs + n];
        return (v, Math.Abs(v));
    }

    private static (double Value, double Magnitude) Target(ReturnInputs x, double gamma, int t, int n)
    {
        int i = t * x.Envs + n;
        double r = x.Rewards[i];
        if (x.Terminated[i]) return (r, Math.Abs(r));
        if (x.Truncated[i]) return (r + gamma * x.FinalValues[i], Math.Abs(r) + gamma * Math.Abs(x.FinalValues[i]));
        var (next, nextMagnitude) = NextValue(x, t, n);
        return (r + gamma * next, Math.Abs(r) + gamma * nextMagnitude);
    }

    private static (double Value, double Magnitude) Delta(ReturnInputs x, double gamma, int t, int n)
    {
        var (target, magnitude) = Target(x, gamma, t, n);
        double v = x.Values[t * x.Envs + n];
        return (target - v, magnitude + Math.Abs(v));
    }

    private static (double Value, double Magnitude) Return(ReturnInputs x, double gamma, int t, int n)
    {
        if (t == x.Steps) return (x.BootstrapValues[n], Math.Abs(x.BootstrapValues[n]));
        int i = t * x.Envs + n;
        if (Done(x, i)) return Target(x, gamma, t, n);
        var (later, laterMagnitude) = Return(x, gamma, t + 1, n);
        double r = x.Rewards[i];
        return (r + gamma * later, Math.Abs(r) + gamma * laterMagnitude);
    }

    private static (double Value, double Magnitude) Advantage(ReturnInputs x, double gamma, double lambda, int t, int n)
    {
        if (t == x.Steps) return (0.0, 0.0);
        var (delta, magnitude) = Delta(x, gamma, t, n);
        if (Done(x, t * x.Envs + n)) return (delta, magnitude);
        var (later, laterMagnitude) = Advantage(x, gamma, lambda, t + 1, n);
        return (delta + gamma * lambda * later, magnitude + gamma * lambda * laterMagnitude);
    }

    private static ExpectedValues Tabulate(ReturnInputs x, Func<int, int, (double Value, double Magnitude)> element)
    {
        Check(x);
        var values = new double[x.Steps * x.Envs];
        var magnitudes = new double[values.Length];
        for (int t = 0; t < x.Steps; t++)
            for (int n = 0; n < x.Envs; n++)
                (values[t * x.Envs + n], magnitudes[t * x.Envs + n]) = element(t, n);
        return new ExpectedValues(x.Envs, values, magnitudes);
    }

    private static void Check(ReturnInputs x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Steps < 1 || x.Envs < 1)
            throw new ArgumentException($"Steps and Envs must be >= 1; got {x.Steps} and {x.Envs}.", nameof(x));
        int size = x.Steps * x.Envs;
        if (x.Rewards.Length != size || x.Values.Length != size || x.Terminated.Length != size
            || x.Truncated.Length != size || x.FinalValues.Length != size || x.BootstrapValues.Length != x.Envs)
            throw new ArgumentException($"Every [T, N] array must have {size} elements and BootstrapValues {x.Envs}.", nameof(x));
    }
}

/// <summary>
/// The tolerance that float results of return code are held to, derived from how floats round rather
/// than picked: a result built from terms whose absolute values add up to <c>m</c> and rounded to
/// float once is within half a float ulp of the exact value, i.e. within <c>2^-24 * m</c>, plus far
/// smaller double-rounding errors. <see cref="Bound"/> allows twice that, <c>2^-23 * m</c> (the float
/// epsilon), plus the smallest float for results in the subnormal range.
/// </summary>
public static class ReturnTolerance
{
    /// <summary>The float machine epsilon, <c>2^-23</c>: twice the relative rounding error of one float rounding.</summary>
    public const double FloatEpsilon = 1.0 / (1 << 23);

    /// <summary>The allowed absolute error of a float result whose terms add up to <paramref name="magnitude"/> in absolute value.</summary>
    public static double Bound(double magnitude) => FloatEpsilon * Math.Abs(magnitude) + float.Epsilon;

    /// <summary>
    /// Whether two results agree within <see cref="Bound"/>. When both sides carry their own roundings
    /// (two float results, or a float input computed from others), pass the sum of their magnitudes.
    /// </summary>
    public static bool Agree(double actual, double expected, double magnitude) =>
        Math.Abs(actual - expected) <= Bound(magnitude);
}

/// <summary>
/// Expected <c>[T, N]</c> results from <see cref="ReferenceReturns"/>, with the magnitude of every
/// element so float results can be checked against a derived bound rather than a guessed epsilon.
/// </summary>
/// <param name="Envs"><c>N</c>, to report mismatches as <c>(t, n)</c>.</param>
/// <param name="Values">The exact-as-double expected values, flattened as <c>t * N + n</c>.</param>
/// <param name="Magnitudes">For each element, the sum of the absolute values of the terms it is made of.</param>
public sealed record ExpectedValues(int Envs, double[] Values, double[] Magnitudes)
{
    /// <summary>The allowed absolute error of element <paramref name="index"/>.</summary>
    public double Tolerance(int index) => ReturnTolerance.Bound(Magnitudes[index]);

    /// <summary>Whether <paramref name="actual"/> has the right length and every element is within its tolerance.</summary>
    public bool Matches(float[] actual)
    {
        ArgumentNullException.ThrowIfNull(actual);
        if (actual.Length != Values.Length) return false;
        for (int i = 0; i < Values.Length; i++)
            if (!ReturnTolerance.Agree(actual[i], Values[i], Magnitudes[i])) return false;
        return true;
    }

    /// <summary>What is wrong with <paramref name="actual"/>, or that it matches: the text a failing property shows.</summary>
    public string Explain(float[] actual)
    {
        ArgumentNullException.ThrowIfNull(actual);
        var c = CultureInfo.InvariantCulture;
        if (actual.Length != Values.Length)
            return string.Create(c, $"expected {Values.Length} elements; got {actual.Length}");
        int worst = -1, bad = 0;
        double worstRatio = 0;
        for (int i = 0; i < Values.Length; i++)
        {
            double ratio = Math.Abs(actual[i] - Values[i]) / Tolerance(i);
            if (!(ratio <= 1)) bad++;
            if (!(ratio <= worstRatio)) { worstRatio = ratio; worst = i; }
        }
        if (bad == 0) return string.Create(c, $"all {Values.Length} elements within tolerance");
        return string.Create(c,
            $"{bad} of {Values.Length} elements off; worst at (t {worst / Envs}, n {worst % Envs}): expected {Values[worst]:R}, got {actual[worst]:R}, allowed error {Tolerance(worst):G3} (magnitude {Magnitudes[worst]:G6})");
    }

    /// <summary><see cref="Matches"/> as an FsCheck property labelled with <see cref="Explain"/>, to return from a property test.</summary>
    public Property Check(float[] actual) => Matches(actual).Label(Explain(actual));

    /// <summary><see cref="Check(float[])"/> with the label prefixed by <paramref name="name"/>, to tell several outputs apart.</summary>
    public Property Check(float[] actual, string name) => Matches(actual).Label($"{name}: {Explain(actual)}");
}

/// <summary>Expected GAE advantages and critic targets.</summary>
/// <param name="Advantages">Expected <c>A_t</c>.</param>
/// <param name="Returns">Expected <c>A_t + V(s_t)</c>.</param>
public sealed record ExpectedGae(ExpectedValues Advantages, ExpectedValues Returns)
{
    /// <summary>Whether both outputs match.</summary>
    public bool Matches(float[] advantages, float[] returns) => Advantages.Matches(advantages) && Returns.Matches(returns);

    /// <summary>Whether a <see cref="GaeResult"/> matches.</summary>
    public bool Matches(GaeResult actual)
    {
        ArgumentNullException.ThrowIfNull(actual);
        return Matches(actual.Advantages, actual.Returns);
    }

    /// <summary>Both outputs as one FsCheck property, labelled with what is wrong.</summary>
    public Property Check(float[] advantages, float[] returns) =>
        Advantages.Check(advantages, "advantages").And(Returns.Check(returns, "returns"));

    /// <summary>A <see cref="GaeResult"/> as one FsCheck property, labelled with what is wrong.</summary>
    public Property Check(GaeResult actual)
    {
        ArgumentNullException.ThrowIfNull(actual);
        return Check(actual.Advantages, actual.Returns);
    }
}

/// <summary>Expected V-trace targets and policy-gradient advantages.</summary>
/// <param name="Vs">Expected <c>vs_t</c>.</param>
/// <param name="PgAdvantages">Expected policy-gradient advantages.</param>
public sealed record ExpectedVTrace(ExpectedValues Vs, ExpectedValues PgAdvantages)
{
    /// <summary>Whether both outputs match.</summary>
    public bool Matches(float[] vs, float[] pgAdvantages) => Vs.Matches(vs) && PgAdvantages.Matches(pgAdvantages);

    /// <summary>Whether a <see cref="VTraceResult"/> matches.</summary>
    public bool Matches(VTraceResult actual)
    {
        ArgumentNullException.ThrowIfNull(actual);
        return Matches(actual.Vs, actual.PgAdvantages);
    }

    /// <summary>Both outputs as one FsCheck property, labelled with what is wrong.</summary>
    public Property Check(float[] vs, float[] pgAdvantages) =>
        Vs.Check(vs, "vs").And(PgAdvantages.Check(pgAdvantages, "pg advantages"));

    /// <summary>A <see cref="VTraceResult"/> as one FsCheck property, labelled with what is wrong.</summary>
    public Property Check(VTraceResult actual)
    {
        ArgumentNullException.ThrowIfNull(actual);
        return Check(actual.Vs, actual.PgAdvantages);
    }
}
