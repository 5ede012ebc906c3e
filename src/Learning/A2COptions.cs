using Advantage.Learning.Networks;

namespace Advantage.Learning;

/// <summary>How advantages are estimated from a rollout.</summary>
public enum AdvantageEstimator
{
    /// <summary>n-step returns bootstrapped from the last row (A2C's original choice, DeepRL's default).</summary>
    NStep,

    /// <summary>Generalised Advantage Estimation with <see cref="A2COptions.GaeLambda"/>.</summary>
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
/// A2C where that is the well-trodden path. Call <see cref="Validate"/> (training entry points do it for
/// you) to learn every bad field at once before any actor or tensor is created.
/// </summary>
/// <remarks>F# callers: construct with the defaults and change fields with the <c>WithX</c> methods.</remarks>
public sealed record A2COptions
{
    /// <summary>Discount factor in [0, 1]. Default 0.99.</summary>
    public double Gamma { get; init; } = 0.99;

    /// <summary>Advantage estimator. Default <see cref="AdvantageEstimator.NStep"/>.</summary>
    public AdvantageEstimator Estimator { get; init; } = AdvantageEstimator.NStep;

    /// <summary>GAE lambda in [0, 1], used when <see cref="Estimator"/> is GAE. Default 0.95.</summary>
    public double GaeLambda { get; init; } = 0.95;

    /// <summary>Steps each environment takes per rollout (T), in [1, 10000]. Default 5.</summary>
    public int RolloutLength { get; init; } = 5;

    /// <summary>Optimizer learning rate in (0, 1]. Default 7e-4.</summary>
    public double LearningRate { get; init; } = 7e-4;

    /// <summary>Weight of the entropy bonus in [0, 1]. Default 0.0 (CartPole needs none).</summary>
    public double EntropyCoefficient { get; init; } = 0.0;

    /// <summary>Weight of the value loss in [0, 100]. Default 0.5.</summary>
    public double ValueCoefficient { get; init; } = 0.5;

    /// <summary>Global gradient-norm clip in (0, 1e6]. Default 0.5.</summary>
    public double MaxGradNorm { get; init; } = 0.5;

    /// <summary>Normalise advantages per batch (mean 0, std 1). Default false.</summary>
    public bool NormalizeAdvantages { get; init; }

    /// <summary>Optimizer. Default RMSprop.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.RmsProp;

    /// <summary>RMSprop smoothing constant in (0, 1). Default 0.99.</summary>
    public double RmsPropAlpha { get; init; } = 0.99;

    /// <summary>Optimizer epsilon in (0, 1). Default 1e-5.</summary>
    public double OptimizerEpsilon { get; init; } = 1e-5;

    /// <summary>Hidden layer widths of the fully connected body, each in [1, 65536]. Default 64, 64.</summary>
    public IReadOnlyList<int> HiddenSizes { get; init; } = [64, 64];

    /// <summary>The network trunk. Default fully connected; convolutional bodies need [C, H, W] observations.</summary>
    public BodyKind Body { get; init; } = BodyKind.FullyConnected;

    /// <summary>Initial log standard deviation of a Gaussian policy (Box actions), in [-5, 2]. Default 0.</summary>
    public double InitialLogStd { get; init; }

    /// <summary>
    /// Normalise observations with running mean and variance (clip 10, epsilon 1e-8). The statistics are
    /// learned by the learner from every batch and travel to workers with the parameters. Default false.
    /// </summary>
    public bool NormalizeObservations { get; init; }

    /// <summary>
    /// Scale rewards by the running standard deviation of each environment's discounted return (as
    /// Gymnasium's NormalizeReward). Scaled on the worker, per environment; episode returns are reported unscaled. Default false.
    /// </summary>
    public bool NormalizeRewards { get; init; }

    /// <summary>Worker actors, in [1, 1024]. Default 2.</summary>
    public int Workers { get; init; } = 2;

    /// <summary>Environments each worker steps together, in [1, 4096]. Default 8.</summary>
    public int EnvironmentsPerWorker { get; init; } = 8;

    /// <summary>Seed from which every worker, environment and initial weight derives. Default 1.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Torch device for the learner ("cpu", "cuda", "cuda:0"). Default "cpu".</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Returns a copy with <see cref="Gamma"/> changed.</summary>
    public A2COptions WithGamma(double value) => this with { Gamma = value };

    /// <summary>Returns a copy with GAE enabled at the given lambda.</summary>
    public A2COptions WithGae(double lambda) => this with { Estimator = AdvantageEstimator.Gae, GaeLambda = lambda };

    /// <summary>Returns a copy that uses n-step returns.</summary>
    public A2COptions WithNStep() => this with { Estimator = AdvantageEstimator.NStep };

    /// <summary>Returns a copy with <see cref="RolloutLength"/> changed.</summary>
    public A2COptions WithRolloutLength(int value) => this with { RolloutLength = value };

    /// <summary>Returns a copy with <see cref="LearningRate"/> changed.</summary>
    public A2COptions WithLearningRate(double value) => this with { LearningRate = value };

    /// <summary>Returns a copy with <see cref="EntropyCoefficient"/> changed.</summary>
    public A2COptions WithEntropyCoefficient(double value) => this with { EntropyCoefficient = value };

