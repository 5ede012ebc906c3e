using System.CommandLine;
using System.Globalization;
using Advantage.Actors;
using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;

namespace Advantage.Samples.Train;

/// <summary>What the command line asked for: the run's options and where its folder goes, or the problems.</summary>
/// <param name="Options">The run, validated; null when there are problems.</param>
/// <param name="Output">The run folder the user named; null for the default name.</param>
/// <param name="LogEvery">A progress.csv row every this many updates.</param>
/// <param name="Overwrite">Whether an existing run folder may be written over.</param>
/// <param name="Quiet">Print only the summary.</param>
/// <param name="Changed">Options that differ from the resumed checkpoint's, for a note to the user.</param>
/// <param name="Problems">Every problem, one line each; empty when valid.</param>
public sealed record BoundRun(TrainingOptions? Options, string? Output, int LogEvery, bool Overwrite, bool Quiet, IReadOnlyList<string> Changed, IReadOnlyList<string> Problems);

/// <summary>
/// The one mapping from command-line flags to <see cref="TrainingOptions"/>, shared by <c>train</c>, <c>learner</c>,
/// <c>local-cluster</c> and the benchmarks: the algorithm's (<c>--algo</c>) preset for the environment first (or the resumed
/// checkpoint's options), then every flag the user gave. Every training option works in every placement, validated the same way.
/// </summary>
public sealed class TrainingFlags
{
    /// <summary>The environment trained when neither <c>--env</c> nor a resumed checkpoint names one.</summary>
    public const string DefaultEnvironment = "CartPole-v1";

    /// <summary>
    /// The preset whose values <c>--help</c> shows: the algorithm given to the constructor. Field initializers cannot read
    /// the instance, so the public constructor sets this (on its thread) before the fields are built, through its
    /// chained call's argument, and the private constructor clears it.
    /// </summary>
    [ThreadStatic]
    private static AlgorithmOptions? showing;

    private static AlgorithmOptions Shown => showing ?? Learners.Preset(A2COptions.AlgorithmName, DefaultEnvironment);
    private static readonly PpoOptions ShownPpo = PpoPresets.For(DefaultEnvironment);
    private static readonly ImpalaOptions ShownImpala = ImpalaPresets.For(DefaultEnvironment);

    /// <summary>Gymnasium's reward thresholds (its registry's <c>reward_threshold</c>): the default target where one exists.</summary>
    private static readonly Dictionary<string, double> Thresholds = new(StringComparer.Ordinal) { ["CartPole-v1"] = 475.0 };

