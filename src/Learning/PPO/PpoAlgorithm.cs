namespace Advantage.Learning;

/// <summary>PPO as the registry knows it: its name, options (each defined once, below), presets and learner.</summary>
public static class PpoAlgorithm
{
    /// <summary>PPO's own options: field, flag, help and range, from which validation, <c>--help</c> and TensorBoard derive.</summary>
    public static IReadOnlyList<AlgorithmOption> Options { get; } =
    [
        new(typeof(PpoOptions), nameof(PpoOptions.ClipRange), "--clip-range", "Clip of the probability ratio") { Range = new(0, 10, MinimumInclusive: false) },
        new(typeof(PpoOptions), nameof(PpoOptions.ClipRangeSchedule), "--clip-schedule", "Clip range schedule, constant or linear to zero at --max-steps"),
        new(typeof(PpoOptions), nameof(PpoOptions.Epochs), "--epochs", "Passes over each round's batch") { Range = new(1, 1000) },
        new(typeof(PpoOptions), nameof(PpoOptions.Minibatches), "--minibatches", "Minibatches per epoch (one optimizer step each)") { Range = new(1, 65_536) },
        new(typeof(PpoOptions), nameof(PpoOptions.TargetKl), "--target-kl", "Stop an update's steps past 1.5 x this approximate KL") { Range = new(0, 10, MinimumInclusive: false) },
        new(typeof(PpoOptions), nameof(PpoOptions.ClipRangeValue), "--clip-value", "Clip the value prediction to within this of the collecting value") { Range = new(0, 1e6, MinimumInclusive: false) },
    ];

    /// <summary>PPO's descriptor.</summary>
    public static AlgorithmDescriptor Descriptor { get; } =
        AlgorithmDescriptor.Create<PpoOptions>(PpoOptions.AlgorithmName, PpoPresets.For, (options, spec) => new PpoLearner(options, spec)) with
        {
            Summary = "proximal policy optimization: epochs of clipped-surrogate minibatch steps on each synchronous round",
            Options = [.. AlgorithmOptions.EstimatorOptions, .. Options],
        };
}
