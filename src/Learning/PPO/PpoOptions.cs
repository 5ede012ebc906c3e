using Advantage.Learning.Networks;

namespace Advantage.Learning;

/// <summary>
/// Proximal Policy Optimization (Schulman et al. 2017, clipped surrogate): the shared actor-critic options plus the
/// few that make an update several epochs of minibatch steps on one round's batch, held close to the policy that
/// collected it. Defaults follow CleanRL's <c>ppo.py</c> (Adam with eps 1e-5, learning rate 2.5e-4, 128 steps per
/// rollout, GAE 0.95, entropy 0.01, normalised advantages, clip 0.2, 4 epochs of 4 minibatches); the shared fields'
/// other defaults are <see cref="AlgorithmOptions"/>'. <see cref="PpoPresets"/> holds measured environment presets.
/// </summary>
/// <remarks>F# callers: construct with the defaults (or a preset) and change fields with the <c>WithX</c> methods (<see cref="AlgorithmOptionsExtensions"/> for the shared ones).</remarks>
public sealed record PpoOptions : AlgorithmOptions
{
    /// <summary>The value of a checkpoint's <c>algorithm</c> field and of <c>--algo</c> for PPO.</summary>
    public const string AlgorithmName = "ppo";

    /// <summary>Creates PPO's defaults (CleanRL's), which differ from A2C's in the optimizer, rollout length and advantage handling.</summary>
    public PpoOptions()
    {
        Optimizer = OptimizerKind.Adam;
        LearningRate = 2.5e-4;
        RolloutLength = 128;
        Estimator = AdvantageEstimator.Gae;
        GaeLambda = 0.95;
        EntropyCoefficient = 0.01;
        NormalizeAdvantages = true;
    }

    /// <inheritdoc />
    public override string Algorithm => AlgorithmName;

    /// <summary>
    /// The surrogate's clip: the probability ratio pi/pi_old counts only within [1 - c, 1 + c], in (0, 10]. Default 0.2.
    /// Smaller keeps each update closer to the collecting policy.
    /// </summary>
    public double ClipRange { get; init; } = 0.2;

    /// <summary>
    /// How <see cref="ClipRange"/> moves over the run: <see cref="ScheduleKind.Constant"/> (default) or
    /// <see cref="ScheduleKind.Linear"/> to zero at the run's step budget, as the zoo's <c>lin_0.2</c>: late updates stay
    /// ever closer to the collecting policy.
    /// </summary>
    public ScheduleKind ClipRangeSchedule { get; init; } = ScheduleKind.Constant;

    /// <summary>Passes over the round's batch per update, in [1, 1000]. Default 4. More epochs squeeze more from each sample, at the risk of leaving the trust region.</summary>
    public int Epochs { get; init; } = 4;

    /// <summary>
    /// Minibatches each epoch splits the shuffled batch into (as evenly as possible), in [1, 65536]; one optimizer step each.
    /// Default 4. The batch (T x N) must hold at least this many transitions.
    /// </summary>
    public int Minibatches { get; init; } = 4;

    /// <summary>
    /// Stop the update's remaining minibatch steps once the approximate KL divergence from the collecting policy exceeds
    /// 1.5 x this (Stable-Baselines3's rule), in (0, 10]; null never stops early. Default null.
    /// </summary>
    public double? TargetKl { get; init; }

    /// <summary>
    /// Clip the value prediction to within this of the collecting value before the (max of clipped and unclipped)
    /// squared error, in (0, 1e6]; null uses the plain squared error. Default null.
    /// </summary>
    public double? ClipRangeValue { get; init; }

    /// <summary>Returns a copy with <see cref="ClipRange"/> changed.</summary>
    public PpoOptions WithClipRange(double value) => this with { ClipRange = value };

    /// <summary>Returns a copy with <see cref="ClipRangeSchedule"/> changed.</summary>
    public PpoOptions WithClipRangeSchedule(ScheduleKind value) => this with { ClipRangeSchedule = value };

    /// <summary>Returns a copy with <see cref="Epochs"/> changed.</summary>
    public PpoOptions WithEpochs(int value) => this with { Epochs = value };

    /// <summary>Returns a copy with <see cref="Minibatches"/> changed.</summary>
    public PpoOptions WithMinibatches(int value) => this with { Minibatches = value };

