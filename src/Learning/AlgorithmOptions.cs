using System.Text.Json.Serialization;
using Advantage.Learning.Networks;

namespace Advantage.Learning;

/// <summary>
/// The hyperparameters every actor-critic algorithm of this library shares: how experience is collected (workers,
/// environments, rollout length, seed), how advantages are estimated, the network, the optimizer and the
/// losses' common coefficients. One base record is what lets <c>TrainingOptions.Algorithm</c> be a single field
/// that both names the algorithm (by its concrete type: <see cref="A2COptions"/>, <see cref="PpoOptions"/>, <see cref="ImpalaOptions"/>, yours) and
/// carries everything the actors need (workers, rollout length, seed) without knowing which algorithm runs.
/// </summary>
/// <remarks>
/// Every concrete record is sealed and registered with its <see cref="AlgorithmDescriptor"/> (<see cref="Algorithms.Register"/>),
/// which <see cref="Learners.Create"/> turns into its learner. Checkpoints store the concrete record with an
/// <c>algorithm</c> discriminator ("a2c", "ppo", "impala", or a registered algorithm's name), resolved through the registry.
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

    /// <summary>The algorithm's short name ("a2c", "ppo", "impala"): the checkpoint's <c>algorithm</c> field and <c>--algo</c>'s value.</summary>
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
    /// The shared options, each defined once (field, flag, help, range, hyperparameter name): <see cref="Problems"/>, the
    /// command line and TensorBoard's table derive from this table, so none of them keeps its own copy of a range or a flag.
    /// </summary>
    public static IReadOnlyList<AlgorithmOption> CommonOptions { get; } =
    [
        Shared(nameof(Workers), "--workers", "Worker actors of the run") with { Range = new(1, 1024) },
        Shared(nameof(EnvironmentsPerWorker), "--envs-per-worker", "Environments per worker actor") with { Range = new(1, 4096), Hyperparameter = "envs_per_worker" },
        Shared(nameof(RolloutLength), "--rollout", "Rollout length T (steps per environment per update)") with { Range = new(1, 10_000) },
        Shared(nameof(Gamma), "--gamma", "Discount factor") with { Range = new(0, 1) },
        Shared(nameof(LearningRate), "--lr", "Learning rate") with { Range = new(0, 1, MinimumInclusive: false) },
        Shared(nameof(LearningRateSchedule), "--lr-schedule", "Learning rate schedule: constant, or linear to zero at --max-steps"),
        Shared(nameof(EntropyCoefficient), "--ent-coef", "Entropy bonus coefficient") with { Range = new(0, 1), Hyperparameter = "ent_coef" },
        Shared(nameof(ValueCoefficient), "--vf-coef", "Value loss coefficient") with { Range = new(0, 100), Hyperparameter = "vf_coef" },
        Shared(nameof(MaxGradNorm), "--max-grad-norm", "Global gradient-norm clip") with { Range = new(0, 1e6, MinimumInclusive: false) },
        Shared(nameof(Optimizer), "--optimizer", "RmsProp or Adam"),
        Shared(nameof(RmsPropAlpha), "--rmsprop-alpha", "RMSprop smoothing constant") with { Range = new(0, 1, false, false), Hyperparameter = "rmsprop_alpha" },
        Shared(nameof(OptimizerEpsilon), "--optimizer-eps", "Optimizer epsilon") with { Range = new(0, 1, false, false), Hyperparameter = "optimizer_eps" },
        Shared(nameof(NormalizeAdvantages), "--normalize-advantages", "Normalise advantages per batch (true/false)"),
        Shared(nameof(NormalizeObservations), "--normalize-observations", "Normalise observations with running statistics learned by the learner (true/false)"),
        Shared(nameof(NormalizeRewards), "--normalize-rewards", "Scale rewards by the running std of the discounted return (true/false)"),
        Shared(nameof(Body), "--body", "Network trunk: FullyConnected, MinAtarConv or NatureConv"),
        Shared(nameof(SeparateNetworks), "--separate-networks", "Policy and value each get their own hidden layers (true/false) instead of one shared trunk"),
        Shared(nameof(InitialLogStd), "--log-std-init", "Initial log std of a Gaussian policy (Box actions)") with { Range = new(-5, 2) },
        Shared(nameof(UseSde), "--use-sde", "Generalised state-dependent exploration (gSDE) for a Gaussian policy (true/false)"),
        Shared(nameof(SdeSampleFrequency), "--sde-sample-freq", "With --use-sde: steps between exploration-matrix draws, or -1 for once per rollout") with
        {
            Hyperparameter = "sde_sample_freq",
            Rule = o => o.SdeSampleFrequency == -1 || o.SdeSampleFrequency is >= 1 and <= 1_000_000
                ? null : $"{nameof(SdeSampleFrequency)} = {o.SdeSampleFrequency} must be -1 (once per rollout) or in [1, 1000000].",
        },
        Shared(nameof(OrthogonalInit), "--ortho-init", "Orthogonal initialisation (true) or PyTorch's default uniform one (false)") with { Hyperparameter = "ortho_init" },
        Shared(nameof(HiddenSizes), "--hidden", "Hidden layer widths") with { Range = new(1, 65_536) },
        Shared(nameof(Seed), "--seed", "Seed of environments, sampling and initial weights"),
        Shared(nameof(Device), "--device", "Torch device of the learner (cpu, cuda, cuda:0)") with
        {
            Rule = o => o.Device is { } d && !string.IsNullOrWhiteSpace(d) && (d == "cpu" || d.StartsWith("cuda", StringComparison.Ordinal) || d == "mps")
                ? null : $"{nameof(Device)} = '{o.Device}' must be 'cpu', 'cuda', 'cuda:N' or 'mps'.",
        },
    ];

    /// <summary>
    /// The n-step/GAE estimator's options, for the algorithms that use it (A2C, PPO; IMPALA's estimator is V-trace):
    /// <c>--gae-lambda</c> chooses GAE with that lambda, <c>--n-step</c> n-step returns. A descriptor lists them to take them.
    /// </summary>
    public static IReadOnlyList<AlgorithmOption> EstimatorOptions { get; } =
    [
        Shared(nameof(GaeLambda), "--gae-lambda", "Use GAE with this lambda") with
        {
            Range = new(0, 1),
            Implies = o => o with { Estimator = AdvantageEstimator.Gae },
        },
        Shared(nameof(Estimator), "--n-step", "Use n-step returns instead of GAE") with { SwitchValue = AdvantageEstimator.NStep },
    ];

    private static AlgorithmOption Shared(string field, string flag, string help) => new(typeof(AlgorithmOptions), field, flag, help);

    /// <summary>
    /// Every problem with these options, one message per bad field naming the field, its value and the allowed range:
    /// the shared options' (<see cref="CommonOptions"/>) and those of the registered algorithm these options belong to.
    /// Empty when the options are valid.
    /// </summary>
    public IReadOnlyList<string> Problems() => FieldProblems().Select(p => p.Message).ToList();

    /// <summary>
    /// <see cref="Problems"/> with the option each is about, so a caller that names options its own way (the command
    /// line's flags) needs no parsing of the message. An algorithm with a rule across fields adds it here.
    /// </summary>
    public virtual IReadOnlyList<OptionProblem> FieldProblems()
    {
        var own = Algorithms.Of(this)?.Options ?? [];
        return CommonOptions.Concat(own)
            .Select(option => option.Problem(this) is { } message ? new OptionProblem(option.Field, message) { Option = option } : null)
            .OfType<OptionProblem>()
            .ToList();
    }
}

/// <summary>
/// One problem with an options record, with what it is about, so a caller that names options its own way (the command
/// line's flags) finds the option without parsing the message.
/// </summary>
/// <param name="Field">The property the problem is about (for a nested record's, the property that holds it).</param>
/// <param name="Message">One line naming the field, its value and what is allowed.</param>
public sealed record OptionProblem(string Field, string Message)
{
    /// <summary>The algorithm option's definition when the problem is about one (its flag, its help); null otherwise.</summary>
    public AlgorithmOption? Option { get; init; }
}
