using System.Diagnostics;
using Advantage.Actors;
using Advantage.Actors.Cluster;
using Advantage.Actors.Serialization;
using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Bench;

/// <summary>
/// The same run in one process and as a loopback cluster (learner here, worker nodes as child processes of this
/// executable), measured side by side; plus the bytes a rollout and a parameter broadcast take on the wire.
/// </summary>
public static class ClusterBench
{
    /// <summary>The run (train's options; one worker actor per worker process), how long to measure, and how often.</summary>
    public sealed record Settings(TrainingOptions Run, TimeSpan Warmup, TimeSpan Window, string Output, int Repeats = 1)
    {
        /// <summary>Akka HOCON laid over every cluster node (learner and workers): the engine setting under test.</summary>
        public string Engine { get; init; } = "";

        public int Nodes => Run.Algorithm.Workers;

        public int EnvironmentsPerWorker => Run.Algorithm.EnvironmentsPerWorker;

        public int RolloutLength => Run.Algorithm.RolloutLength;

        public int[] Hidden => [.. Run.Algorithm.HiddenSizes];
    }

    public sealed record Side(string Mode, double StepsPerSecond, double UpdatesPerSecond, long Steps, double Seconds, int Workers);

    public sealed record Result(string Benchmark, string Environment, MachineInfo Machine, int Workers, int EnvsPerWorker, int Rollout, int[] Hidden,
        long Parameters, long BytesPerRollout, long BytesPerParameterBroadcast, IReadOnlyList<Side> Sides, double ClusterOverInProcess)
    {
        /// <summary>Every repeat's measurement, in the order taken (modes interleaved); <see cref="Sides"/> holds each mode's median.</summary>
        public IReadOnlyList<Side> Samples { get; init; } = [];
    }

    /// <summary>The measured run never ends on its own: no target, an endless budget.</summary>
    private static TrainingOptions Options(Settings s) => s.Run with { TargetMeanReturn = null, MaxSteps = 1_000_000_000_000 };

    public static int Run(Settings settings)
    {
        var machine = MachineInfo.Capture();
        Console.WriteLine($"cluster vs in-process on {settings.Run.EnvironmentId}: {settings.Nodes} workers x K {settings.EnvironmentsPerWorker}, rollout {settings.RolloutLength}, hidden [{string.Join(",", settings.Hidden)}]; " +
            $"warm-up {settings.Warmup.TotalSeconds:F1} s, window {settings.Window.TotalSeconds:F1} s; load average before {machine.LoadAverageBefore}, {machine.ProcessorCount} cores.");

        // Modes are interleaved (in-process, cluster; again), so a change in machine
        // load shows up in every mode rather than in one; each mode reports its median.
        var samples = new List<Side>();
        long parameters = 0, rolloutBytes = 0, parameterBytes = 0;
        for (int repeat = 1; repeat <= settings.Repeats; repeat++)
        {
            var inProcess = RunInProcess(settings);
            Console.WriteLine($"  in-process : {inProcess.StepsPerSecond,10:N0} steps/s  {inProcess.UpdatesPerSecond,7:N0} updates/s");
            Side cluster;
            (cluster, parameters, rolloutBytes, parameterBytes) = RunCluster(settings);
            Console.WriteLine($"  cluster    : {cluster.StepsPerSecond,10:N0} steps/s  {cluster.UpdatesPerSecond,7:N0} updates/s  ({settings.Nodes} worker processes + learner, over Akka.Remote)");
            samples.Add(inProcess);
            samples.Add(cluster);
        }
        var sides = samples.GroupBy(s => s.Mode).Select(g => Median(g.ToList())).ToList();
        double ratio = sides[1].StepsPerSecond / sides[0].StepsPerSecond;
        Console.WriteLine($"  medians of {settings.Repeats}: " + string.Join(", ", sides.Select(s => $"{s.Mode} {s.StepsPerSecond:N0}")));
        Console.WriteLine($"  cluster / in-process = {ratio:P0}; bytes per rollout {rolloutBytes:N0}, per parameter broadcast {parameterBytes:N0} ({parameters:N0} parameters)");
        Report.Write(settings.Output, new Result("cluster", settings.Run.EnvironmentId, machine, settings.Nodes, settings.EnvironmentsPerWorker, settings.RolloutLength, settings.Hidden,
            parameters, rolloutBytes, parameterBytes, sides, Report.Round(ratio, 3)) { Samples = samples });
        return 0;
    }

