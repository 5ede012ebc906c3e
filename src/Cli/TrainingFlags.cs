using System.CommandLine;
using System.Globalization;
using Advantage.Actors;
using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;

namespace Advantage.Cli;

/// <summary>What the command line asked for: the run's options and where its folder goes, or the problems.</summary>
/// <param name="Options">The run, validated; null when there are problems.</param>
/// <param name="Output">The run folder the user named; null for the default name.</param>
/// <param name="LogEvery">A progress.csv row every this many updates.</param>
/// <param name="Overwrite">Whether an existing run folder may be written over.</param>
/// <param name="Quiet">Print only the summary.</param>
/// <param name="Changed">Options that differ from the resumed checkpoint's, for a note to the user.</param>
/// <param name="Problems">Every problem, one line each; empty when valid.</param>
internal sealed record BoundRun(TrainingOptions? Options, string? Output, int LogEvery, bool Overwrite, bool Quiet, IReadOnlyList<string> Changed, IReadOnlyList<string> Problems);

/// <summary>
/// The one mapping from command-line flags to <see cref="TrainingOptions"/>, shared by <c>train</c>, <c>learner</c>,
/// <c>local-cluster</c> and the benchmarks: the algorithm's (<c>--algo</c>) preset for the environment first (or the resumed
/// checkpoint's options), then every flag the user gave. Every training option works in every placement, validated the same way.
/// </summary>
/// <remarks>
/// The algorithm options' flags are not written here: each is made from its definition (<see cref="AlgorithmOptions.CommonOptions"/>
/// and every registered algorithm's <see cref="AlgorithmDescriptor.Options"/>), which gives its name, help, parsing and the
/// field a problem names. A flag that a registered algorithm defines belongs to it; with another <c>--algo</c> it is refused.
/// </remarks>
internal sealed class TrainingFlags
{
    /// <summary>The environment trained when neither <c>--env</c> nor a resumed checkpoint names one.</summary>
    public const string DefaultEnvironment = "CartPole-v1";

    /// <summary>Gymnasium's reward thresholds (its registry's <c>reward_threshold</c>): the default target where one exists.</summary>
    private static readonly Dictionary<string, double> Thresholds = new(StringComparer.Ordinal) { ["CartPole-v1"] = 475.0 };

    public readonly Option<string?> Algo;
    public readonly Option<string?> Env = new("--env") { Description = $"Environment id ({string.Join(", ", EnvironmentRegistry.Builtin.Ids)}, or one an --environments assembly registers) [default: {DefaultEnvironment}, or the resumed checkpoint's]" };
    public readonly Option<string[]> Environments = EnvironmentAssemblies.Option();
    public readonly Option<string[]> AlgorithmAssemblyPaths = AlgorithmAssemblies.Option();
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

    /// <summary>One algorithm option's flag: its definition, the algorithms it belongs to (none: every one) and how to read it.</summary>
    private sealed record DefinedFlag(AlgorithmOption Definition, IReadOnlyList<string> Owners, Option Option, Func<ParseResult, object?> Read);

    private readonly IReadOnlyList<DefinedFlag> defined;

    /// <summary>Flags whose help shows A2C's preset for <see cref="DefaultEnvironment"/>.</summary>
    public TrainingFlags()
        : this(null)
    {
    }

    /// <summary>Flags whose help shows <paramref name="algorithm"/>'s preset for <see cref="DefaultEnvironment"/>.</summary>
    /// <param name="algorithm">The <c>--algo</c> the user gave (<see cref="AlgorithmIn"/>); null or an unknown name shows A2C's.</param>
    public TrainingFlags(string? algorithm)
        : this(algorithm, Algorithms.All)
    {
    }