    /// <summary>Returns a copy that stops an update early past 1.5 x <paramref name="value"/> approximate KL.</summary>
    public PpoOptions WithTargetKl(double value) => this with { TargetKl = value };

    /// <summary>Returns a copy that never stops an update early (F# has no <c>with</c> to set null).</summary>
    public PpoOptions WithoutTargetKl() => this with { TargetKl = null };

    /// <summary>Returns a copy that clips the value prediction to within <paramref name="value"/> of the collecting value.</summary>
    public PpoOptions WithClipRangeValue(double value) => this with { ClipRangeValue = value };

    /// <summary>Returns a copy with an unclipped value loss.</summary>
    public PpoOptions WithoutClipRangeValue() => this with { ClipRangeValue = null };

    /// <inheritdoc />
    public override IReadOnlyList<OptionProblem> FieldProblems()
    {
        // Each field's range is its definition's (PpoAlgorithm.Options, checked by the base); only what spans fields is here.
        var problems = new List<OptionProblem>(base.FieldProblems());
        if (Minibatches >= 1 && RolloutLength >= 1 && Workers >= 1 && EnvironmentsPerWorker >= 1
            && (long)RolloutLength * Workers * EnvironmentsPerWorker < Minibatches)
            problems.Add(new(nameof(Minibatches), $"{nameof(Minibatches)} = {Minibatches} is more than the {(long)RolloutLength * Workers * EnvironmentsPerWorker} transitions of a round (rollout x workers x environments).")
            {
                Option = PpoAlgorithm.Options.Single(o => o.Field == nameof(Minibatches)),
            });
        return problems;
    }
}

