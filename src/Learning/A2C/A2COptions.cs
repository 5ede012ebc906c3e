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
/// A2C where that is the well-trodden path. Call <see cref="AlgorithmOptionsExtensions.Validate{T}"/> (training entry points do it for
/// you) to learn every bad field at once before any actor or tensor is created.
/// </summary>
/// <remarks>F# callers: construct with the defaults and change fields with the <c>WithX</c> methods (<see cref="AlgorithmOptionsExtensions"/>).</remarks>
public sealed record A2COptions : AlgorithmOptions
{
    /// <summary>The value of a checkpoint's <c>algorithm</c> field and of <c>--algo</c> for A2C.</summary>
    public const string AlgorithmName = "a2c";

    /// <inheritdoc />
    public override string Algorithm => AlgorithmName;
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

    /// <summary>Throws the exception for <paramref name="optionsType"/> when <paramref name="problems"/> has any: every options record's Validate.</summary>
    internal static void ThrowIfAny(string optionsType, IReadOnlyList<string> problems)
    {
        if (problems.Count > 0) throw new OptionsValidationException(optionsType, problems);
    }
}