    /// <summary>The flags of <paramref name="algorithms"/> (the registry's, or a chosen few: the README's built-in table).</summary>
    /// <param name="algorithm">The <c>--algo</c> the user gave; null or a name not among <paramref name="algorithms"/> shows A2C's preset.</param>
    /// <param name="algorithms">The algorithms whose options become flags and whose names <c>--algo</c> lists.</param>
    public TrainingFlags(string? algorithm, IReadOnlyList<AlgorithmDescriptor> algorithms)
    {
        Descriptors = algorithms;
        Algo = new("--algo") { Description = $"Algorithm: {string.Join(", ", algorithms.Select(d => d.Name))} (or one an --algorithms assembly registers); presets and defaults are the algorithm's [default: a2c, or the resumed checkpoint's]" };
        var shown = algorithms.FirstOrDefault(d => d.Name == algorithm) ?? Algorithms.Get(A2COptions.AlgorithmName);
        var flags = new List<DefinedFlag>();
        foreach (var definition in AlgorithmOptions.CommonOptions)
            flags.Add(Make(definition, [], shown));
        foreach (var descriptor in algorithms)
        {
            foreach (var definition in descriptor.Options)
            {
                if (definition.Flag is null || flags.Any(f => f.Definition == definition)) continue;
                if (flags.Any(f => f.Definition.Flag == definition.Flag))
                    throw new InvalidOperationException($"{definition.Flag} is defined twice: algorithm '{descriptor.Name}' reuses another option's flag.");
                var owners = algorithms.Where(d => d.Options.Contains(definition)).Select(d => d.Name).ToArray();
                flags.Add(Make(definition, owners, shown));
            }
        }
        defined = flags;
    }

    /// <summary>The algorithms whose options are flags here.</summary>
    public IReadOnlyList<AlgorithmDescriptor> Descriptors { get; }

    /// <summary>Each algorithm option's flag with its definition and the algorithms it belongs to (empty: every one), in <c>--help</c>'s order.</summary>
    public IEnumerable<(Option Option, AlgorithmOption Definition, IReadOnlyList<string> Owners)> AlgorithmFlags =>
        defined.Select(f => (f.Option, f.Definition, f.Owners));

    /// <summary>The flags of the run itself (not of an algorithm's options), in <c>--help</c>'s order.</summary>
    public IEnumerable<Option> RunFlags => All.Except(defined.Select(f => f.Option));

    /// <summary>The flag of a shared option; <c>--workers</c> is read by local-cluster, where it counts per process.</summary>
    public Option<int?> Workers => (Option<int?>)defined.Single(f => f.Definition.Field == nameof(AlgorithmOptions.Workers)).Option;

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

    /// <summary>
    /// The flag of one definition, typed as System.CommandLine parses it (numbers, true/false, lists; enum names through the
    /// definition, in any case), with help that ends in the default of <paramref name="shown"/>'s preset, or of its owner's.
    /// </summary>
    private static DefinedFlag Make(AlgorithmOption definition, IReadOnlyList<string> owners, AlgorithmDescriptor shown)
    {
        string name = definition.Flag!;
        var type = Nullable.GetUnderlyingType(definition.ValueType) ?? definition.ValueType;
        bool applies = owners.Count == 0 || owners.Contains(shown.Name);
        string help = owners.Count == 0 ? definition.Help : $"{definition.Help} (--algo {string.Join(", ", owners)}{(applies ? "" : " only")})";
        if (definition.SwitchValue is { } value)
        {
            var flag = new Option<bool>(name) { Description = help };
            return new DefinedFlag(definition, owners, flag, parse => parse.GetValue(flag) ? value : null);
        }
        // A flag of another algorithm shows no default: --help tells the chosen algorithm's preset, and this flag would be refused with it.
        string description = applies
            ? $"{help} [default: the --algo and --env preset; {shown.Name} on {DefaultEnvironment}: {definition.Format(definition.Get(shown.Preset(DefaultEnvironment)))}]"
            : help;
        if (type == typeof(bool))
        {
            var flag = new Option<bool?>(name) { Description = description };
            return new DefinedFlag(definition, owners, flag, parse => parse.GetValue(flag));
        }
        if (type == typeof(int))
        {
            var flag = new Option<int?>(name) { Description = description };
            return new DefinedFlag(definition, owners, flag, parse => parse.GetValue(flag));
        }
        if (type == typeof(double))
        {
            var flag = new Option<double?>(name) { Description = description };
            return new DefinedFlag(definition, owners, flag, parse => parse.GetValue(flag));
        }
        if (type == typeof(IReadOnlyList<int>))
        {
            var flag = new Option<int[]?>(name) { Description = description, AllowMultipleArgumentsPerToken = true };
            return new DefinedFlag(definition, owners, flag, parse => parse.GetValue(flag));
        }
        var text = new Option<string?>(name) { Description = description };
        return new DefinedFlag(definition, owners, text, parse => parse.GetValue(text) is { } given ? definition.Parse(given) : null);
    }