    /// <summary>Returns a copy with <see cref="ValueCoefficient"/> changed.</summary>
    public A2COptions WithValueCoefficient(double value) => this with { ValueCoefficient = value };

    /// <summary>Returns a copy with <see cref="MaxGradNorm"/> changed.</summary>
    public A2COptions WithMaxGradNorm(double value) => this with { MaxGradNorm = value };

    /// <summary>Returns a copy with <see cref="NormalizeAdvantages"/> changed.</summary>
    public A2COptions WithNormalizeAdvantages(bool value) => this with { NormalizeAdvantages = value };

    /// <summary>Returns a copy with <see cref="Optimizer"/> changed.</summary>
    public A2COptions WithOptimizer(OptimizerKind value) => this with { Optimizer = value };

    /// <summary>Returns a copy with <see cref="HiddenSizes"/> changed.</summary>
    public A2COptions WithHiddenSizes(IEnumerable<int> value) => this with { HiddenSizes = value.ToArray() };

    /// <summary>Returns a copy with <see cref="Body"/> changed.</summary>
    public A2COptions WithBody(BodyKind value) => this with { Body = value };

    /// <summary>Returns a copy with <see cref="InitialLogStd"/> changed.</summary>
    public A2COptions WithInitialLogStd(double value) => this with { InitialLogStd = value };

    /// <summary>Returns a copy with <see cref="NormalizeObservations"/> changed.</summary>
    public A2COptions WithNormalizeObservations(bool value) => this with { NormalizeObservations = value };

    /// <summary>Returns a copy with <see cref="NormalizeRewards"/> changed.</summary>
    public A2COptions WithNormalizeRewards(bool value) => this with { NormalizeRewards = value };

    /// <summary>Returns a copy with <see cref="Workers"/> changed.</summary>
    public A2COptions WithWorkers(int value) => this with { Workers = value };

    /// <summary>Returns a copy with <see cref="EnvironmentsPerWorker"/> changed.</summary>
    public A2COptions WithEnvironmentsPerWorker(int value) => this with { EnvironmentsPerWorker = value };

    /// <summary>Returns a copy with <see cref="Seed"/> changed.</summary>
    public A2COptions WithSeed(int value) => this with { Seed = value };

    /// <summary>Returns a copy with <see cref="Device"/> changed.</summary>
    public A2COptions WithDevice(string value) => this with { Device = value };

    /// <summary>
    /// Every problem with these options, one message per bad field naming the field, its value and the
    /// allowed range. Empty when the options are valid.
    /// </summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        Check.Range(problems, nameof(Gamma), Gamma, 0, 1, minInclusive: true, maxInclusive: true);
        Check.Range(problems, nameof(GaeLambda), GaeLambda, 0, 1, minInclusive: true, maxInclusive: true);
        Check.IntRange(problems, nameof(RolloutLength), RolloutLength, 1, 10_000);
        Check.Range(problems, nameof(LearningRate), LearningRate, 0, 1, minInclusive: false, maxInclusive: true);
        Check.Range(problems, nameof(EntropyCoefficient), EntropyCoefficient, 0, 1, minInclusive: true, maxInclusive: true);
        Check.Range(problems, nameof(ValueCoefficient), ValueCoefficient, 0, 100, minInclusive: true, maxInclusive: true);
        Check.Range(problems, nameof(MaxGradNorm), MaxGradNorm, 0, 1e6, minInclusive: false, maxInclusive: true);
        Check.Range(problems, nameof(RmsPropAlpha), RmsPropAlpha, 0, 1, minInclusive: false, maxInclusive: false);
        Check.Range(problems, nameof(OptimizerEpsilon), OptimizerEpsilon, 0, 1, minInclusive: false, maxInclusive: false);
        if (!Enum.IsDefined(Estimator)) problems.Add($"{nameof(Estimator)} = {Estimator} is not one of NStep, Gae.");
        if (!Enum.IsDefined(Optimizer)) problems.Add($"{nameof(Optimizer)} = {Optimizer} is not one of RmsProp, Adam.");
        if (HiddenSizes is null || HiddenSizes.Count == 0)
            problems.Add($"{nameof(HiddenSizes)} must list at least one layer width, each in [1, 65536].");
        else if (HiddenSizes.Any(h => h < 1 || h > 65_536))
            problems.Add($"{nameof(HiddenSizes)} = [{string.Join(", ", HiddenSizes)}] has a width outside [1, 65536].");
        if (!Enum.IsDefined(Body)) problems.Add($"{nameof(Body)} = {Body} is not one of FullyConnected, MinAtarConv, NatureConv.");
        Check.Range(problems, nameof(InitialLogStd), InitialLogStd, -5, 2, minInclusive: true, maxInclusive: true);
        Check.IntRange(problems, nameof(Workers), Workers, 1, 1024);
        Check.IntRange(problems, nameof(EnvironmentsPerWorker), EnvironmentsPerWorker, 1, 4096);
        if (string.IsNullOrWhiteSpace(Device) || !(Device == "cpu" || Device.StartsWith("cuda", StringComparison.Ordinal) || Device == "mps"))
            problems.Add($"{nameof(Device)} = '{Device}' must be 'cpu', 'cuda', 'cuda:N' or 'mps'.");
        return problems;
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem, if there is any.</summary>
    public A2COptions Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new OptionsValidationException(nameof(A2COptions), problems);
        return this;
    }
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
