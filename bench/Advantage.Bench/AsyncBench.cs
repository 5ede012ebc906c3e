using Advantage.Actors;
using Advantage.Environments;
using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Bench;

/// <summary>
/// Asynchronous (IMPALA) against synchronous (A2C) rounds on the same workers x environments x rollout: in one process,
/// as a loopback cluster, and with one straggling worker whose environments sleep on every step. Modes are interleaved
/// in each repeat, so a change in machine load shows up in all of them; each reports its median.
/// </summary>
public static class AsyncBench
{
    /// <param name="Asynchronous">The asynchronous run (train's options with an asynchronous algorithm).</param>
    /// <param name="Warmup">Discarded after each run starts.</param>
    /// <param name="Window">Measured after the warm-up.</param>
    /// <param name="Repeats">Interleaved repeats of every mode.</param>
    /// <param name="StragglerSleep">How long each environment step of worker 0 sleeps in the straggler modes; zero skips them.</param>
    /// <param name="Output">The JSON file.</param>
    /// <param name="Cluster">Whether to measure the loopback cluster too.</param>
    public sealed record Settings(TrainingOptions Asynchronous, TimeSpan Warmup, TimeSpan Window, int Repeats, TimeSpan StragglerSleep, string Output, bool Cluster);

    public sealed record Result(string Benchmark, string Environment, MachineInfo Machine, int Workers, int EnvsPerWorker, int Rollout, int[] Hidden,
        string SynchronousAlgorithm, string AsynchronousAlgorithm, double StragglerSleepMs, IReadOnlyList<ClusterBench.Side> Sides, IReadOnlyDictionary<string, double> Ratios)
    {
        public IReadOnlyList<ClusterBench.Side> Samples { get; init; } = [];

        /// <summary>Every mode run that failed ("repeat r, mode: why"); its samples are missing from the medians.</summary>
        public IReadOnlyList<string> Failures { get; init; } = [];
    }

    /// <summary>The synchronous counterpart: A2C's preset for the environment with the asynchronous run's shape and network.</summary>
    private static TrainingOptions Synchronous(TrainingOptions asynchronous)
    {
        var a = asynchronous.Algorithm;
        var sync = (A2COptions)Learners.Preset(A2COptions.AlgorithmName, asynchronous.EnvironmentId) with
        {
            Workers = a.Workers, EnvironmentsPerWorker = a.EnvironmentsPerWorker, RolloutLength = a.RolloutLength, HiddenSizes = a.HiddenSizes,
            Body = a.Body, Seed = a.Seed, Device = a.Device,
        };
        return asynchronous with { Algorithm = sync };
    }

    private static TrainingOptions Endless(TrainingOptions options) => options with { TargetMeanReturn = null, MaxSteps = 1_000_000_000_000 };