    /// <summary>The middle measurement; with an even count, the mean of the two middle ones.</summary>
    internal static Side Median(List<Side> sides)
    {
        var sorted = sides.OrderBy(s => s.StepsPerSecond).ToList();
        var upper = sorted[sorted.Count / 2];
        if (sorted.Count % 2 == 1) return upper;
        var lower = sorted[sorted.Count / 2 - 1];
        return upper with
        {
            StepsPerSecond = Report.Round((lower.StepsPerSecond + upper.StepsPerSecond) / 2, 1),
            UpdatesPerSecond = Report.Round((lower.UpdatesPerSecond + upper.UpdatesPerSecond) / 2, 1),
            Steps = lower.Steps + upper.Steps,
            Seconds = Report.Round(lower.Seconds + upper.Seconds, 3),
        };
    }

    /// <summary>The same number of worker actors in one actor system.</summary>
    private static Side RunInProcess(Settings settings)
    {
        var local = Report.NewSystem("bench-inprocess");
        try
        {
            var run = Training.Start(local, Options(settings));
            return Measure("in-process", run.Learner, run.Completion, settings.Warmup, settings.Window, _ => true);
        }
        finally
        {
            Report.Shutdown(local);
        }
    }

    /// <summary>A loopback cluster: learner here, one worker process per node.</summary>
    internal static (Side Side, long Parameters, long RolloutBytes, long ParameterBytes) RunCluster(Settings settings)
    {
        int port = Advantage.Cli.Ports.Free();
        var options = Options(settings);
        using var system = ClusterLearner.CreateSystem(new ClusterNodeOptions().WithPort(port).WithEngineSettings(settings.Engine), options);
        var children = new List<Process>();
        Side cluster;
        long parameters, rolloutBytes, parameterBytes;
        try
        {
            var run = ClusterLearner.Start(system, options);
            for (int n = 0; n < settings.Nodes; n++) children.Add(StartWorker(port, settings.Engine));
            var deadline = Stopwatch.StartNew();
            while (run.GetProgressAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult().Workers < settings.Nodes)
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(120)) throw new TimeoutException("Worker processes did not join within 120 s.");
                Thread.Sleep(200);
            }
            cluster = Measure("cluster", run.Learner, run.Completion, settings.Warmup, settings.Window, p => p.Workers == settings.Nodes);
            var serializer = new AdvantageSerializer((ExtendedActorSystem)system);
            float[] values = new float[ClusterParameterCount(run)];
            parameters = values.Length;
            parameterBytes = serializer.ToBinary(new Parameters(1, values)).Length;
            rolloutBytes = serializer.ToBinary(new RolloutCollected(SampleRollout(settings, run.Spec.ObservationSize))).Length;
        }
        finally
        {
            StopWorkers(children);
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
        }
        return (cluster, parameters, rolloutBytes, parameterBytes);
    }

    /// <summary>Kills the worker processes this benchmark started.</summary>
    internal static void StopWorkers(IEnumerable<Process> children)
    {
        foreach (var c in children)
        {
            try { c.Kill(entireProcessTree: true); c.WaitForExit(5000); } catch (InvalidOperationException) { }
            c.Dispose();
        }
    }

    private static long ClusterParameterCount(TrainingRun run)
    {
        using var network = new Learning.Networks.ActorCriticNetwork(run.Spec);
        return network.Flat.NumberOfElements;
    }

    private static Rollout SampleRollout(Settings s, int observationSize)
    {
        int tk = s.RolloutLength * s.EnvironmentsPerWorker;
        // A typical CartPole rollout: no truncations, one finished episode.
        return new Rollout(0, 1, s.RolloutLength, s.EnvironmentsPerWorker, observationSize, 1,
            new float[(s.RolloutLength + 1) * s.EnvironmentsPerWorker * observationSize], new float[tk], new float[tk], new bool[tk], new bool[tk], [], [], [20.0], [20]);
    }

    /// <summary>
    /// Steps and updates per second of a running learner between two progress reads, <paramref name="window"/> apart after
    /// <paramref name="warmup"/>; then stops the run and waits for it to end.
    /// </summary>
    internal static Side Measure(string mode, IActorRef learner, Task completion, TimeSpan warmup, TimeSpan window, Func<TrainingProgress, bool> valid)
    {
        var timeout = TimeSpan.FromSeconds(30);
        Thread.Sleep(warmup);
        var before = Progress(mode, learner, completion, timeout);
        Thread.Sleep(window);
        var after = Progress(mode, learner, completion, timeout);
        if (!valid(after)) Console.Error.WriteLine($"  {mode}: workers changed during the window ({before.Workers} -> {after.Workers}).");
        learner.Tell(StopTraining.Instance);
        completion.Wait(timeout);
        double seconds = after.Seconds - before.Seconds;
        long steps = after.Steps - before.Steps;
        return new Side(mode, Report.Round(steps / seconds, 1), Report.Round((after.Version - before.Version) / seconds, 1), steps, Report.Round(seconds, 3), after.Workers);
    }

    /// <summary>
    /// The learner's progress; <see cref="ModeFailedException"/> (with the run's own cause) when the run has ended, rather
    /// than waiting out an ask that a stopped learner never answers.
    /// </summary>
    private static TrainingProgress Progress(string mode, IActorRef learner, Task completion, TimeSpan timeout)
    {
        if (completion.IsCompleted) throw ModeFailedException.Ended(mode, completion);
        var ask = learner.Ask<TrainingProgress>(GetProgress.Instance, timeout);
        if (Task.WaitAny(ask, completion) == 1 || ask.IsFaulted)
        {
            if (completion.IsCompleted) throw ModeFailedException.Ended(mode, completion);
            throw new ModeFailedException(mode, $"the learner did not answer within {timeout.TotalSeconds:F0} s ({ask.Exception?.GetBaseException().Message})");
        }
        return ask.Result;
    }

    /// <summary>A worker node of one worker actor, as a child process of this executable, joining the learner on <paramref name="port"/>.</summary>
    internal static Process StartWorker(int port, string engine)
    {
        var info = new ProcessStartInfo { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        string self = Environment.ProcessPath!;
        info.FileName = self;
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(ClusterBench).Assembly.Location);
        foreach (var a in new[] { "cluster-worker", "--join", $"127.0.0.1:{port}", "--engine", engine, "--parent", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>The child side: one worker node until the parent process is gone.</summary>
    public static int Worker(string join, string engine, int parent)
    {
        using var stop = new CancellationTokenSource();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                try { using var p = Process.GetProcessById(parent); if (p.HasExited) break; } catch (ArgumentException) { break; }
                await Task.Delay(500);
            }
            stop.Cancel();
        });
        ClusterWorker.RunAsync(new ClusterWorkerOptions(join).WithNode(new ClusterNodeOptions().WithEngineSettings(engine)), null, stop.Token).GetAwaiter().GetResult();
        return 0;
    }
}

/// <summary>One mode of a benchmark failed (its learner failed or stopped answering); the benchmark reports it and goes on.</summary>
public sealed class ModeFailedException(string mode, string reason) : Exception($"{mode}: {reason}")
{
    /// <summary>The mode that failed.</summary>
    public string Mode { get; } = mode;

    /// <summary>Why, in one line.</summary>
    public string Reason { get; } = reason;

    internal static ModeFailedException Ended(string mode, Task completion) => new(mode, completion.Exception?.GetBaseException() is { } cause
        ? $"the run failed: {cause.GetType().Name}: {FirstLine(cause.Message)}"
        : "the run ended before it was measured");

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
