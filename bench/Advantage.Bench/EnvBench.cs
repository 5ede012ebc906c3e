using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Advantage.Actors;
using Advantage.Environments;
using Advantage.Learning;

namespace Advantage.Bench;

/// <summary>
/// Learning quality (issue 4): for each environment's tuned <see cref="EnvPreset"/>, train each seed
/// sequentially to the full step budget in a fresh actor system, sample the mean return of the last 100
/// episodes at every progress interval, and record the first step at which it reached the target. Writes
/// <c>envs.json</c> (merged with an existing one, so environments can be run one invocation at a time) and
/// one PNG learning curve per environment.
/// </summary>
public static class EnvBench
{
    public sealed record Settings(IReadOnlyList<string> Environments, int[] Seeds, string OutputFolder, TimeSpan Interval, long? MaxSteps, bool Verbose)
    {
        /// <summary>The preset table: A2C's (<see cref="EnvPresets.All"/>) or PPO's (<see cref="EnvPresets.Ppo"/>).</summary>
        public IReadOnlyList<EnvPreset> Presets { get; init; } = EnvPresets.All;
    }

    public sealed record CurvePoint(long Steps, double Seconds, long Episodes, double MeanReturn100);

    public sealed record SeedResult(
        int Seed,
        long Steps,
        double WallSeconds,
        long Episodes,
        double FinalMeanReturn100,
        double BestMeanReturn100,
        long? FirstStepAtTarget,
        bool ReachedTarget,
        long RejectedRollouts,
        long WorkerRestarts,
        IReadOnlyList<CurvePoint> Curve)
    {
        /// <summary>Mean return of the final policy over the preset's deterministic evaluation episodes; null without evaluation.</summary>
        public double? EvaluationMean { get; init; }

        /// <summary>Standard deviation of those returns.</summary>
        public double? EvaluationStd { get; init; }
    }

    public sealed record EnvResult(
        string Environment,
        double Target,
        string TargetRule,
        long Budget,
        int SeedsRequired,
        int SeedsReachingTarget,
        bool TargetMet,
        string Sources,
        object Hyperparameters,
        MachineInfo Machine,
        string Plot,
        IReadOnlyList<SeedResult> Seeds)
    {
        /// <summary>The algorithm trained ("a2c", "ppo").</summary>
        public string Algorithm => ((AlgorithmOptions)Hyperparameters).Algorithm;

        /// <summary>Deterministic evaluation episodes per seed (0: the target is judged on the training episodes).</summary>
        public int EvaluationEpisodes { get; init; }
    }

    public static int Run(Settings settings)
    {
        var presets = new List<EnvPreset>();
        foreach (var id in settings.Environments)
        {
            var preset = EnvPresets.Find(settings.Presets, id);
            if (preset is null)
            {
                Console.Error.WriteLine($"No preset for '{id}'; known: {string.Join(", ", settings.Presets.Select(p => p.EnvironmentId))}.");
                return 2;
            }
            presets.Add(preset);
        }
        Directory.CreateDirectory(settings.OutputFolder);
        string jsonPath = Path.Combine(settings.OutputFolder, "envs.json");
        foreach (var preset in presets)
        {
            var result = RunEnvironment(preset, settings);
            Merge(jsonPath, result);
        }
        return 0;
    }