    public static int Run(Settings settings)
    {
        var asynchronous = Endless(settings.Asynchronous);
        if (asynchronous.Algorithm.Asynchrony is null)
        {
            Console.Error.WriteLine($"--algo {asynchronous.Algorithm.Algorithm} has synchronous rounds; give an asynchronous one (impala).");
            return 2;
        }
        var synchronous = Endless(Synchronous(settings.Asynchronous));
        var a = asynchronous.Algorithm;
        var machine = MachineInfo.Capture();
        Console.WriteLine($"asynchronous ({a.Algorithm}) vs synchronous ({synchronous.Algorithm.Algorithm}) on {asynchronous.EnvironmentId}: {a.Workers} workers x K {a.EnvironmentsPerWorker}, rollout {a.RolloutLength}; " +
            $"straggler: worker 0 sleeps {settings.StragglerSleep.TotalMilliseconds} ms per environment step; warm-up {settings.Warmup.TotalSeconds:F1} s, window {settings.Window.TotalSeconds:F1} s; " +
            $"load average before {machine.LoadAverageBefore}, {machine.ProcessorCount} cores.");
        var samples = new List<ClusterBench.Side>();
        var failures = new List<string>();
        for (int repeat = 1; repeat <= settings.Repeats; repeat++)
        {
            // A mode that fails (its learner failed, or stopped answering) is reported and counted; the others go on.
            void Try(string mode, Func<ClusterBench.Side> run)
            {
                try
                {
                    Add(samples, run());
                }
                catch (Exception e) when (e is ModeFailedException or TimeoutException or TrainingFailedException or AggregateException)
                {
                    string reason = e is ModeFailedException failed ? failed.Reason : $"{e.GetType().Name}: {e.GetBaseException().Message.Split('\n')[0]}";
                    Console.WriteLine($"  {mode,-16}: FAILED in repeat {repeat}: {reason}");
                    failures.Add($"repeat {repeat}, {mode}: {reason}");
                }
            }
            Try("sync", () => InProcess("sync", synchronous, settings, straggler: false));
            Try("async", () => InProcess("async", asynchronous, settings, straggler: false));
            if (settings.Cluster)
                Try("async-cluster", () => ClusterBench.RunCluster(new ClusterBench.Settings(asynchronous, settings.Warmup, settings.Window, "")).Side with { Mode = "async-cluster" });
            if (settings.StragglerSleep > TimeSpan.Zero)
            {
                Try("sync-straggler", () => InProcess("sync-straggler", synchronous, settings, straggler: true));
                Try("async-straggler", () => InProcess("async-straggler", asynchronous, settings, straggler: true));
            }
        }
        var sides = samples.GroupBy(s => s.Mode).Select(g => ClusterBench.Median(g.ToList())).ToList();
        double Rate(string mode) => sides.FirstOrDefault(s => s.Mode == mode)?.StepsPerSecond ?? double.NaN;
        var ratios = new Dictionary<string, double>
        {
            ["async_over_sync"] = Report.Round(Rate("async") / Rate("sync"), 3),
        };
        if (settings.Cluster) ratios["async_cluster_over_sync_in_process"] = Report.Round(Rate("async-cluster") / Rate("sync"), 3);
        if (settings.StragglerSleep > TimeSpan.Zero)
        {
            ratios["async_straggler_over_async"] = Report.Round(Rate("async-straggler") / Rate("async"), 3);
            ratios["sync_straggler_over_sync"] = Report.Round(Rate("sync-straggler") / Rate("sync"), 3);
        }
        Console.WriteLine($"  medians of {settings.Repeats}: " + string.Join(", ", sides.Select(s => $"{s.Mode} {s.StepsPerSecond:N0}")));
        Console.WriteLine("  " + string.Join(", ", ratios.Select(r => $"{r.Key} {r.Value:P0}")));
        if (failures.Count > 0) Console.WriteLine($"  {failures.Count} mode run(s) failed: " + string.Join("; ", failures));
        Report.Write(settings.Output, new Result("async", asynchronous.EnvironmentId, machine, a.Workers, a.EnvironmentsPerWorker, a.RolloutLength, [.. a.HiddenSizes],
            synchronous.Algorithm.Algorithm, a.Algorithm, settings.StragglerSleep.TotalMilliseconds, sides, ratios) { Samples = samples, Failures = failures });
        return failures.Count == 0 ? 0 : 1;
    }

    private static void Add(List<ClusterBench.Side> samples, ClusterBench.Side side)
    {
        Console.WriteLine($"  {side.Mode,-16}: {side.StepsPerSecond,10:N0} steps/s  {side.UpdatesPerSecond,7:N0} updates/s");
        samples.Add(side);
    }

    /// <summary>
    /// One run in a fresh actor system, assembled from the public actors (as a host application embeds training), so
    /// that worker 0 alone can be given slow environments in the straggler modes.
    /// </summary>
    private static ClusterBench.Side InProcess(string mode, TrainingOptions options, Settings settings, bool straggler)
    {
        var system = Report.NewSystem("bench-async");
        try
        {
            AdvantageConfig.Install(system);
            var spec = RunWiring.Spec(options);
            var completion = new TaskCompletionSource<TrainingResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            var learner = system.ActorOf(LearnerActor.Props(options, Learners.Create(options.Algorithm, spec), null, completion), "learner");
            for (int w = 0; w < options.Algorithm.Workers; w++)
            {
                var worker = RunWiring.Settings(RunWiring.Worker(options, w), options.EnvironmentId, options.Environments, spec);
                if (straggler && w == 0)
                {
                    var make = worker.MakeEnvironment;
                    var sleep = settings.StragglerSleep;
                    worker = worker with { MakeEnvironment = () => new SleepyEnvironment(make(), sleep) };
                }
                system.ActorOf(WorkerActor.Props(worker, learner), $"worker-{w}");
            }
            return ClusterBench.Measure(mode, learner, completion.Task, settings.Warmup, settings.Window, _ => true);
        }
        finally
        {
            Report.Shutdown(system);
        }
    }

    /// <summary>An environment that sleeps before every step: a slow simulator, a remote robot, a busy machine.</summary>
    private sealed class SleepyEnvironment(IEnvironment inner, TimeSpan sleep) : IEnvironment
    {
        public Space ObservationSpace => inner.ObservationSpace;

        public Space ActionSpace => inner.ActionSpace;

        public void Reset(int? seed, Span<float> observation) => inner.Reset(seed, observation);

        public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
        {
            Thread.Sleep(sleep);
            return inner.Step(action, observation);
        }
    }
}