    /// <summary>Every flag, in the order <c>--help</c> lists them.</summary>
    public IEnumerable<Option> All =>
    [
        Algo, AlgorithmAssemblyPaths, Env, Environments, .. defined.Select(f => f.Option), MaxSteps, Target, ReturnWindow,
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
        if (givenAlgo is not null && Algorithms.Find(givenAlgo) is null)
        {
            problems.Add($"--algo {givenAlgo} is not one of {string.Join(", ", Learners.Names)} (your own with --algorithms).");
            givenAlgo = null;
        }
        if (resume?.Algorithm is { } trainedWith && givenAlgo is not null && givenAlgo != trainedWith)
            problems.Add($"--algo {givenAlgo} contradicts --resume, which was trained with {trainedWith}; a run continues only with the algorithm that wrote its checkpoint.");
        string algo = givenAlgo ?? resume?.Algorithm ?? A2COptions.AlgorithmName;
        var baseline = resume is { CanResume: true } ? resume.Options! : Learners.Preset(algo, env);
        var a = Apply(parse, baseline, problems);
        if (workersTotal is int total) a = a with { Workers = total };
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
        var flagOf = FlagsOfTrainingFields();
        problems.AddRange(options.FieldProblems().Select(p =>
            (p.Option?.Flag ?? flagOf.GetValueOrDefault(p.Field)) is { } flag ? $"{flag}: {p.Message}" : p.Message));
        if (problems.Count == 0 && options.Algorithm.Device != "cpu" && DeviceProblem(options.Algorithm.Device) is { } device) problems.Add(device);
        return new BoundRun(problems.Count == 0 ? options : null, parse.GetValue(Output), logEvery, parse.GetValue(Overwrite), parse.GetValue(Quiet), changed, problems);
    }

    /// <summary>
    /// Every given algorithm flag applied to <paramref name="options"/> through its definition. A flag of another algorithm
    /// is refused, and so is a switch (<c>--n-step</c>) given with a flag that undoes it (<c>--gae-lambda</c>).
    /// </summary>
    private AlgorithmOptions Apply(ParseResult parse, AlgorithmOptions options, List<string> problems)
    {
        var given = new List<(DefinedFlag Flag, object Value)>();
        foreach (var flag in defined)
        {
            if (parse.GetResult(flag.Option) is not { Implicit: false }) continue;
            try
            {
                if (flag.Read(parse) is { } value) given.Add((flag, value));
            }
            catch (FormatException e)
            {
                problems.Add(e.Message);
            }
        }
        foreach (var (flag, _) in given.Where(g => g.Flag.Owners.Count > 0 && !g.Flag.Owners.Contains(options.Algorithm)))
            problems.Add($"{flag.Option.Name} applies to --algo {string.Join(", ", flag.Owners)} only; this run trains {options.Algorithm}.");
        given.RemoveAll(g => g.Flag.Owners.Count > 0 && !g.Flag.Owners.Contains(options.Algorithm));
        foreach (var (switchFlag, on) in given.Where(g => g.Flag.Definition.SwitchValue is not null))
        {
            foreach (var (other, value) in given.Where(g => g.Flag.Definition.SwitchValue is null))
            {
                var probe = other.Definition.Set(switchFlag.Definition.Set(options, on), value);
                if (!Equals(switchFlag.Definition.Get(probe), on))
                    problems.Add($"{switchFlag.Option.Name} and {other.Option.Name} contradict each other; give one.");
            }
        }
        // Switches last, so a switch alone wins over the preset and a contradiction above is the only way to combine them.
        foreach (var (flag, value) in given.OrderBy(g => g.Flag.Definition.SwitchValue is null ? 0 : 1))
            options = flag.Definition.Set(options, value);
        return options;
    }

