using FsCheck;
using FsCheck.Fluent;

namespace Advantage.Learning.Testing;

/// <summary>Which episode ends a generated rollout may contain, so edge cases can be forced instead of hoped for.</summary>
public enum DonePattern
{
    /// <summary>Any mix: per case a density of terminated, truncated and both-flag steps, from sparse to every step.</summary>
    Mixed,

    /// <summary>No step is terminated or truncated: every return bootstraps from the last row.</summary>
    NeverDone,

    /// <summary>Every step is terminated, truncated or both: no return looks past its own step.</summary>
    AlwaysDone,
}

/// <summary>
/// The sizes and done pattern of generated cases. Defaults are small (T up to 8, N up to 4) so a
/// property runs its 100 cases in milliseconds while still covering every rule.
/// </summary>
/// <param name="MinSteps">Smallest <c>T</c>, at least 1.</param>
/// <param name="MaxSteps">Largest <c>T</c>, at least <paramref name="MinSteps"/>.</param>
/// <param name="MinEnvs">Smallest <c>N</c>, at least 1.</param>
/// <param name="MaxEnvs">Largest <c>N</c>, at least <paramref name="MinEnvs"/>.</param>
/// <param name="Dones">Which episode ends the masks may hold.</param>
public sealed record ReturnCaseShape(int MinSteps, int MaxSteps, int MinEnvs, int MaxEnvs, DonePattern Dones)
{
    /// <summary>Smallest <c>T</c>, at least 1.</summary>
    public int MinSteps { get; } = MinSteps >= 1 ? MinSteps
        : throw new ArgumentOutOfRangeException(nameof(MinSteps), MinSteps, $"{nameof(MinSteps)} must be >= 1; got {MinSteps}.");

    /// <summary>Largest <c>T</c>, at least <see cref="MinSteps"/>.</summary>
    public int MaxSteps { get; } = MaxSteps >= MinSteps ? MaxSteps
        : throw new ArgumentOutOfRangeException(nameof(MaxSteps), MaxSteps, $"{nameof(MaxSteps)} must be >= {nameof(MinSteps)} = {MinSteps}; got {MaxSteps}.");

    /// <summary>Smallest <c>N</c>, at least 1.</summary>
    public int MinEnvs { get; } = MinEnvs >= 1 ? MinEnvs
        : throw new ArgumentOutOfRangeException(nameof(MinEnvs), MinEnvs, $"{nameof(MinEnvs)} must be >= 1; got {MinEnvs}.");

    /// <summary>Largest <c>N</c>, at least <see cref="MinEnvs"/>.</summary>
    public int MaxEnvs { get; } = MaxEnvs >= MinEnvs ? MaxEnvs
        : throw new ArgumentOutOfRangeException(nameof(MaxEnvs), MaxEnvs, $"{nameof(MaxEnvs)} must be >= {nameof(MinEnvs)} = {MinEnvs}; got {MaxEnvs}.");

    /// <summary>T in [1, 8], N in [1, 4], any done pattern.</summary>
    public static ReturnCaseShape Default { get; } = new(1, 8, 1, 4, DonePattern.Mixed);

    /// <summary>A copy with <c>T</c> in [min, max].</summary>
    public ReturnCaseShape WithSteps(int min, int max) => new(min, max, MinEnvs, MaxEnvs, Dones);

    /// <summary>A copy with <c>N</c> in [min, max].</summary>
    public ReturnCaseShape WithEnvs(int min, int max) => new(MinSteps, MaxSteps, min, max, Dones);

    /// <summary>A copy with another done pattern.</summary>
    public ReturnCaseShape WithDones(DonePattern dones) => new(MinSteps, MaxSteps, MinEnvs, MaxEnvs, dones);
}

/// <summary>The terminated and truncated masks of a rollout, named instead of a tuple.</summary>
/// <param name="Terminated"><c>[T, N]</c> terminated flags.</param>
/// <param name="Truncated"><c>[T, N]</c> truncated flags.</param>
public sealed record DoneMasks(bool[] Terminated, bool[] Truncated);

/// <summary>
/// FsCheck generators of valid rollouts, so return code (this library's or yours) can be checked
/// against <see cref="ReferenceReturns"/> and the laws on many cases, including the awkward ones:
/// episodes ending on the first or last step, both flags set, gamma and lambda at 0 and 1, values of
/// very different scales.
/// </summary>
public static class ReturnGenerators
{
    private static readonly float[] Scales = [0.01f, 1f, 10f, 1000f];