/// <summary>
/// PPO hyperparameters for the built-in environments, in the spirit of rl-baselines3-zoo: a good start that users
/// override field by field. Environments without an entry get <see cref="PpoOptions"/>' defaults.
/// </summary>
public static class PpoPresets
{
    private static readonly Dictionary<string, PpoOptions> Tuned = new(StringComparer.OrdinalIgnoreCase)
    {
        // rl-baselines3-zoo's ppo.yml CartPole-v1: 8 envs, n_steps 32, batch 256 (one minibatch of the 8 x 32 round),
        // GAE 0.8, gamma 0.98, 20 epochs, lr 1e-3 and clip 0.2 both decaying linearly to zero at the step budget, no entropy
        // bonus. Measured (bench solve, seeds 1-5, 1M budget): linear decays solved at a median 124,672 steps, constant at 185,088.
        // Separate policy and value networks, as the zoo's (SB3's default 64-64 each): with one shared trunk seed 1 reached a
        // mean of 418 at 87k steps, then a value-loss spike (0.004 to 280, gradient norm 82) moved the shared features, the
        // returns fell to 27 within ten updates and the policy went deterministic (entropy 4e-6) for good. Separate networks
        // on the same seed: solved at 78k and held 500 to 406k, value loss never above 0.009, entropy never below 0.07.
        ["CartPole-v1"] = new PpoOptions
        {
            SeparateNetworks = true,
            Workers = 2, EnvironmentsPerWorker = 4, RolloutLength = 32, Minibatches = 1, Epochs = 20, Gamma = 0.98, GaeLambda = 0.8,
            LearningRate = 1e-3, ClipRange = 0.2, EntropyCoefficient = 0.0,
            LearningRateSchedule = ScheduleKind.Linear, ClipRangeSchedule = ScheduleKind.Linear,
        },

        // The zoo's ppo.yml on the other built-in environments, with Stable-Baselines3's PPO defaults where it lists nothing
        // (Adam lr 3e-4, batch 64, 10 epochs, clip 0.2, GAE 0.95, gamma 0.99, normalised advantages, gradient clip 0.5,
        // 64-64 tanh). Policy and value have separate networks as SB3's MlpPolicy does, except on MountainCar-v0 (and
        // Breakout, whose conv body follows the zoo's Atari CnnPolicy, which shares its trunk). Scores of 100 deterministic
        // episodes at 1M steps, seeds 1-3 (README, bench/results/scores-ppo): on Acrobot-v1 separate networks raised every
        // seed over the shared trunk, -75.3 / -78.1 / -73.7 -> -72.2 / -76.3 / -73.4; on MountainCar-v0 they gave
        // -109.0 / -128.7 / -117.6 against the shared trunk's -113.5 / -103.8 / -103.3, so it keeps the shared trunk.
        // gSDE (state-dependent exploration) on Pendulum-v1 and MountainCarContinuous-v0 reads the policy's own last layer
        // as SB3's does, and the network keeps PyTorch's default initialisation where the zoo says ortho_init=False.
        // The zoo's `normalize: true` is observation and reward normalisation. Minibatches = n_envs x n_steps / batch_size.
        ["Acrobot-v1"] = new PpoOptions
        {
            SeparateNetworks = true,
            Workers = 2, EnvironmentsPerWorker = 8, RolloutLength = 256, Minibatches = 64, Epochs = 4, Gamma = 0.99, GaeLambda = 0.94,
            LearningRate = 3e-4, EntropyCoefficient = 0.0, NormalizeObservations = true, NormalizeRewards = true,
        },
        ["MountainCar-v0"] = new PpoOptions
        {
            Workers = 2, EnvironmentsPerWorker = 8, RolloutLength = 16, Minibatches = 4, Epochs = 4, Gamma = 0.99, GaeLambda = 0.98,
            LearningRate = 3e-4, EntropyCoefficient = 0.0, NormalizeObservations = true, NormalizeRewards = true,
        },
        ["Pendulum-v1"] = new PpoOptions
        {
            // The zoo's: 4 envs x 1024 steps, batch 64, gSDE with a new matrix every 4 steps, log std 0 (SB3's default).
            Workers = 2, EnvironmentsPerWorker = 2, RolloutLength = 1024, Minibatches = 64, Epochs = 10, Gamma = 0.9, GaeLambda = 0.95,
            LearningRate = 1e-3, EntropyCoefficient = 0.0, SeparateNetworks = true, UseSde = true, SdeSampleFrequency = 4,
        },
        ["MountainCarContinuous-v0"] = new PpoOptions
        {
            // One environment of 8 steps: the zoo's batch_size 256 exceeds the round, so one minibatch of 8.
            Workers = 1, EnvironmentsPerWorker = 1, RolloutLength = 8, Minibatches = 1, Epochs = 10, Gamma = 0.9999, GaeLambda = 0.9,
            LearningRate = 7.77e-5, EntropyCoefficient = 0.00429, ClipRange = 0.1, MaxGradNorm = 5, ValueCoefficient = 0.19,
            InitialLogStd = -3.29, NormalizeObservations = true, NormalizeRewards = true,
            SeparateNetworks = true, UseSde = true, SdeSampleFrequency = -1, OrthogonalInit = false,
        },
        ["MinAtar/Breakout-v1"] = new PpoOptions
        {
            // The zoo's Atari entry (8 envs, n_steps 128, 4 epochs, batch 256, ent 0.01) on the MinAtar conv body, with lr 1e-3 and
            // clip 0.2 (both decaying linearly) instead of the zoo's 2.5e-4 and 0.1: MinAtar's 10x10 frames train a much smaller
            // network than Atari's. 100 deterministic episodes at 3M steps, seeds 1-3 (README, bench/results/scores-ppo): the
            // zoo's values 6.34 / 9.30 / 5.53, these 12.22 / 10.18 / 18.83 (lr 5e-4 with a constant clip 0.2: 6.43 on seed 1).
            Workers = 2, EnvironmentsPerWorker = 4, RolloutLength = 128, Minibatches = 4, Epochs = 4, Gamma = 0.99, GaeLambda = 0.95,
            LearningRate = 1e-3, ClipRange = 0.2, EntropyCoefficient = 0.01, Body = BodyKind.MinAtarConv,
            LearningRateSchedule = ScheduleKind.Linear, ClipRangeSchedule = ScheduleKind.Linear,
        },
    };

    /// <summary>The environment ids that have a preset.</summary>
    public static IReadOnlyList<string> Environments => Tuned.Keys.ToArray();

    /// <summary>The preset for an environment id, or the plain <see cref="PpoOptions"/> defaults for any other id.</summary>
    public static PpoOptions For(string environmentId)
    {
        ArgumentNullException.ThrowIfNull(environmentId);
        return Tuned.TryGetValue(environmentId, out var preset) ? preset : new PpoOptions();
    }
}