    private static EnvResult RunEnvironment(EnvPreset preset, Settings settings)
    {
        var machine = MachineInfo.Capture();
        long budget = settings.MaxSteps ?? preset.Budget;
        var seeds = new List<SeedResult>();
        Console.WriteLine($"== {preset.EnvironmentId}: budget {budget:N0} steps, target {preset.Target} ({preset.TargetRule}), seeds {string.Join(",", settings.Seeds)}; load {machine.LoadAverageBefore}");
        foreach (int seed in settings.Seeds)
        {
            string? checkpoints = preset.EvaluationEpisodes > 0 ? Directory.CreateTempSubdirectory("advantage-envbench-").FullName : null;
            var options = new TrainingOptions
            {
                Algorithm = preset.Algorithm with { Seed = seed },
                EnvironmentId = preset.EnvironmentId,
                MaxSteps = budget,
                ProgressInterval = settings.Interval,
                // The final checkpoint carries the observation statistics the evaluation must normalise with.
                CheckpointDirectory = checkpoints,
                CheckpointInterval = 0,
            };
            var curve = new List<CurvePoint>();
            long? firstAtTarget = null;
            var system = Report.NewSystem("envbench");
            var wall = Stopwatch.StartNew();
            try
            {
                var run = Training.Start(system, options, p =>
                {
                    if (p.Episodes == 0 || !double.IsFinite(p.MeanReturn)) return;
                    lock (curve)
                    {
                        curve.Add(new CurvePoint(p.Steps, Report.Round(p.Seconds, 2), p.Episodes, Report.Round(p.MeanReturn, 3)));
                        // The mean over a full window of episodes only: a lucky first handful never counts.
                        if (firstAtTarget is null && p.Episodes >= options.ReturnWindow && p.MeanReturn >= preset.Target)
                            firstAtTarget = p.Steps;
                    }
                    if (settings.Verbose)
                        Console.WriteLine($"  seed {seed} steps {p.Steps,10:N0}  {p.StepsPerSecond,8:N0} steps/s  mean-100 {p.MeanReturn,8:F2}  episodes {p.Episodes}");
                });
                var result = run.Completion.GetAwaiter().GetResult();
                wall.Stop();
                var final = result.Progress;
                SeedResult seedResult;
                lock (curve)
                {
                    if (curve.Count == 0 || curve[^1].Steps != final.Steps)
                        if (final.Episodes > 0 && double.IsFinite(final.MeanReturn))
                            curve.Add(new CurvePoint(final.Steps, Report.Round(final.Seconds, 2), final.Episodes, Report.Round(final.MeanReturn, 3)));
                    var full = curve.Where(c => c.Episodes >= options.ReturnWindow).ToList();
                    double best = full.Count > 0 ? full.Max(c => c.MeanReturn100) : double.NaN;
                    seedResult = new SeedResult(seed, final.Steps, Report.Round(wall.Elapsed.TotalSeconds, 1), final.Episodes,
                        Report.Round(final.MeanReturn, 3), best, firstAtTarget, firstAtTarget is not null,
                        final.RejectedRollouts, final.WorkerRestarts, curve.ToArray());
                }
                if (checkpoints is not null)
                {
                    var saved = Checkpoint.Load(Path.Combine(checkpoints, "last.ckpt"));
                    var evaluation = Evaluation.Run(saved.Spec, saved.Parameters, () => options.Environments.Make(preset.EnvironmentId),
                        preset.EvaluationEpisodes, seed: 1_000_000 + 1_000 * seed, saved.ObservationStatistics);
                    seedResult = seedResult with
                    {
                        EvaluationMean = Report.Round(evaluation.MeanReturn, 3),
                        EvaluationStd = Report.Round(evaluation.StdReturn, 3),
                        ReachedTarget = evaluation.MeanReturn >= preset.Target,
                    };
                    Console.WriteLine($"  seed {seed}: deterministic evaluation over {preset.EvaluationEpisodes} episodes {evaluation.MeanReturn:F2} +/- {evaluation.StdReturn:F2}");
                }
                seeds.Add(seedResult);
                Console.WriteLine($"  seed {seed}: final mean-100 {seedResult.FinalMeanReturn100:F2}, best {seedResult.BestMeanReturn100:F2}, " +
                    $"first at target {(firstAtTarget is long s ? s.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "never")}, " +
                    $"{seedResult.WallSeconds:F0} s wall, {final.Episodes} episodes, {final.RejectedRollouts} rejected rollouts, {final.WorkerRestarts} worker restarts");
            }
            finally
            {
                Report.Shutdown(system);
                if (checkpoints is not null) Directory.Delete(checkpoints, recursive: true);
            }
        }

        string safe = preset.EnvironmentId.Replace('/', '-');
        string png = Path.Combine(settings.OutputFolder, $"{safe}.png");
        int reaching = seeds.Count(s => s.ReachedTarget);
        int required = preset.SeedsRequired(seeds.Count);
        EnvPlot.Write(png, preset, budget, seeds);
        Console.WriteLine($"  {preset.EnvironmentId}: {reaching}/{seeds.Count} seeds reached {preset.Target} (need {required}). Wrote {png}");
        return new EnvResult(preset.EnvironmentId, preset.Target, preset.TargetRule, budget, required, reaching, reaching >= required,
            preset.Sources, preset.Algorithm, machine, Path.GetFileName(png), seeds) { EvaluationEpisodes = preset.EvaluationEpisodes };
    }

    /// <summary>Replaces this environment's entry in <paramref name="path"/>, keeping the others.</summary>
    private static void Merge(string path, EnvResult result)
    {
        var root = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject : null;
        root ??= new JsonObject();
        root["benchmark"] = "envs";
        if (root["environments"] is not JsonObject envs)
        {
            envs = new JsonObject();
            root["environments"] = envs;
        }
        envs[result.Environment] = JsonSerializer.SerializeToNode(result, Report.Json);
        var summary = new JsonObject();
        foreach (var (id, node) in envs)
            summary[id] = node?["target_met"]?.GetValue<bool>() ?? false;
        root["targets_met"] = summary;
        Report.Write(path, root);
    }
}
