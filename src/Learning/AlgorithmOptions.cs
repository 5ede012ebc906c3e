using System.Text.Json.Serialization;
using Advantage.Learning.Networks;

namespace Advantage.Learning;

/// <summary>
/// The hyperparameters every actor-critic algorithm of this library shares: how experience is collected (workers,
/// environments, rollout length, seed), how advantages are estimated, the network, the optimizer and the
/// losses' common coefficients. One base record is what lets <c>TrainingOptions.Algorithm</c> be a single field
/// that both names the algorithm (by its concrete type: <see cref="A2COptions"/>, <see cref="PpoOptions"/>) and
/// carries everything the actors need (workers, rollout length, seed) without knowing which algorithm runs.
/// </summary>
/// <remarks>
/// Every concrete record is sealed and registered with its <see cref="AlgorithmDescriptor"/> (<see cref="Algorithms.Register"/>),
/// which <see cref="Learners.Create"/> turns into its learner. Checkpoints store the concrete record with an
/// <c>algorithm</c> discriminator ("a2c", "ppo", or a registered algorithm's name), resolved through the registry.
/// </remarks>
public abstract record AlgorithmOptions
{
    /// <summary>
    /// Open to records outside this library: an algorithm of your own derives its options from this record and registers
    /// them with <see cref="Algorithms.Register"/>, which is what gives them a learner, a checkpoint type and flags.
    /// </summary>
    protected AlgorithmOptions()
    {
    }

    /// <summary>A copy of the same concrete type, for setting one field by its definition (<see cref="AlgorithmOption.Set"/>).</summary>
    internal AlgorithmOptions Copy() => this with { };

    /// <summary>The algorithm's short name ("a2c", "ppo"): the checkpoint's <c>algorithm</c> field and <c>--algo</c>'s value.</summary>
    [JsonIgnore]
    public abstract string Algorithm { get; }

    /// <summary>
    /// Null for an algorithm of synchronous rounds (every worker waits for the parameters its rollout produced);
    /// otherwise how its asynchronous rounds are shaped. The actors read only this, never the algorithm's name.
    /// </summary>
    [JsonIgnore]
    public virtual AsynchronousRounds? Asynchrony => null;

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

    /// <summary>
    /// How the learning rate moves over the run: <see cref="ScheduleKind.Constant"/> (default) or
    /// <see cref="ScheduleKind.Linear"/> from <see cref="LearningRate"/> to zero at the run's step budget (the learner
    /// is told steps and budget before every update, so a resumed run continues the decay where it stopped).
    /// </summary>
    public ScheduleKind LearningRateSchedule { get; init; } = ScheduleKind.Constant;

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

    /// <summary>
    /// Give the policy and the value function their own fully connected layers (<see cref="HiddenSizes"/> each), as
    /// Stable-Baselines3's default, instead of one shared trunk. Separate layers keep a value-loss spike from moving the
    /// policy: PPO's CartPole preset, which takes 20 steps on each round, collapsed to a deterministic policy after one
    /// with a shared trunk. Default false (A2C's measured presets share the trunk).
    /// </summary>
    public bool SeparateNetworks { get; init; }

    /// <summary>Initial log standard deviation of a Gaussian policy (Box actions), in [-5, 2]. Default 0.</summary>
    public double InitialLogStd { get; init; }

    /// <summary>
    /// Explore with generalised state-dependent exploration (gSDE, Raffin et al. 2021, Stable-Baselines3's <c>use_sde</c>)
    /// instead of independent Gaussian noise each step: the noise is the policy's last hidden layer times an exploration
    /// matrix held for <see cref="SdeSampleFrequency"/> steps, with a learned log std per (feature, action). Smooth,
    /// state-dependent noise is what the zoo's PPO needs on MountainCarContinuous-v0 and Pendulum-v1. Only for Box
    /// action spaces (a run with discrete actions is refused). Default false.
    /// </summary>
    public bool UseSde { get; init; }

    /// <summary>
    /// With <see cref="UseSde"/>: draw a new exploration matrix every this many steps, in [1, 1000000], or -1 (the default)
    /// once per rollout only. A matrix is always drawn at the start of a rollout.
    /// </summary>
    public int SdeSampleFrequency { get; init; } = -1;

    /// <summary>
    /// Initialise the network orthogonally (trunk sqrt 2, policy head 0.01, value head 1), as Stable-Baselines3 and
    /// CleanRL do by default; false leaves PyTorch's default uniform initialisation (SB3's <c>ortho_init=False</c>, which
    /// the zoo's gSDE settings use: a policy head of that scale starts with means far enough from zero to push
    /// MountainCarContinuous's car one way). Default true.
    /// </summary>
    public bool OrthogonalInit { get; init; } = true;

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

    /// <summary>
    /// Every problem with these options, one message per bad field naming the field, its value and the
    /// allowed range. Empty when the options are valid.
    /// </summary>
    public virtual IReadOnlyList<string> Problems()
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
        if (!Enum.IsDefined(LearningRateSchedule)) problems.Add($"{nameof(LearningRateSchedule)} = {LearningRateSchedule} is not one of Constant, Linear.");
        if (!Enum.IsDefined(Optimizer)) problems.Add($"{nameof(Optimizer)} = {Optimizer} is not one of RmsProp, Adam.");
        if (HiddenSizes is null || HiddenSizes.Count == 0)
            problems.Add($"{nameof(HiddenSizes)} must list at least one layer width, each in [1, 65536].");
        else if (HiddenSizes.Any(h => h < 1 || h > 65_536))
            problems.Add($"{nameof(HiddenSizes)} = [{string.Join(", ", HiddenSizes)}] has a width outside [1, 65536].");
        if (!Enum.IsDefined(Body)) problems.Add($"{nameof(Body)} = {Body} is not one of FullyConnected, MinAtarConv, NatureConv.");
        Check.Range(problems, nameof(InitialLogStd), InitialLogStd, -5, 2, minInclusive: true, maxInclusive: true);
        if (SdeSampleFrequency != -1 && (SdeSampleFrequency < 1 || SdeSampleFrequency > 1_000_000))
            problems.Add($"{nameof(SdeSampleFrequency)} = {SdeSampleFrequency} must be -1 (once per rollout) or in [1, 1000000].");
        Check.IntRange(problems, nameof(Workers), Workers, 1, 1024);
        Check.IntRange(problems, nameof(EnvironmentsPerWorker), EnvironmentsPerWorker, 1, 4096);
        if (string.IsNullOrWhiteSpace(Device) || !(Device == "cpu" || Device.StartsWith("cuda", StringComparison.Ordinal) || Device == "mps"))
            problems.Add($"{nameof(Device)} = '{Device}' must be 'cpu', 'cuda', 'cuda:N' or 'mps'.");
        // The algorithm's own options, checked against the ranges its descriptor defines them with.
        if (Algorithms.Of(this) is { } descriptor)
            problems.AddRange(descriptor.Options.Select(o => o.Problem(this)).OfType<string>());
        return problems;
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem, if there is any.</summary>
    public AlgorithmOptions Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new OptionsValidationException(GetType().Name, problems);
        return this;
    }
}