    public readonly Option<string?> Algo = new("--algo") { Description = $"Algorithm: {string.Join(" or ", Learners.Names)}; presets and defaults are the algorithm's [default: a2c, or the resumed checkpoint's]" };
    public readonly Option<string?> Env = new("--env") { Description = $"Environment id ({string.Join(", ", EnvironmentRegistry.Builtin.Ids)}, or one an --environments assembly registers) [default: {DefaultEnvironment}, or the resumed checkpoint's]" };
    public readonly Option<string[]> Environments = EnvironmentAssemblies.Option();
    public readonly Option<int?> Workers = new("--workers") { Description = Preset("Worker actors of the run", Shown.Workers) };
    public readonly Option<int?> EnvsPerWorker = new("--envs-per-worker") { Description = Preset("Environments per worker actor", Shown.EnvironmentsPerWorker) };
    public readonly Option<int?> Rollout = new("--rollout") { Description = Preset("Rollout length T (steps per environment per update)", Shown.RolloutLength) };
    public readonly Option<double?> Gamma = new("--gamma") { Description = Preset("Discount factor", Shown.Gamma) };
    public readonly Option<double?> GaeLambda = new("--gae-lambda") { Description = Preset("Use GAE with this lambda", Shown.Estimator == AdvantageEstimator.Gae ? Shown.GaeLambda : "n-step") };
    public readonly Option<bool> NStep = new("--n-step") { Description = "Use n-step returns instead of GAE" };
    public readonly Option<double?> Lr = new("--lr") { Description = Preset("Learning rate", Shown.LearningRate) };
    public readonly Option<ScheduleKind?> LrSchedule = new("--lr-schedule") { Description = Preset("Learning rate schedule: constant, or linear to zero at --max-steps", Shown.LearningRateSchedule.ToString().ToLowerInvariant()) };
    public readonly Option<double?> EntCoef = new("--ent-coef") { Description = Preset("Entropy bonus coefficient", Shown.EntropyCoefficient) };
    public readonly Option<double?> VfCoef = new("--vf-coef") { Description = Preset("Value loss coefficient", Shown.ValueCoefficient) };
    public readonly Option<double?> MaxGradNorm = new("--max-grad-norm") { Description = Preset("Global gradient-norm clip", Shown.MaxGradNorm) };
    public readonly Option<OptimizerKind?> Optimizer = new("--optimizer") { Description = Preset("RmsProp or Adam", Shown.Optimizer) };
    public readonly Option<double?> RmsPropAlpha = new("--rmsprop-alpha") { Description = Preset("RMSprop smoothing constant", Shown.RmsPropAlpha) };
    public readonly Option<double?> OptimizerEps = new("--optimizer-eps") { Description = Preset("Optimizer epsilon", Shown.OptimizerEpsilon) };
    public readonly Option<bool?> NormalizeAdvantages = new("--normalize-advantages") { Description = Preset("Normalise advantages per batch (true/false)", Shown.NormalizeAdvantages) };
    public readonly Option<bool?> NormalizeObservations = new("--normalize-observations") { Description = Preset("Normalise observations with running statistics learned by the learner (true/false)", Shown.NormalizeObservations) };
    public readonly Option<bool?> NormalizeRewards = new("--normalize-rewards") { Description = Preset("Scale rewards by the running std of the discounted return (true/false)", Shown.NormalizeRewards) };
    public readonly Option<BodyKind?> Body = new("--body") { Description = Preset("Network trunk: FullyConnected, MinAtarConv or NatureConv", Shown.Body) };
    public readonly Option<bool?> SeparateNetworks = new("--separate-networks") { Description = Preset("Policy and value each get their own hidden layers (true/false) instead of one shared trunk", Shown.SeparateNetworks) };
    public readonly Option<double?> LogStdInit = new("--log-std-init") { Description = Preset("Initial log std of a Gaussian policy (Box actions)", Shown.InitialLogStd) };
    public readonly Option<bool?> UseSde = new("--use-sde") { Description = Preset("Generalised state-dependent exploration (gSDE) for a Gaussian policy (true/false)", Shown.UseSde) };
    public readonly Option<int?> SdeSampleFreq = new("--sde-sample-freq") { Description = Preset("With --use-sde: steps between exploration-matrix draws, or -1 for once per rollout", Shown.SdeSampleFrequency) };
    public readonly Option<bool?> OrthoInit = new("--ortho-init") { Description = Preset("Orthogonal initialisation (true) or PyTorch's default uniform one (false)", Shown.OrthogonalInit) };
    public readonly Option<int[]?> Hidden = new("--hidden") { Description = Preset("Hidden layer widths", string.Join(" ", Shown.HiddenSizes)), AllowMultipleArgumentsPerToken = true };
    public readonly Option<double?> ClipRange = new("--clip-range") { Description = PpoPreset("PPO: clip of the probability ratio", ShownPpo.ClipRange) };
    public readonly Option<ScheduleKind?> ClipSchedule = new("--clip-schedule") { Description = PpoPreset("PPO: clip range schedule, constant or linear to zero at --max-steps", ShownPpo.ClipRangeSchedule.ToString().ToLowerInvariant()) };
    public readonly Option<int?> Epochs = new("--epochs") { Description = PpoPreset("PPO: passes over each round's batch", ShownPpo.Epochs) };
    public readonly Option<int?> Minibatches = new("--minibatches") { Description = PpoPreset("PPO: minibatches per epoch (one optimizer step each)", ShownPpo.Minibatches) };
    public readonly Option<double?> TargetKl = new("--target-kl") { Description = PpoPreset("PPO: stop an update's steps past 1.5 x this approximate KL", "none") };
    public readonly Option<double?> ClipValue = new("--clip-value") { Description = PpoPreset("PPO: clip the value prediction to within this of the collecting value", "none") };
    public readonly Option<int?> MaxLag = new("--max-lag") { Description = PpoPreset("IMPALA: drop rollouts collected more than this many versions ago", ShownImpala.MaxLag) };
    public readonly Option<int?> BatchRollouts = new("--batch-rollouts") { Description = "IMPALA: rollouts per update, in arrival order [default: one per worker]" };
    public readonly Option<int?> InFlight = new("--rollouts-in-flight") { Description = PpoPreset("IMPALA: rollouts a worker may have unacknowledged before it waits (at least --batch-rollouts)", ShownImpala.RolloutsInFlight) };
    public readonly Option<double?> TraceLambda = new("--trace-lambda") { Description = PpoPreset("IMPALA: V-trace's lambda", ShownImpala.TraceLambda) };
    public readonly Option<double?> RhoBar = new("--rho-bar") { Description = PpoPreset("IMPALA: clip of the importance ratio in V-trace's TD term", ShownImpala.RhoBar ?? double.PositiveInfinity) };
    public readonly Option<double?> CBar = new("--c-bar") { Description = PpoPreset("IMPALA: clip of the importance ratio in V-trace's traces", ShownImpala.CBar ?? double.PositiveInfinity) };
    public readonly Option<int?> Seed = new("--seed") { Description = "Seed of environments, sampling and initial weights [default: 1, or the resumed checkpoint's]" };
    public readonly Option<string?> Device = new("--device") { Description = "Torch device of the learner (cpu, cuda, cuda:0) [default: cpu]" };
    public readonly Option<long> MaxSteps = new("--max-steps") { Description = "Step budget, counted from the start of the original run", DefaultValueFactory = _ => 1_000_000 };
    public readonly Option<double?> Target = new("--target-return") { Description = "Stop when the mean return of the last --return-window episodes reaches this [default: 475 on CartPole-v1, none elsewhere]" };
    public readonly Option<int> ReturnWindow = new("--return-window") { Description = "Episodes the mean return is taken over", DefaultValueFactory = _ => 100 };
    public readonly Option<string?> Resume = new("--resume") { Description = "Continue the run saved in this training checkpoint (its options and environment; flags given here change what may change)" };
    public readonly Option<int> CheckpointInterval = new("--checkpoint-interval") { Description = "Write last.ckpt every this many updates (0: only at the end)", DefaultValueFactory = _ => 500 };
    public readonly Option<int> EvalEvery = new("--eval-every") { Description = "Evaluate with deterministic actions every this many updates, keeping best.ckpt (0: never)", DefaultValueFactory = _ => 0 };
    public readonly Option<int> EvalEpisodes = new("--eval-episodes") { Description = "Episodes per evaluation", DefaultValueFactory = _ => 10 };
    public readonly Option<int> LogEvery = new("--log-every") { Description = "Write a progress.csv row every this many updates", DefaultValueFactory = _ => 5 };
    public readonly Option<string?> Output = new("--output") { Description = "Run folder [default: runs/<env>-seed<seed>-<time>]" };
    public readonly Option<bool> Overwrite = new("--overwrite") { Description = "Write into an existing, non-empty run folder" };
    public readonly Option<bool> Quiet = new("--quiet") { Description = "Print only the summary" };
    public readonly Option<int> MaxWorkerRestarts = new("--max-worker-restarts") { Description = "Worker restarts (an environment threw or produced NaN) the run tolerates in all; one more ends it as failed", DefaultValueFactory = _ => 100 };
    public readonly Option<bool> SkipEnvCheck = new("--skip-env-check") { Description = "Start without the environment check every run does first (see the check command)" };