    // (none, terminated, truncated, both) weights; a case draws one row, so some cases are sparse and some dense.
    private static readonly (int None, int Terminated, int Truncated, int Both)[] MixedDensities =
    [
        (18, 1, 1, 0), (6, 2, 2, 1), (2, 2, 2, 1), (1, 0, 1, 0), (1, 1, 0, 0), (0, 2, 2, 1),
    ];

    /// <summary>
    /// A finite float: sometimes exactly zero, otherwise uniform in [-s, s] for a scale s of 0.01, 1, 10 or 1000,
    /// so sums mix magnitudes the way rewards and values do.
    /// </summary>
    public static Gen<float> Value() =>
        Gen.Frequency(
            (1, Gen.Constant(0f)),
            (9, from scale in Gen.Elements(Scales)
                from k in Gen.Choose(-1_000_000, 1_000_000)
                select (float)(k / 1e6 * scale)));

    /// <summary>A discount or lambda in [0, 1]: often exactly 0 or 1, often a typical 0.9 to 0.99, otherwise uniform.</summary>
    public static Gen<double> Discount() =>
        Gen.Frequency(
            (1, Gen.Constant(0.0)),
            (2, Gen.Constant(1.0)),
            (2, Gen.Elements(0.9, 0.95, 0.99)),
            (5, Gen.Choose(0, 1000).Select(k => k / 1000.0)));

    /// <summary>Terminated and truncated masks of <c>[steps, envs]</c> following <paramref name="pattern"/>.</summary>
    public static Gen<DoneMasks> Masks(int steps, int envs, DonePattern pattern)
    {
        Gen<(int, int, int, int)> densities = pattern switch
        {
            DonePattern.NeverDone => Gen.Constant((1, 0, 0, 0)),
            DonePattern.AlwaysDone => Gen.Constant((0, 2, 2, 1)),
            DonePattern.Mixed => Gen.Elements(MixedDensities),
            _ => throw new ArgumentOutOfRangeException(nameof(pattern), pattern, $"Unknown {nameof(DonePattern)}."),
        };
        return from w in densities
               from cells in Gen.ArrayOf(Cell(w), steps * envs)
               select new DoneMasks(
                   cells.Select(c => c is 1 or 3).ToArray(),
                   cells.Select(c => c is 2 or 3).ToArray());
    }

    // 0 none, 1 terminated, 2 truncated, 3 both.
    private static Gen<int> Cell((int None, int Terminated, int Truncated, int Both) w) =>
        Gen.Frequency(new[] { (w.None, 0), (w.Terminated, 1), (w.Truncated, 2), (w.Both, 3) }
            .Where(p => p.Item1 > 0)
            .Select(p => (p.Item1, Gen.Constant(p.Item2))));

