using Advantage.Learning.Networks;

namespace Advantage.Learning;

/// <summary>
/// How an asynchronous algorithm's rounds are shaped, which is all the actors need to know of it: workers collect
/// continuously, the learner updates on every <see cref="BatchRollouts"/> rollouts in the order they arrive, and
/// drops (and counts) those collected more than <see cref="MaxLag"/> parameter versions ago.
/// </summary>
/// <param name="BatchRollouts">Rollouts per update (B), at least 1.</param>
/// <param name="MaxLag">Oldest accepted lag, in parameter versions, at least 0.</param>
/// <param name="InFlight">
/// Rollouts a worker may have sent that the learner has not yet taken into a batch or dropped, at least B: one worker
/// alone can then always fill a batch, so no worker waits on another. It bounds the learner's queue (workers x this)
/// and so the lag; more hides more of the round trip to a remote learner.
/// </param>
public sealed record AsynchronousRounds(int BatchRollouts, int MaxLag, int InFlight);

/// <summary>
/// IMPALA (Espeholt et al. 2018): an actor-critic whose workers never wait for the learner. Each rollout carries the
/// log-probabilities of its actions under the policy that collected it; the learner updates on batches of whatever
/// rollouts arrived, with V-trace targets correcting for the policy having moved on since (<see cref="Returns.VTrace(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{bool}, ReadOnlySpan{bool}, ReadOnlySpan{float}, int, int, double, double, double?, double?, double?, Span{float}, Span{float})"/>).
/// The shared fields keep <see cref="AlgorithmOptions"/>' defaults (A2C's RMSprop); <see cref="AlgorithmOptions.Estimator"/>
/// and <see cref="AlgorithmOptions.GaeLambda"/> are not used: V-trace is the estimator and <see cref="TraceLambda"/> its lambda.
/// </summary>
/// <remarks>
/// Asynchrony trades exactness for throughput: which rollouts share a batch depends on timing, so a seeded run is
/// not reproducible step for step, and a resumed run continues from its checkpoint's parameters, optimizer state,
/// statistics and counters without replaying the uninterrupted run. F# callers: construct with the defaults (or a
/// preset) and change fields with the <c>WithX</c> methods (<see cref="AlgorithmOptionsExtensions"/> for the shared ones).
/// </remarks>
public sealed record ImpalaOptions : AlgorithmOptions
{
    /// <summary>The value of a checkpoint's <c>algorithm</c> field and of <c>--algo</c> for IMPALA.</summary>
    public const string AlgorithmName = "impala";

    /// <inheritdoc />
    public override string Algorithm => AlgorithmName;

    /// <summary>Asynchronous rounds of <see cref="BatchRollouts"/> (or one per worker) with at most <see cref="MaxLag"/> versions of lag.</summary>
    public override AsynchronousRounds? Asynchrony => new(BatchRollouts ?? Workers, MaxLag, Math.Max(RolloutsInFlight, BatchRollouts ?? Workers));

    /// <summary>V-trace's lambda in [0, 1] (the paper's Remark 2): 1 is IMPALA's full trace, smaller trades bias for variance like GAE's. Default 1.</summary>
    public double TraceLambda { get; init; } = 1.0;

    /// <summary>Clip of the importance ratio in V-trace's TD term (rho-bar), in (0, 1e6], or null for none. Default 1, as IMPALA.</summary>
    public double? RhoBar { get; init; } = 1.0;

    /// <summary>Clip of the importance ratio in V-trace's trace coefficient (c-bar), in (0, 1e6], or null for none. Default 1, as IMPALA.</summary>
    public double? CBar { get; init; } = 1.0;

    /// <summary>Clip of the importance ratio weighting the policy-gradient advantage, in (0, 1e6], or null for none. Default 1, as IMPALA.</summary>
    public double? PgRhoBar { get; init; } = 1.0;

    /// <summary>
    /// Rollouts collected more than this many parameter versions before the learner's current one are dropped and
    /// counted, in [0, 1000000]. Default 20. V-trace corrects for lag, but its clipped ratios make very old
    /// experience nearly worthless and its variance grows with the lag.
    /// </summary>
    public int MaxLag { get; init; } = 20;

    /// <summary>Rollouts per update (B), in [1, 1024], or null for one per worker. Default null.</summary>
    public int? BatchRollouts { get; init; }

    /// <summary>
    /// Rollouts a worker may have sent and not yet seen taken by the learner before it waits, in [1, 1024]; raised to
    /// the batch size B when smaller. Default 2: one travelling and being learned from while the next is collected.
    /// More hides a longer round trip to a remote learner, at the cost of more lag.
    /// </summary>
    public int RolloutsInFlight { get; init; } = 2;

