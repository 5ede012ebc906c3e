namespace Advantage.Learning;

/// <summary>
/// Synchronous A2C as the registry knows it: its name, options, presets and learner in one descriptor, registered before
/// first use (<see cref="Algorithms"/>). An algorithm of your own is described the same way.
/// </summary>
public static class A2CAlgorithm
{
    /// <summary>A2C's descriptor: the shared options and the n-step or GAE estimator, nothing of its own beyond them.</summary>
    public static AlgorithmDescriptor Descriptor { get; } =
        AlgorithmDescriptor.Create<A2COptions>(A2COptions.AlgorithmName, A2CPresets.For, (options, spec) => new A2CLearner(options, spec)) with
        {
            Summary = "synchronous advantage actor-critic: one optimizer step per round of every worker's rollout",
            Options = AlgorithmOptions.EstimatorOptions,
        };
}
