using System.Diagnostics;
using Advantage.Actors;
using Advantage.Learning;

namespace Advantage.Bench;

/// <summary>
/// Time to solve CartPole-v1: for each seed, one fresh actor system and one run that stops when the mean
/// return of the last 100 episodes reaches the target (or the step budget runs out). Seeds run one at a
/// time so they never compete for the two cores.
/// </summary>
public static class Solve
{
    /// <summary>What to run: the run's options exactly as <c>train</c> would bind them (seed aside), and the seeds.</summary>
    public sealed record Settings(TrainingOptions Options, int[] Seeds, string Output, string? Label, bool Verbose)
    {
        /// <summary>0 runs each seed in this process; N runs it on a loopback cluster: the learner here and N worker processes of one worker each.</summary>
        public int Nodes { get; init; }

        public AlgorithmOptions Algorithm => Options.Algorithm;

        public long MaxSteps => Options.MaxSteps;

        public double Target => Options.TargetMeanReturn ?? double.NaN;
    }

    public sealed record SeedResult(
        int Seed,
        bool Solved,
        string StopReason,
        long Steps,
        double Seconds,
        double WallSeconds,
        double CpuSeconds,
        double StepsPerSecond,
        long Updates,
        long Episodes,
        double MeanReturn100);

    public sealed record Hyperparameters(
        int Workers,
        int EnvsPerWorker,
        int Rollout,
        double Gamma,
        string Estimator,
        double? GaeLambda,
        double LearningRate,
        string Optimizer,
        double RmsPropAlpha,
        double OptimizerEps,
        bool NormalizeAdvantages,
        double EntCoef,
        double VfCoef,
        double MaxGradNorm,
        IReadOnlyList<int> Hidden,
        string LearningRateSchedule,
        double? ClipRange = null,
        string? ClipRangeSchedule = null,
        int? Epochs = null,
        int? Minibatches = null,
        double? TargetKl = null);

    public sealed record Result(
        string Benchmark,
        string Algorithm,
        string Environment,
        string? Label,
        MachineInfo Machine,
        double Target,
        long MaxSteps,
        Hyperparameters Hyperparameters,
        IReadOnlyList<SeedResult> Seeds,
        int SolvedCount,
        bool AllSolved,
        double? MedianSeconds,
        double? MedianSteps,
        double? MeanSeconds,
        double? MaxSeconds)
    {
        /// <summary>0: in one process; N: a loopback cluster of N worker processes.</summary>
        public int Nodes { get; init; }
    }

    public static int Run(Settings settings)
    {
        var a = settings.Algorithm;
        var machine = MachineInfo.Capture();
        Console.WriteLine($"solve {settings.Options.EnvironmentId} with {a.Algorithm}{(a is PpoOptions p ? $" (clip {p.ClipRange:G3} {p.ClipRangeSchedule}, {p.Epochs} epochs x {p.Minibatches} minibatches)" : "")}, lr schedule {a.LearningRateSchedule}, to mean-100 >= {settings.Target} within {settings.MaxSteps:N0} steps; {a.Workers} workers x {a.EnvironmentsPerWorker} envs, " +
            $"rollout {a.RolloutLength}, {a.Optimizer} lr {a.LearningRate:G4}, {(a.Estimator == AdvantageEstimator.Gae ? $"GAE {a.GaeLambda}" : "n-step")}, " +
            $"norm-adv {a.NormalizeAdvantages}, ent {a.EntropyCoefficient:G3}, vf {a.ValueCoefficient:G3}, clip {a.MaxGradNorm:G3}, gamma {a.Gamma:G4}; " +
            $"seeds {string.Join(",", settings.Seeds)}; {(settings.Nodes > 0 ? $"loopback cluster of {settings.Nodes} worker processes" : "in-process")}; load average before {machine.LoadAverageBefore}.");
        var results = new List<SeedResult>();
        foreach (int seed in settings.Seeds)
        {
            var r = RunSeed(settings, seed);
            results.Add(r);
            Console.WriteLine($"  seed {seed}: {(r.Solved ? "solved" : "NOT solved")} ({r.StopReason}) at {r.Steps,9:N0} steps in {r.Seconds,6:F2} s " +
                $"(wall {r.WallSeconds:F2} s, cpu {r.CpuSeconds:F2} s, {r.StepsPerSecond:N0} steps/s, mean-100 {r.MeanReturn100:F1})");
        }

        // Unsolved seeds count as infinitely slow, so the median never flatters a configuration that fails.
        double median = Median(results.Select(r => r.Solved ? r.Seconds : double.PositiveInfinity));
        double medianSteps = Median(results.Select(r => r.Solved ? (double)r.Steps : double.PositiveInfinity));
        int solvedCount = results.Count(r => r.Solved);
        double mean = results.Average(r => r.Solved ? r.Seconds : double.PositiveInfinity);
        double max = results.Max(r => r.Solved ? r.Seconds : double.PositiveInfinity);

        Console.WriteLine();
        Console.WriteLine($"{"seed",4} | {"solved",6} | {"steps",9} | {"seconds",7} | {"steps/s",9} | {"mean-100",8}");
        Console.WriteLine($"{new string('-', 4)}-+-{new string('-', 6)}-+-{new string('-', 9)}-+-{new string('-', 7)}-+-{new string('-', 9)}-+-{new string('-', 8)}");
        foreach (var r in results)
            Console.WriteLine($"{r.Seed,4} | {(r.Solved ? "yes" : "NO"),6} | {r.Steps,9:N0} | {r.Seconds,7:F2} | {r.StepsPerSecond,9:N0} | {r.MeanReturn100,8:F1}");
        Console.WriteLine($"solved {solvedCount}/{results.Count}; median {median:F2} s, {medianSteps:N0} steps; max {max:F2} s");

        var hp = new Hyperparameters(a.Workers, a.EnvironmentsPerWorker, a.RolloutLength, a.Gamma, a.Estimator.ToString(),
            a.Estimator == AdvantageEstimator.Gae ? a.GaeLambda : null, a.LearningRate, a.Optimizer.ToString(), a.RmsPropAlpha, a.OptimizerEpsilon,
            a.NormalizeAdvantages, a.EntropyCoefficient, a.ValueCoefficient, a.MaxGradNorm, a.HiddenSizes.ToArray(), a.LearningRateSchedule.ToString().ToLowerInvariant());
        if (a is PpoOptions ppo)
            hp = hp with { ClipRange = ppo.ClipRange, ClipRangeSchedule = ppo.ClipRangeSchedule.ToString().ToLowerInvariant(), Epochs = ppo.Epochs, Minibatches = ppo.Minibatches, TargetKl = ppo.TargetKl };
        Report.Write(settings.Output, new Result("solve", a.Algorithm, settings.Options.EnvironmentId, settings.Label, machine, settings.Target, settings.MaxSteps, hp, results,
            solvedCount, solvedCount == results.Count, Finite(Report.Round(median, 3)), Finite(medianSteps), Finite(Report.Round(mean, 3)), Finite(Report.Round(max, 3))) { Nodes = settings.Nodes });
        return 0;
    }