    /// <summary>Flags whose help shows <see cref="A2COptions"/>' preset for <see cref="DefaultEnvironment"/>.</summary>
    public TrainingFlags()
        : this((string?)null)
    {
    }

    /// <summary>Flags whose help shows <paramref name="algorithm"/>'s preset for <see cref="DefaultEnvironment"/>.</summary>
    /// <param name="algorithm">The <c>--algo</c> the user gave (<see cref="AlgorithmIn"/>); null or an unknown name shows A2C's.</param>
    public TrainingFlags(string? algorithm)
        : this(Show(algorithm))
    {
    }

    private TrainingFlags(bool _) => showing = null;

    private static bool Show(string? algorithm)
    {
        showing = algorithm is not null && Learners.Names.Contains(algorithm, StringComparer.Ordinal)
            ? Learners.Preset(algorithm, DefaultEnvironment)
            : Learners.Preset(A2COptions.AlgorithmName, DefaultEnvironment);
        return true;
    }

    /// <summary>The value of <c>--algo</c> in <paramref name="args"/> (<c>--algo ppo</c>, <c>--algo=ppo</c> or <c>--algo:ppo</c>), or null.</summary>
    public static string? AlgorithmIn(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--algo" && i + 1 < args.Count) return args[i + 1];
            if (args[i].StartsWith("--algo=", StringComparison.Ordinal) || args[i].StartsWith("--algo:", StringComparison.Ordinal)) return args[i]["--algo=".Length..];
        }
        return null;
    }

    private static string Preset(string text, object value) =>
        $"{text} [default: the --algo and --env preset; {Shown.Algorithm} on {DefaultEnvironment}: {Convert.ToString(value, CultureInfo.InvariantCulture)}]";

    private static string PpoPreset(string text, object value) =>
        $"{text} [default: the --env preset; {DefaultEnvironment}: {Convert.ToString(value, CultureInfo.InvariantCulture)}]";

    /// <summary>Every flag, in the order <c>--help</c> lists them.</summary>
    public IEnumerable<Option> All =>
    [
        Algo, Env, Environments, Workers, EnvsPerWorker, Rollout, Gamma, GaeLambda, NStep, Lr, LrSchedule, EntCoef, VfCoef, MaxGradNorm, Optimizer, RmsPropAlpha, OptimizerEps,
        NormalizeAdvantages, NormalizeObservations, NormalizeRewards, Body, SeparateNetworks, LogStdInit, UseSde, SdeSampleFreq, OrthoInit, Hidden, ClipRange, ClipSchedule, Epochs, Minibatches, TargetKl, ClipValue, MaxLag, BatchRollouts, InFlight, TraceLambda, RhoBar, CBar, Seed, Device, MaxSteps, Target, ReturnWindow,
        Resume, CheckpointInterval, EvalEvery, EvalEpisodes, LogEvery, Output, Overwrite, Quiet, MaxWorkerRestarts, SkipEnvCheck,
    ];

    /// <summary>Adds every flag to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in All) command.Options.Add(option);
    }

    /// <summary>The training flags the user gave, as tokens, to hand to another process (local-cluster's learner).</summary>
    public IEnumerable<string> Given(ParseResult parse)
    {
        foreach (var option in All)
        {
            if (parse.GetResult(option) is not { Implicit: false } result) continue;
            yield return option.Name;
            foreach (var token in result.Tokens) yield return token.Value;
        }
    }

    /// <summary>
    /// The run: resumed checkpoint's options or the environment's preset, then every given flag; validated. Refuses,
    /// with a reason, a checkpoint that cannot be read or resumed and a flag that contradicts it (another environment).
    /// </summary>
    /// <param name="parse">The parsed command line.</param>
    /// <param name="workersTotal">
    /// The run's worker count when the command's <c>--workers</c> means something else (local-cluster: per process), so every
    /// check that depends on the total (PPO's minibatches against a round's transitions) sees the run that will train.
    /// </param>
    public BoundRun Bind(ParseResult parse, int? workersTotal = null)
    {
        // Your environments first: everything after may name them (--env, a resumed checkpoint's environment).
        var (registry, notLoaded) = EnvironmentAssemblies.Load(parse, Environments);
        if (registry is null) return new BoundRun(null, parse.GetValue(Output), parse.GetValue(LogEvery), parse.GetValue(Overwrite), parse.GetValue(Quiet), [], [notLoaded!]);
        var problems = new List<string>();
        var changed = new List<string>();
        Checkpoint? resume = null;
        if (parse.GetValue(Resume) is { } resumePath)
        {
            try
            {
                resume = Checkpoint.Load(resumePath);
                if (!resume.CanResume) problems.Add($"--resume: '{resumePath}' is a bare model without optimizer state and counters; only a training checkpoint (last.ckpt, best.ckpt) can be resumed.");
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                problems.Add($"--resume: {e.Message}");
            }
        }
        string? givenEnv = parse.GetValue(Env);
        string env = givenEnv ?? resume?.EnvironmentId ?? DefaultEnvironment;
        if (resume?.EnvironmentId is { } saved && givenEnv is not null && givenEnv != saved)
            problems.Add($"--env {givenEnv} contradicts --resume, which was trained on '{saved}'; leave --env out or give '{saved}'.");
        string? givenAlgo = parse.GetValue(Algo);
        if (givenAlgo is not null && !Learners.Names.Contains(givenAlgo))
        {
            problems.Add($"--algo {givenAlgo} is not one of {string.Join(", ", Learners.Names)}.");
            givenAlgo = null;
        }
        if (resume?.Algorithm is { } trainedWith && givenAlgo is not null && givenAlgo != trainedWith)
            problems.Add($"--algo {givenAlgo} contradicts --resume, which was trained with {trainedWith}; a run continues only with the algorithm that wrote its checkpoint.");
        string algo = givenAlgo ?? resume?.Algorithm ?? A2COptions.AlgorithmName;
        var baseline = resume is { CanResume: true } ? resume.Options! : Learners.Preset(algo, env);
        var a = baseline;
        T Pick<T>(Option<T?> option, T current) where T : struct => parse.GetResult(option) is { Implicit: false } && parse.GetValue(option) is T v ? v : current;
        T PickRef<T>(Option<T?> option, T current) where T : class => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option) ?? current : current;
        a = a with
        {
            Workers = workersTotal ?? Pick(Workers, a.Workers),
            EnvironmentsPerWorker = Pick(EnvsPerWorker, a.EnvironmentsPerWorker),
            RolloutLength = Pick(Rollout, a.RolloutLength),
            Gamma = Pick(Gamma, a.Gamma),
            LearningRate = Pick(Lr, a.LearningRate),
            LearningRateSchedule = Pick(LrSchedule, a.LearningRateSchedule),
            EntropyCoefficient = Pick(EntCoef, a.EntropyCoefficient),
            ValueCoefficient = Pick(VfCoef, a.ValueCoefficient),
            MaxGradNorm = Pick(MaxGradNorm, a.MaxGradNorm),
            Optimizer = Pick(Optimizer, a.Optimizer),
            RmsPropAlpha = Pick(RmsPropAlpha, a.RmsPropAlpha),
            OptimizerEpsilon = Pick(OptimizerEps, a.OptimizerEpsilon),
            NormalizeAdvantages = Pick(NormalizeAdvantages, a.NormalizeAdvantages),
            NormalizeObservations = Pick(NormalizeObservations, a.NormalizeObservations),
            NormalizeRewards = Pick(NormalizeRewards, a.NormalizeRewards),
            Body = Pick(Body, a.Body),
            SeparateNetworks = Pick(SeparateNetworks, a.SeparateNetworks),
            InitialLogStd = Pick(LogStdInit, a.InitialLogStd),
            UseSde = Pick(UseSde, a.UseSde),
            SdeSampleFrequency = Pick(SdeSampleFreq, a.SdeSampleFrequency),
            OrthogonalInit = Pick(OrthoInit, a.OrthogonalInit),
            HiddenSizes = parse.GetResult(Hidden) is { Implicit: false } && parse.GetValue(Hidden) is { } hidden ? hidden : a.HiddenSizes,
            Seed = Pick(Seed, a.Seed),
            Device = PickRef(Device, a.Device),
        };
        if (a is ImpalaOptions && (parse.GetResult(GaeLambda) is { Implicit: false } || parse.GetValue(NStep)))
            problems.Add("--gae-lambda and --n-step choose A2C's and PPO's estimator; IMPALA's is V-trace (--trace-lambda).");
        if (parse.GetValue(GaeLambda) is double lambda) a = a with { Estimator = AdvantageEstimator.Gae, GaeLambda = lambda };
        if (parse.GetValue(NStep)) a = parse.GetValue(GaeLambda) is null ? a with { Estimator = AdvantageEstimator.NStep } : Add(problems, a, "--n-step and --gae-lambda contradict each other; give one.");
        if (a is PpoOptions ppo)
        {
            a = ppo with
            {
                ClipRange = Pick(ClipRange, ppo.ClipRange),
                ClipRangeSchedule = Pick(ClipSchedule, ppo.ClipRangeSchedule),
                Epochs = Pick(Epochs, ppo.Epochs),
                Minibatches = Pick(Minibatches, ppo.Minibatches),
                TargetKl = parse.GetValue(TargetKl) ?? ppo.TargetKl,
                ClipRangeValue = parse.GetValue(ClipValue) ?? ppo.ClipRangeValue,
            };
        }
        else
        {
            RefuseForeign(parse, problems, PpoOptions.AlgorithmName, a, ClipRange, ClipSchedule, Epochs, Minibatches, TargetKl, ClipValue);
        }
        if (a is ImpalaOptions impala)
        {
            a = impala with
            {
                MaxLag = Pick(MaxLag, impala.MaxLag),
                BatchRollouts = parse.GetValue(BatchRollouts) ?? impala.BatchRollouts,
                RolloutsInFlight = Pick(InFlight, impala.RolloutsInFlight),
                TraceLambda = Pick(TraceLambda, impala.TraceLambda),
                RhoBar = parse.GetValue(RhoBar) ?? impala.RhoBar,
                CBar = parse.GetValue(CBar) ?? impala.CBar,
            };
        }
        else
        {
            RefuseForeign(parse, problems, ImpalaOptions.AlgorithmName, a, MaxLag, BatchRollouts, InFlight, TraceLambda, RhoBar, CBar);
        }
        if (resume is { CanResume: true }) changed.AddRange(Differences(baseline, a));

        int every = parse.GetValue(EvalEvery), logEvery = parse.GetValue(LogEvery);
        if (every < 0) problems.Add($"--eval-every = {every} must be 0 (never) or positive.");
        if (logEvery < 1) problems.Add($"--log-every = {logEvery} must be at least 1.");
        var options = new TrainingOptions
        {
            Algorithm = a,
            EnvironmentId = env,
            Environments = registry,
            MaxSteps = parse.GetValue(MaxSteps),
            TargetMeanReturn = parse.GetValue(Target) ?? TargetFor(env),
            ReturnWindow = parse.GetValue(ReturnWindow),
            ResumeFrom = resume is { CanResume: true } ? resume : null,
            CheckpointInterval = parse.GetValue(CheckpointInterval),
            LogInterval = Math.Max(1, logEvery), // below 1 is refused above, once
            Evaluation = every > 0 ? new EvaluationOptions { EveryUpdates = every, Episodes = parse.GetValue(EvalEpisodes) } : null,
            MaxWorkerRestarts = parse.GetValue(MaxWorkerRestarts),
            EnvironmentCheck = parse.GetValue(SkipEnvCheck) ? null : EnvironmentCheckOptions.BeforeTraining,
        };
        problems.AddRange(options.Problems().Select(Flagged));
        if (problems.Count == 0 && options.Algorithm.Device != "cpu" && DeviceProblem(options.Algorithm.Device) is { } device) problems.Add(device);
        return new BoundRun(problems.Count == 0 ? options : null, parse.GetValue(Output), logEvery, parse.GetValue(Overwrite), parse.GetValue(Quiet), changed, problems);
    }

    /// <summary>The default target of an environment: Gymnasium's reward threshold where the project uses one.</summary>
    public static double? TargetFor(string environmentId) => Thresholds.TryGetValue(environmentId, out double t) ? t : null;

    /// <summary>One problem per given flag of <paramref name="owner"/>'s own when the run trains another algorithm.</summary>
    private static void RefuseForeign(ParseResult parse, List<string> problems, string owner, AlgorithmOptions run, params Option[] flags)
    {
        foreach (var option in flags)
            if (parse.GetResult(option) is { Implicit: false }) problems.Add($"{option.Name} applies to --algo {owner} only; this run trains {run.Algorithm}.");
    }

    private static AlgorithmOptions Add(List<string> problems, AlgorithmOptions options, string problem)
    {
        problems.Add(problem);
        return options;
    }

    /// <summary>A device that is not there, said before anything is created.</summary>
    private static string? DeviceProblem(string device)
    {
        try
        {
            var d = TorchSharp.torch.device(device);
            if (d.type == TorchSharp.DeviceType.CUDA && !TorchSharp.torch.cuda.is_available())
                return $"--device {device}: this machine has no CUDA device (use cpu).";
            return null;
        }
        catch (Exception e)
        {
            return $"--device {device}: {e.Message}";
        }
    }

    /// <summary>Names the command-line flag in an options problem ("Algorithm.LearningRate = 0 ..." gets "--lr: ").</summary>
    private static string Flagged(string problem)
    {
        string field = problem.Split(' ', 2)[0].Replace("Algorithm.", "", StringComparison.Ordinal);
        string? flag = field switch
        {
            "Workers" => "--workers", "EnvironmentsPerWorker" => "--envs-per-worker", "RolloutLength" => "--rollout", "Gamma" => "--gamma",
            "GaeLambda" => "--gae-lambda", "LearningRate" => "--lr", "LearningRateSchedule" => "--lr-schedule", "ClipRangeSchedule" => "--clip-schedule", "EntropyCoefficient" => "--ent-coef", "ValueCoefficient" => "--vf-coef",
            "MaxGradNorm" => "--max-grad-norm", "RmsPropAlpha" => "--rmsprop-alpha", "OptimizerEpsilon" => "--optimizer-eps",
            "HiddenSizes" => "--hidden", "InitialLogStd" => "--log-std-init", "UseSde" => "--use-sde", "SdeSampleFrequency" => "--sde-sample-freq", "Device" => "--device", "Seed" => "--seed",
            "EnvironmentId" => "--env", "MaxSteps" => "--max-steps", "TargetMeanReturn" => "--target-return", "ReturnWindow" => "--return-window",
            "CheckpointInterval" => "--checkpoint-interval", "LogInterval" => "--log-every", "ClipRange" => "--clip-range", "Epochs" => "--epochs",
            "Minibatches" => "--minibatches", "TargetKl" => "--target-kl", "ClipRangeValue" => "--clip-value", "MaxLag" => "--max-lag", "BatchRollouts" => "--batch-rollouts", "RolloutsInFlight" => "--rollouts-in-flight",
            "TraceLambda" => "--trace-lambda", "RhoBar" => "--rho-bar", "CBar" => "--c-bar", "ResumeFrom" => "--resume", "Evaluation.Episodes" => "--eval-episodes",
            "MaxWorkerRestarts" => "--max-worker-restarts",
            _ => null,
        };
        return flag is null ? problem : $"{flag}: {problem}";
    }

    /// <summary>The algorithm options a resumed run changes, as "name old -> new".</summary>
    private static IEnumerable<string> Differences(AlgorithmOptions before, AlgorithmOptions after)
    {
        foreach (var property in before.GetType().GetProperties())
        {
            if (property.Name is nameof(AlgorithmOptions.Algorithm) or nameof(AlgorithmOptions.Asynchrony) || property.GetIndexParameters().Length > 0) continue;
            object? x = property.GetValue(before), y = property.GetValue(after);
            string a = x is IEnumerable<int> xs ? string.Join(" ", xs) : Convert.ToString(x, CultureInfo.InvariantCulture) ?? "";
            string b = y is IEnumerable<int> ys ? string.Join(" ", ys) : Convert.ToString(y, CultureInfo.InvariantCulture) ?? "";
            if (a != b) yield return $"{property.Name} {a} -> {b}";
        }
    }
}

/// <summary>
/// <c>--environments MyEnvs.dll</c> (repeatable), shared by every command that makes environments: the user's assemblies,
/// each registering what it exports through <see cref="IEnvironmentRegistration"/>, on top of the built-in set.
/// </summary>
public static class EnvironmentAssemblies
{
    /// <summary>The flag, as every command declares it.</summary>
    public static Option<string[]> Option() => new("--environments")
    {
        Description = "An assembly (.dll) of your own environments, registered through Advantage.Environments.IEnvironmentRegistration; repeatable. " +
            "Worker nodes and local-cluster's children load the same file",
    };

    /// <summary>The built-in set plus every assembly given, or null and one line saying which file failed and why.</summary>
    public static (EnvironmentRegistry? Registry, string? Problem) Load(ParseResult parse, Option<string[]> option)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(option);
        try
        {
            return (EnvironmentRegistry.Builtin.WithAssemblies(parse.GetValue(option) ?? []), null);
        }
        catch (EnvironmentAssemblyException e)
        {
            return (null, $"--environments: {e.Message}");
        }
    }
}