    /// <summary>A valid rollout of <c>[steps, envs]</c>: finite values everywhere (final values too, read or not).</summary>
    public static Gen<ReturnInputs> Inputs(int steps, int envs, DonePattern pattern)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"{nameof(steps)} must be >= 1; got {steps}.");
        if (envs < 1) throw new ArgumentOutOfRangeException(nameof(envs), envs, $"{nameof(envs)} must be >= 1; got {envs}.");
        int size = steps * envs;
        return from rewards in Gen.ArrayOf(Value(), size)
               from values in Gen.ArrayOf(Value(), size)
               from bootstrap in Gen.ArrayOf(Value(), envs)
               from masks in Masks(steps, envs, pattern)
               from finals in Gen.ArrayOf(Value(), size)
               select new ReturnInputs(steps, envs, rewards, values, bootstrap, masks.Terminated, masks.Truncated, finals);
    }

    /// <summary>Cases of the default shape (T in [1, 8], N in [1, 4], any done pattern).</summary>
    public static Gen<ReturnCase> Cases() => Cases(ReturnCaseShape.Default);

    /// <summary>Cases of the given shape, with gamma and lambda from <see cref="Discount"/>.</summary>
    public static Gen<ReturnCase> Cases(ReturnCaseShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return from steps in Gen.Choose(shape.MinSteps, shape.MaxSteps)
               from envs in Gen.Choose(shape.MinEnvs, shape.MaxEnvs)
               from inputs in Inputs(steps, envs, shape.Dones)
               from gamma in Discount()
               from lambda in Discount()
               select new ReturnCase(inputs, gamma, lambda);
    }

    /// <summary>
    /// Smaller cases that keep the shape's bounds and done pattern: fewer steps or columns, then gamma
    /// and lambda at 0 or 1, then zero rewards, so a counterexample ends up as small as it can be.
    /// </summary>
    public static IEnumerable<ReturnCase> Shrink(ReturnCase value, ReturnCaseShape shape)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(shape);
        int steps = value.Steps, envs = value.Envs;
        if (steps > shape.MinSteps)
        {
            yield return value.SelectSteps(1, steps - 1);
            yield return value.SelectSteps(0, steps - 1);
        }
        if (envs > shape.MinEnvs)
        {
            yield return value.SelectColumns(Enumerable.Range(1, envs - 1).ToArray());
            yield return value.SelectColumns(Enumerable.Range(0, envs - 1).ToArray());
        }
        // Toward 0, then toward 1 from inside (0, 1) only: 0 and 1 never shrink into each other, so shrinking ends.
        if (value.Gamma != 0.0) yield return value.WithGamma(0.0);
        if (value.Gamma is > 0.0 and < 1.0) yield return value.WithGamma(1.0);
        if (value.Lambda != 0.0) yield return value.WithLambda(0.0);
        if (value.Lambda is > 0.0 and < 1.0) yield return value.WithLambda(1.0);
        if (value.Inputs.Rewards.Any(r => r != 0f))
            yield return value.WithInputs(value.Inputs.WithRewards(new float[value.Inputs.Rewards.Length]));
    }

    /// <summary>Generator and shrinker of cases of the given shape, for <c>Prop.ForAll</c>.</summary>
    public static Arbitrary<ReturnCase> Arbitrary(ReturnCaseShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return Arb.From(Cases(shape), c => Shrink(c, shape));
    }

    /// <summary>
    /// A log importance ratio <c>log(pi / mu)</c>: often exactly 0 (on-policy), often small (a ratio in
    /// [0.6, 1.65]), otherwise in [-3, 3] (a ratio in [0.05, 20]), so clipping at 1 or 2 both bites and not.
    /// </summary>
    public static Gen<float> LogRatio() =>
        Gen.Frequency(
            (3, Gen.Constant(0f)),
            (4, Gen.Choose(-500_000, 500_000).Select(k => (float)(k / 1e6))),
            (3, Gen.Choose(-3_000_000, 3_000_000).Select(k => (float)(k / 1e6))));

    /// <summary>A clipping threshold: often none (null), often IMPALA's 1, otherwise in (0, 4].</summary>
    public static Gen<double?> Threshold() =>
        Gen.Frequency(
            (3, Gen.Constant<double?>(null)),
            (3, Gen.Constant<double?>(1.0)),
            (4, Gen.Choose(1, 4000).Select(k => (double?)(k / 1000.0))));

    /// <summary>V-trace cases of the default shape (T in [1, 8], N in [1, 4], any done pattern).</summary>
    public static Gen<VTraceCase> VTraceCases() => VTraceCases(ReturnCaseShape.Default);

    /// <summary>
    /// V-trace cases of the given shape: a <see cref="Cases(ReturnCaseShape)"/> rollout with gamma and lambda,
    /// one in five on-policy (every log ratio 0) and the rest with <see cref="LogRatio"/> ratios, and three
    /// thresholds from <see cref="Threshold"/>.
    /// </summary>
    public static Gen<VTraceCase> VTraceCases(ReturnCaseShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return from c in Cases(shape)
               from logRhos in Gen.Frequency(
                   (1, Gen.Constant(0).Select(_ => new float[c.Steps * c.Envs])),
                   (4, Gen.ArrayOf(LogRatio(), c.Steps * c.Envs)))
               from rhoBar in Threshold()
               from cBar in Threshold()
               from pgRhoBar in Threshold()
               select new VTraceCase(c.Inputs, logRhos, c.Gamma, c.Lambda, rhoBar, cBar, pgRhoBar);
    }

    /// <summary>
    /// Smaller V-trace cases within the shape: fewer steps or columns, gamma and lambda at 0 or 1, every
    /// ratio 1, each threshold removed, then zero rewards.
    /// </summary>
    public static IEnumerable<VTraceCase> ShrinkVTrace(VTraceCase value, ReturnCaseShape shape)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(shape);
        int steps = value.Steps, envs = value.Envs;
        if (steps > shape.MinSteps)
        {
            yield return value.SelectSteps(1, steps - 1);
            yield return value.SelectSteps(0, steps - 1);
        }
        if (envs > shape.MinEnvs)
        {
            yield return value.SelectColumns(Enumerable.Range(1, envs - 1).ToArray());
            yield return value.SelectColumns(Enumerable.Range(0, envs - 1).ToArray());
        }
        if (value.Gamma != 0.0) yield return value.WithGamma(0.0);
        if (value.Gamma is > 0.0 and < 1.0) yield return value.WithGamma(1.0);
        if (value.Lambda != 0.0) yield return value.WithLambda(0.0);
        if (value.Lambda is > 0.0 and < 1.0) yield return value.WithLambda(1.0);
        if (value.LogRhos.Any(r => r != 0f)) yield return value.OnPolicy();
        if (value.RhoBar is not null) yield return value.WithRhoBar(null);
        if (value.CBar is not null) yield return value.WithCBar(null);
        if (value.PgRhoBar is not null) yield return value.WithPgRhoBar(null);
        if (value.Inputs.Rewards.Any(r => r != 0f))
            yield return value.WithInputs(value.Inputs.WithRewards(new float[value.Inputs.Rewards.Length]));
    }

    /// <summary>Generator and shrinker of V-trace cases of the given shape, for <c>Prop.ForAll</c>.</summary>
    public static Arbitrary<VTraceCase> VTraceArbitrary(ReturnCaseShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return Arb.From(VTraceCases(shape), c => ShrinkVTrace(c, shape));
    }

    /// <summary>
    /// The rollout with its rewards rewritten so every one-step TD error <c>target_t - V(s_t)</c> has the given
    /// sign and is at least the old reward's absolute value: <c>r'_t = V(s_t) - gamma * V(next_t) ± |r_t|</c>
    /// (next: <c>s_{t+1}</c>, the final observation, or nothing, by the usual target rule), rounded away from
    /// zero TD error. For laws that hold only for one sign, such as V-trace's monotonicity in its thresholds.
    /// </summary>
    /// <param name="inputs">The rollout.</param>
    /// <param name="gamma">The discount the targets use.</param>
    /// <param name="nonNegative">True for TD errors &gt;= 0, false for &lt;= 0.</param>
    public static ReturnInputs WithTdErrorSign(ReturnInputs inputs, double gamma, bool nonNegative)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int steps = inputs.Steps, envs = inputs.Envs;
        var rewards = new float[inputs.Rewards.Length];
        for (int t = 0; t < steps; t++)
            for (int n = 0; n < envs; n++)
            {
                int i = t * envs + n;
                double next = inputs.Terminated[i] ? 0.0
                    : inputs.Truncated[i] ? inputs.FinalValues[i]
                    : t + 1 < steps ? inputs.Values[i + envs] : inputs.BootstrapValues[n];
                double needed = inputs.Values[i] - gamma * next; // the reward whose TD error is 0
                double wanted = nonNegative ? needed + Math.Abs(inputs.Rewards[i]) : needed - Math.Abs(inputs.Rewards[i]);
                float r = (float)wanted;
                if (nonNegative && r < wanted) r = MathF.BitIncrement(r);
                if (!nonNegative && r > wanted) r = MathF.BitDecrement(r);
                rewards[i] = r;
            }
        return inputs.WithRewards(rewards);
    }
}

/// <summary>
/// The default <see cref="ReturnCase"/> and <see cref="Testing.VTraceCase"/> arbitraries, for FsCheck.Xunit:
/// <c>[Property(Arbitrary = new[] { typeof(ReturnArbitraries) })]</c> in C#,
/// <c>[&lt;Property(Arbitrary = [| typeof&lt;ReturnArbitraries&gt; |])&gt;]</c> in F#.
/// </summary>
public static class ReturnArbitraries
{
    /// <summary>Cases of <see cref="ReturnCaseShape.Default"/>, shrinking as <see cref="ReturnGenerators.Shrink"/>.</summary>
    public static Arbitrary<ReturnCase> ReturnCase() => ReturnGenerators.Arbitrary(ReturnCaseShape.Default);

    /// <summary>V-trace cases of <see cref="ReturnCaseShape.Default"/>, shrinking as <see cref="ReturnGenerators.ShrinkVTrace"/>.</summary>
    public static Arbitrary<VTraceCase> VTraceCase() => ReturnGenerators.VTraceArbitrary(ReturnCaseShape.Default);
}
