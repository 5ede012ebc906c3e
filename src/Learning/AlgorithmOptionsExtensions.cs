using Advantage.Learning.Networks;

namespace Advantage.Learning;

/// <summary>
/// Copy-and-change methods for the shared options, defined once for every options record (built-in or yours) and
/// returning the record's own type, so an F# chain (F# has no <c>with</c> for C# records) keeps <c>PpoOptions</c> a
/// <c>PpoOptions</c>: <c>PpoOptions().WithSeed(3).WithEpochs(10)</c>. C# callers may use <c>with</c> instead.
/// An algorithm's own options have their own methods on its record, or <see cref="AlgorithmOption.Set"/>.
/// </summary>
public static class AlgorithmOptionsExtensions
{
    /// <summary>Returns a copy with <see cref="AlgorithmOptions.Gamma"/> changed.</summary>
    public static T WithGamma<T>(this T options, double value) where T : AlgorithmOptions => Copy(options, o => o with { Gamma = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.RolloutLength"/> changed.</summary>
    public static T WithRolloutLength<T>(this T options, int value) where T : AlgorithmOptions => Copy(options, o => o with { RolloutLength = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.LearningRate"/> changed.</summary>
    public static T WithLearningRate<T>(this T options, double value) where T : AlgorithmOptions => Copy(options, o => o with { LearningRate = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.LearningRateSchedule"/> changed.</summary>
    public static T WithLearningRateSchedule<T>(this T options, ScheduleKind value) where T : AlgorithmOptions => Copy(options, o => o with { LearningRateSchedule = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.EntropyCoefficient"/> changed.</summary>
    public static T WithEntropyCoefficient<T>(this T options, double value) where T : AlgorithmOptions => Copy(options, o => o with { EntropyCoefficient = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.ValueCoefficient"/> changed.</summary>
    public static T WithValueCoefficient<T>(this T options, double value) where T : AlgorithmOptions => Copy(options, o => o with { ValueCoefficient = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.MaxGradNorm"/> changed.</summary>
    public static T WithMaxGradNorm<T>(this T options, double value) where T : AlgorithmOptions => Copy(options, o => o with { MaxGradNorm = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.NormalizeAdvantages"/> changed.</summary>
    public static T WithNormalizeAdvantages<T>(this T options, bool value) where T : AlgorithmOptions => Copy(options, o => o with { NormalizeAdvantages = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.Optimizer"/> changed.</summary>
    public static T WithOptimizer<T>(this T options, OptimizerKind value) where T : AlgorithmOptions => Copy(options, o => o with { Optimizer = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.RmsPropAlpha"/> changed.</summary>
    public static T WithRmsPropAlpha<T>(this T options, double value) where T : AlgorithmOptions => Copy(options, o => o with { RmsPropAlpha = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.OptimizerEpsilon"/> changed.</summary>
    public static T WithOptimizerEpsilon<T>(this T options, double value) where T : AlgorithmOptions => Copy(options, o => o with { OptimizerEpsilon = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.Body"/> changed.</summary>
    public static T WithBody<T>(this T options, BodyKind value) where T : AlgorithmOptions => Copy(options, o => o with { Body = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.SeparateNetworks"/> changed.</summary>
    public static T WithSeparateNetworks<T>(this T options, bool value) where T : AlgorithmOptions => Copy(options, o => o with { SeparateNetworks = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.InitialLogStd"/> changed.</summary>
    public static T WithInitialLogStd<T>(this T options, double value) where T : AlgorithmOptions => Copy(options, o => o with { InitialLogStd = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.UseSde"/> changed.</summary>
    public static T WithUseSde<T>(this T options, bool value) where T : AlgorithmOptions => Copy(options, o => o with { UseSde = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.SdeSampleFrequency"/> changed.</summary>
    public static T WithSdeSampleFrequency<T>(this T options, int value) where T : AlgorithmOptions => Copy(options, o => o with { SdeSampleFrequency = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.OrthogonalInit"/> changed.</summary>
    public static T WithOrthogonalInit<T>(this T options, bool value) where T : AlgorithmOptions => Copy(options, o => o with { OrthogonalInit = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.NormalizeObservations"/> changed.</summary>
    public static T WithNormalizeObservations<T>(this T options, bool value) where T : AlgorithmOptions => Copy(options, o => o with { NormalizeObservations = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.NormalizeRewards"/> changed.</summary>
    public static T WithNormalizeRewards<T>(this T options, bool value) where T : AlgorithmOptions => Copy(options, o => o with { NormalizeRewards = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.Workers"/> changed.</summary>
    public static T WithWorkers<T>(this T options, int value) where T : AlgorithmOptions => Copy(options, o => o with { Workers = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.EnvironmentsPerWorker"/> changed.</summary>
    public static T WithEnvironmentsPerWorker<T>(this T options, int value) where T : AlgorithmOptions => Copy(options, o => o with { EnvironmentsPerWorker = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.Seed"/> changed.</summary>
    public static T WithSeed<T>(this T options, int value) where T : AlgorithmOptions => Copy(options, o => o with { Seed = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.Device"/> changed.</summary>
    public static T WithDevice<T>(this T options, string value) where T : AlgorithmOptions => Copy(options, o => o with { Device = value });

    /// <summary>Returns a copy with <see cref="AlgorithmOptions.HiddenSizes"/> changed.</summary>
    public static T WithHiddenSizes<T>(this T options, IEnumerable<int> value) where T : AlgorithmOptions => Copy(options, o => o with { HiddenSizes = value.ToArray() });

    /// <summary>Returns a copy that estimates advantages with GAE at <paramref name="lambda"/>.</summary>
    public static T WithGae<T>(this T options, double lambda) where T : AlgorithmOptions => Copy(options, o => o with { Estimator = AdvantageEstimator.Gae, GaeLambda = lambda });

    /// <summary>Returns a copy that estimates advantages with n-step returns.</summary>
    public static T WithNStep<T>(this T options) where T : AlgorithmOptions => Copy(options, o => o with { Estimator = AdvantageEstimator.NStep });

    /// <summary>The one cast: <c>with</c> on the base record copies the concrete record, so the copy is a <typeparamref name="T"/>.</summary>
    /// <summary>
    /// Throws <see cref="OptionsValidationException"/> listing every problem (<see cref="AlgorithmOptions.Problems"/>), if there is
    /// any; returns the options typed as they are, for every options record (built-in or yours): <c>new PpoOptions().Validate()</c>
    /// is a <c>PpoOptions</c>.
    /// </summary>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    public static T Validate<T>(this T options) where T : AlgorithmOptions
    {
        ArgumentNullException.ThrowIfNull(options);
        OptionsValidationException.ThrowIfAny(options.GetType().Name, options.Problems());
        return options;
    }

    private static T Copy<T>(T options, Func<AlgorithmOptions, AlgorithmOptions> change) where T : AlgorithmOptions
    {
        ArgumentNullException.ThrowIfNull(options);
        return (T)change(options);
    }
}