    /// <summary>Returns a copy with <see cref="TraceLambda"/> changed.</summary>
    public ImpalaOptions WithTraceLambda(double value) => this with { TraceLambda = value };

    /// <summary>Returns a copy with <see cref="RhoBar"/> changed.</summary>
    public ImpalaOptions WithRhoBar(double value) => this with { RhoBar = value };

    /// <summary>Returns a copy with <see cref="CBar"/> changed.</summary>
    public ImpalaOptions WithCBar(double value) => this with { CBar = value };

    /// <summary>Returns a copy with <see cref="PgRhoBar"/> changed.</summary>
    public ImpalaOptions WithPgRhoBar(double value) => this with { PgRhoBar = value };

    /// <summary>Returns a copy with no clipping of any importance ratio (F# has no <c>with</c> to set null).</summary>
    public ImpalaOptions WithoutClipping() => this with { RhoBar = null, CBar = null, PgRhoBar = null };

    /// <summary>Returns a copy with <see cref="MaxLag"/> changed.</summary>
    public ImpalaOptions WithMaxLag(int value) => this with { MaxLag = value };

    /// <summary>Returns a copy with <see cref="RolloutsInFlight"/> changed.</summary>
    public ImpalaOptions WithRolloutsInFlight(int value) => this with { RolloutsInFlight = value };

    /// <summary>Returns a copy with <see cref="BatchRollouts"/> changed.</summary>
    public ImpalaOptions WithBatchRollouts(int value) => this with { BatchRollouts = value };
}

/// <summary>
/// IMPALA hyperparameters for the built-in environments, measured with <c>bench solve --algo impala</c> and
/// <c>bench envs</c>; environments without an entry get <see cref="ImpalaOptions"/>' defaults.
/// </summary>
public static class ImpalaPresets
{
    private static readonly Dictionary<string, ImpalaOptions> Tuned = new(StringComparer.OrdinalIgnoreCase)
    {
        // A2C's CartPole preset carried over (GAE's 0.9 as the trace lambda), with separate policy and value networks and
        // RMSprop's epsilon at 0.01 (the IMPALA paper's and TorchBeast's) instead of 1e-5. 10M-step runs with the target off
        // (bench/results/impala-10m) collapsed without both. Shared trunk, seed 1: at 199,840 steps an on-policy batch (lag 0,
        // ratio 1.0) brought a value-loss spike (0.05 to 463, gradient norm 50); entropy fell 0.38 -> 0.002 in that update
        // and the mean 386 -> 9.3 within 1,600 steps (it came back; seed 2 was caught by one at 9.96M and ended at 111).
        // Separate networks, seed 1: the same kind of spike at 292k (value loss 0.02 -> 386, gradient norm 0.08 -> 46)
        // made the policy deterministic (entropy 0.02 -> 5e-9) for good. The step, not the gradient, is the trouble: after
        // a quiet stretch (gradient norm ~0.005) RMSprop's running mean square is tiny, so a sudden gradient moves every
        // weight by up to lr / sqrt(1 - alpha) = 10 lr whatever the 0.5 norm clip did; an epsilon of 0.01 (above a quiet
        // weight's ~5e-5 root mean square gradient) holds that step near 0.5 lr (both estimated from the logged gradient
        // norms over the ~9,200 weights, not measured per weight). An entropy bonus of 0.01 instead kept the policy
        // too random (training mean >= 450 only 55% of the time after 500k steps).
        ["CartPole-v1"] = new ImpalaOptions
        {
            SeparateNetworks = true, OptimizerEpsilon = 0.01,
            Workers = 2, EnvironmentsPerWorker = 16, LearningRate = 5e-3, TraceLambda = 0.9, Gamma = 0.98, ValueCoefficient = 0.25,
        },
        ["Acrobot-v1"] = new ImpalaOptions { NormalizeObservations = true, NormalizeRewards = true },
        ["MinAtar/Breakout-v1"] = new ImpalaOptions { Body = BodyKind.MinAtarConv, EntropyCoefficient = 0.01 },
    };

    /// <summary>The environment ids that have a preset.</summary>
    public static IReadOnlyList<string> Environments => Tuned.Keys.ToArray();

    /// <summary>The preset for an environment id, or the plain <see cref="ImpalaOptions"/> defaults for any other id.</summary>
    public static ImpalaOptions For(string environmentId)
    {
        ArgumentNullException.ThrowIfNull(environmentId);
        return Tuned.TryGetValue(environmentId, out var preset) ? preset : new ImpalaOptions();
    }
}