    /// <summary>The flags of the run's own options, by the <see cref="TrainingOptions"/> field a problem names.</summary>
    private Dictionary<string, string> FlagsOfTrainingFields() => new(StringComparer.Ordinal)
    {
        [nameof(TrainingOptions.EnvironmentId)] = Env.Name,
        [nameof(TrainingOptions.MaxSteps)] = MaxSteps.Name,
        [nameof(TrainingOptions.TargetMeanReturn)] = Target.Name,
        [nameof(TrainingOptions.ReturnWindow)] = ReturnWindow.Name,
        [nameof(TrainingOptions.CheckpointInterval)] = CheckpointInterval.Name,
        [nameof(TrainingOptions.LogInterval)] = LogEvery.Name,
        [nameof(TrainingOptions.ResumeFrom)] = Resume.Name,
        [nameof(TrainingOptions.Evaluation)] = EvalEpisodes.Name,
        [nameof(TrainingOptions.MaxWorkerRestarts)] = MaxWorkerRestarts.Name,
    };

    /// <summary>The default target of an environment: Gymnasium's reward threshold where the project uses one.</summary>
    public static double? TargetFor(string environmentId) => Thresholds.TryGetValue(environmentId, out double t) ? t : null;

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

    /// <summary>The algorithm options a resumed run changes, as "name old -> new".</summary>
    private static IEnumerable<string> Differences(AlgorithmOptions before, AlgorithmOptions after)
    {
        foreach (var property in before.GetType().GetProperties())
        {
            if (property.Name is nameof(AlgorithmOptions.Algorithm) or nameof(AlgorithmOptions.Asynchrony) || property.GetIndexParameters().Length > 0 || property.SetMethod is null) continue;
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
internal static class EnvironmentAssemblies
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

/// <summary>
/// <c>--algorithms MyAlgorithms.dll</c> (repeatable), shared by every command that may meet an algorithm (train, eval, export,
/// learner, worker, local-cluster): the user's assemblies, each registering what it exports through
/// <see cref="IAlgorithmRegistration"/>. Unlike <c>--environments</c> they are loaded before the parser is built
/// (<see cref="Load"/> from Program), because <c>--algo</c>'s values, the algorithm's own flags and <c>--help</c> come from the
/// registered descriptors; the parser only declares the flag.
/// </summary>
internal static class AlgorithmAssemblies
{
    /// <summary>The flag's name.</summary>
    public const string Flag = "--algorithms";

    /// <summary>The flag, as every command declares it (its value was loaded already).</summary>
    public static Option<string[]> Option() => new(Flag)
    {
        Description = "An assembly (.dll) of your own algorithms, registered through Advantage.Learning.IAlgorithmRegistration; repeatable. " +
            "Worker nodes and local-cluster's children load the same file",
    };

    /// <summary>The paths <paramref name="args"/> gives to <c>--algorithms</c> (<c>--algorithms P</c>, <c>--algorithms=P</c>, <c>--algorithms:P</c>), in order.</summary>
    public static IReadOnlyList<string> PathsIn(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var paths = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--") break;
            if (args[i] == Flag && i + 1 < args.Count) paths.Add(args[++i]);
            else if (args[i].StartsWith(Flag + "=", StringComparison.Ordinal) || args[i].StartsWith(Flag + ":", StringComparison.Ordinal)) paths.Add(args[i][(Flag.Length + 1)..]);
        }
        return paths;
    }

    /// <summary>Registers the algorithms of every assembly <paramref name="args"/> names; null, or one line saying which file failed and why.</summary>
    public static string? Load(IReadOnlyList<string> args)
    {
        foreach (string path in PathsIn(args))
        {
            try
            {
                Algorithms.RegisterAssembly(path);
            }
            catch (AlgorithmAssemblyException e)
            {
                return $"{Flag}: {e.Message}";
            }
        }
        return null;
    }
}
