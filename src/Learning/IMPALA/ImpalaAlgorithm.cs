namespace Advantage.Learning;

/// <summary>IMPALA as the registry knows it: its name, options (each defined once, below), presets and learner.</summary>
public static class ImpalaAlgorithm
{
    /// <summary>
    /// IMPALA's own options. The three that shape the asynchronous rounds are left out of the hyperparameter table's
    /// per-algorithm part: the table writes them for any asynchronous algorithm from <see cref="AlgorithmOptions.Asynchrony"/>.
    /// </summary>
    public static IReadOnlyList<AlgorithmOption> Options { get; } =
    [
        new(typeof(ImpalaOptions), nameof(ImpalaOptions.TraceLambda), "--trace-lambda", "V-trace's lambda") { Range = new(0, 1) },
        new(typeof(ImpalaOptions), nameof(ImpalaOptions.RhoBar), "--rho-bar", "Clip of the importance ratio in V-trace's TD term") { Range = new(0, 1e6, MinimumInclusive: false) },
        new(typeof(ImpalaOptions), nameof(ImpalaOptions.CBar), "--c-bar", "Clip of the importance ratio in V-trace's traces") { Range = new(0, 1e6, MinimumInclusive: false), Hyperparameter = "c_bar" },
        new(typeof(ImpalaOptions), nameof(ImpalaOptions.PgRhoBar), null, "Clip of the importance ratio weighting the policy-gradient advantage") { Range = new(0, 1e6, MinimumInclusive: false) },
        new(typeof(ImpalaOptions), nameof(ImpalaOptions.MaxLag), "--max-lag", "Drop rollouts collected more than this many versions ago") { Range = new(0, 1_000_000), Hyperparameter = null },
        new(typeof(ImpalaOptions), nameof(ImpalaOptions.BatchRollouts), "--batch-rollouts", "Rollouts per update, in arrival order") { Range = new(1, 1024), Hyperparameter = null, NullMeans = "one per worker" },
        new(typeof(ImpalaOptions), nameof(ImpalaOptions.RolloutsInFlight), "--rollouts-in-flight", "Rollouts a worker may have unacknowledged before it waits (at least --batch-rollouts)") { Range = new(1, 1024), Hyperparameter = null },
    ];

    /// <summary>IMPALA's descriptor.</summary>
    public static AlgorithmDescriptor Descriptor { get; } =
        AlgorithmDescriptor.Create<ImpalaOptions>(ImpalaOptions.AlgorithmName, ImpalaPresets.For, (options, spec) => new ImpalaLearner(options, spec)) with
        {
            Summary = "asynchronous actor-critic: workers never wait, V-trace corrects for their lag",
            Options = Options,
        };
}
