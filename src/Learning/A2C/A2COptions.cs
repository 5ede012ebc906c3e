using Advantage.Learning.Networks;

namespace Advantage.Learning;

/// <summary>How advantages are estimated from a rollout.</summary>
public enum AdvantageEstimator
{
    /// <summary>n-step returns bootstrapped from the last row (A2C's original choice, DeepRL's default).</summary>
    NStep,

    /// <summary>Generalised Advantage Estimation with <see cref="AlgorithmOptions.GaeLambda"/>.</summary>
    Gae,
}

/// <summary>Which optimizer applies the gradients.</summary>
public enum OptimizerKind
{
    /// <summary>RMSprop with alpha 0.99 and eps 1e-5, as in the A2C paper and Stable-Baselines3.</summary>
    RmsProp,

    /// <summary>Adam, often more forgiving of the learning rate on small problems.</summary>
    Adam,
}

/// <summary>
/// Every hyperparameter of synchronous A2C in one immutable record. Defaults follow Stable-Baselines3's
/// A2C where that is the well-trodden path. Call <see cref="AlgorithmOptions.Validate"/> (training entry points do it for
/// you) to learn every bad field at once before any actor or tensor is created.
/// </summary>
/// <remarks>F# callers: construct with the defaults and change fields with the <c>WithX</c> methods.</remarks>
public sealed record A2COptions : AlgorithmOptions
{
    /// <summary>The value of a checkpoint's <c>algorithm</c> field and of <c>--algo</c> for A2C.</summary>
    public const string AlgorithmName = "a2c";

    /// <inheritdoc />
    public override string Algorithm => AlgorithmName;

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem, if there is any; returns these options, typed as they are.</summary>
    public new A2COptions Validate()
    {
        base.Validate();
        return this;
    }

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.Gamma"/>/> changed.</summary>
    public A2COptions WithGamma(double value) => this with { Gamma = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.LearningRateSchedule"/> changed.</summary>
    public A2COptions WithLearningRateSchedule(ScheduleKind value) => this with { LearningRateSchedule = value };

    /// <summary>Returns a copy with GAE enabled at the given lambda.</summary>
    public A2COptions WithGae(double lambda) => this with { Estimator = AdvantageEstimator.Gae, GaeLambda = lambda };

    /// <summary>Returns a copy that uses n-step returns.</summary>
    public A2COptions WithNStep() => this with { Estimator = AdvantageEstimator.NStep };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.RolloutLength"/>/> changed.</summary>
    public A2COptions WithRolloutLength(int value) => this with { RolloutLength = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.LearningRate"/>/> changed.</summary>
    public A2COptions WithLearningRate(double value) => this with { LearningRate = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.EntropyCoefficient"/>/> changed.</summary>
    public A2COptions WithEntropyCoefficient(double value) => this with { EntropyCoefficient = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.ValueCoefficient"/>/> changed.</summary>
    public A2COptions WithValueCoefficient(double value) => this with { ValueCoefficient = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.MaxGradNorm"/>/> changed.</summary>
    public A2COptions WithMaxGradNorm(double value) => this with { MaxGradNorm = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.NormalizeAdvantages"/>/> changed.</summary>
    public A2COptions WithNormalizeAdvantages(bool value) => this with { NormalizeAdvantages = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.Optimizer"/>/> changed.</summary>
    public A2COptions WithOptimizer(OptimizerKind value) => this with { Optimizer = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.RmsPropAlpha"/> changed (F# cannot use C#'s <c>with</c> on this record).</summary>
    public A2COptions WithRmsPropAlpha(double value) => this with { RmsPropAlpha = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.OptimizerEpsilon"/> changed (F# cannot use C#'s <c>with</c> on this record).</summary>
    public A2COptions WithOptimizerEpsilon(double value) => this with { OptimizerEpsilon = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.HiddenSizes"/>/> changed.</summary>
    public A2COptions WithHiddenSizes(IEnumerable<int> value) => this with { HiddenSizes = value.ToArray() };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.Body"/>/> changed.</summary>
    public A2COptions WithBody(BodyKind value) => this with { Body = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.SeparateNetworks"/> changed.</summary>
    public A2COptions WithSeparateNetworks(bool value) => this with { SeparateNetworks = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.InitialLogStd"/>/> changed.</summary>
    public A2COptions WithInitialLogStd(double value) => this with { InitialLogStd = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.UseSde"/> set.</summary>
    public A2COptions WithUseSde(bool value) => this with { UseSde = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.SdeSampleFrequency"/> set.</summary>
    public A2COptions WithSdeSampleFrequency(int value) => this with { SdeSampleFrequency = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.OrthogonalInit"/> set.</summary>
    public A2COptions WithOrthogonalInit(bool value) => this with { OrthogonalInit = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.NormalizeObservations"/>/> changed.</summary>
    public A2COptions WithNormalizeObservations(bool value) => this with { NormalizeObservations = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.NormalizeRewards"/>/> changed.</summary>
    public A2COptions WithNormalizeRewards(bool value) => this with { NormalizeRewards = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.Workers"/>/> changed.</summary>
    public A2COptions WithWorkers(int value) => this with { Workers = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.EnvironmentsPerWorker"/>/> changed.</summary>
    public A2COptions WithEnvironmentsPerWorker(int value) => this with { EnvironmentsPerWorker = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.Seed"/>/> changed.</summary>
    public A2COptions WithSeed(int value) => this with { Seed = value };

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.Device"/>/> changed.</summary>
    public A2COptions WithDevice(string value) => this with { Device = value };

}

/// <summary>
/// Thrown before training starts when options are invalid. It lists every bad field at once so a user
/// fixes a configuration in one pass instead of one error per run.
/// </summary>
public sealed class OptionsValidationException : ArgumentException
{
    /// <summary>Creates the exception for an options type and its problems.</summary>
    public OptionsValidationException(string optionsType, IReadOnlyList<string> problems)
        : base($"Invalid {optionsType}:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems)}")
    {
        OptionsType = optionsType;
        Problems = problems;
    }

    /// <summary>The options type that failed validation.</summary>
    public string OptionsType { get; }

    /// <summary>One message per bad field.</summary>
    public IReadOnlyList<string> Problems { get; }
}

/// <summary>Range checks that phrase their messages the same way everywhere.</summary>
internal static class Check
{
    public static void Range(List<string> problems, string field, double value, double min, double max, bool minInclusive, bool maxInclusive)
    {
        bool ok = double.IsFinite(value)
            && (minInclusive ? value >= min : value > min)
            && (maxInclusive ? value <= max : value < max);
        if (!ok)
            problems.Add($"{field} = {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} is outside {(minInclusive ? "[" : "(")}{Fmt(min)}, {Fmt(max)}{(maxInclusive ? "]" : ")")}.");
    }

    public static void IntRange(List<string> problems, string field, long value, long min, long max)
    {
        if (value < min || value > max)
            problems.Add($"{field} = {value} is outside [{min}, {max}].");
    }

    private static string Fmt(double v) => v.ToString("G", System.Globalization.CultureInfo.InvariantCulture);
}