    private static SeedResult RunSeed(Settings settings, int seed)
    {
        var options = settings.Options with { Algorithm = settings.Algorithm with { Seed = seed } };
        if (settings.Nodes > 0) return RunSeedOnCluster(settings, options, seed);
        var system = Report.NewSystem($"bench-solve-{seed}");
        try
        {
            Action<TrainingProgress>? onProgress = settings.Verbose
                ? p => Console.WriteLine($"    steps {p.Steps,9:N0}  t {p.Seconds,6:F2}s  {p.StepsPerSecond,9:N0} steps/s  mean-100 {p.MeanReturn,6:F1}  " +
                    $"H {p.LastUpdate?.Entropy,5:F3}  ev {p.LastUpdate?.ExplainedVariance,6:F3}")
                : null;
            return Timed(seed, () => Training.Start(system, options, onProgress));
        }
        finally
        {
            Report.Shutdown(system);
        }
    }

    /// <summary>The same seed as a loopback cluster: the learner in this process, one worker process per node (the run's workers).</summary>
    private static SeedResult RunSeedOnCluster(Settings settings, TrainingOptions options, int seed)
    {
        int port = Advantage.Cli.Ports.Free();
        using var system = Advantage.Actors.Cluster.ClusterLearner.CreateSystem(new Advantage.Actors.Cluster.ClusterNodeOptions().WithPort(port), options);
        var children = new List<Process>();
        try
        {
            return Timed(seed, () =>
            {
                var run = Advantage.Actors.Cluster.ClusterLearner.Start(system, options);
                for (int n = 0; n < settings.Nodes; n++) children.Add(ClusterBench.StartWorker(port, ""));
                return run;
            });
        }
        finally
        {
            ClusterBench.StopWorkers(children);
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Starts a run, waits for it to end, and reports it with this process's wall and CPU time over it.</summary>
    private static SeedResult Timed(int seed, Func<TrainingRun> start)
    {
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var result = start().Completion.GetAwaiter().GetResult();
        wall.Stop();
        process.Refresh();
        double cpuSeconds = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        var p = result.Progress;
        return new SeedResult(seed, result.Solved, result.Reason.ToString(), p.Steps, Report.Round(p.Seconds, 3), Report.Round(wall.Elapsed.TotalSeconds, 3),
            Report.Round(cpuSeconds, 3), Report.Round(p.StepsPerSecond, 1), p.Version, p.Episodes, Report.Round(p.MeanReturn, 1));
    }

    /// <summary>JSON has no infinity: an unsolved summary is null.</summary>
    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
