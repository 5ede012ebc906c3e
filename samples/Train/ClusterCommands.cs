using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Advantage.Actors;
using Advantage.Actors.Cluster;
using Advantage.Environments;
using Advantage.Learning;

namespace Advantage.Samples.Train;

/// <summary>
/// Cluster roles: <c>learner</c> (the seed), <c>worker --join HOST:PORT</c>, and <c>local-cluster</c>, which
/// starts one learner and N worker processes on this machine, streams their output and cleans them up.
/// </summary>
internal static class ClusterCommands
{
    public static void AddTo(RootCommand root)
    {
        root.Subcommands.Add(Learner());
        root.Subcommands.Add(Worker());
        root.Subcommands.Add(LocalCluster());
    }

    private sealed class Common
    {
        public readonly Option<string> Host = new("--host") { Description = "Address to bind and advertise (loopback unless told otherwise)", DefaultValueFactory = _ => "127.0.0.1" };
        public readonly Option<string?> TlsCert = new("--tls-cert") { Description = "PKCS#12 certificate (with private key) for mutual TLS between nodes; peers must present this same certificate unless --tls-ca is given" };
        public readonly Option<string> TlsPassword = new("--tls-password") { Description = "Password of the --tls-cert file", DefaultValueFactory = _ => "" };
        public readonly Option<string?> TlsCa = new("--tls-ca") { Description = "CA certificate file (PEM or DER): accept peers whose certificate it issued, so each node may have its own --tls-cert" };
        public readonly Option<double> FailurePause = new("--failure-pause") { Description = "Seconds of missed heartbeats before a node counts as unreachable", DefaultValueFactory = _ => 5.0 };
        public readonly Option<int?> ExitWithParent = new("--exit-with-parent") { Description = "Exit when this process id is gone (used by local-cluster)", Hidden = true };

        public IEnumerable<Option> All => [Host, TlsCert, TlsPassword, TlsCa, FailurePause, ExitWithParent];

        public ClusterNodeOptions Node(ParseResult parse, int port)
        {
            var node = new ClusterNodeOptions { Host = parse.GetValue(Host)!, Port = port, FailureDetectionPause = TimeSpan.FromSeconds(parse.GetValue(FailurePause)) };
            return parse.GetValue(TlsCert) is { } cert ? node.WithTls(new TlsOptions(cert, parse.GetValue(TlsPassword) ?? "") { CertificateAuthorityPath = parse.GetValue(TlsCa) }) : node;
        }

        public void WatchParent(ParseResult parse, CancellationTokenSource stop)
        {
            if (parse.GetValue(ExitWithParent) is not int pid) return;
            _ = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        using var parent = Process.GetProcessById(pid);
                        if (parent.HasExited) break;
                    }
                    catch (ArgumentException)
                    {
                        break;
                    }
                    await Task.Delay(500).ConfigureAwait(false);
                }
                stop.Cancel();
            });
        }
    }

    private sealed class Run
    {
        public readonly Option<string> Env = new("--env") { Description = "Environment id", DefaultValueFactory = _ => "CartPole-v1" };
        public readonly Option<int> EnvsPerWorker = new("--envs-per-worker") { Description = "Environments per worker actor", DefaultValueFactory = _ => 8 };
        public readonly Option<int> Rollout = new("--rollout") { Description = "Rollout length T", DefaultValueFactory = _ => new A2COptions().RolloutLength };
        public readonly Option<double> Lr = new("--lr") { Description = "Learning rate", DefaultValueFactory = _ => new A2COptions().LearningRate };
        public readonly Option<int[]> Hidden = new("--hidden") { Description = "Hidden layer widths", DefaultValueFactory = _ => [64, 64], AllowMultipleArgumentsPerToken = true };
        public readonly Option<int> Seed = new("--seed") { Description = "Run seed", DefaultValueFactory = _ => 1 };
        public readonly Option<long> MaxSteps = new("--max-steps") { Description = "Step budget", DefaultValueFactory = _ => 1_000_000 };
        public readonly Option<double?> Target = new("--target-return") { Description = "Stop when the mean return of the last 100 episodes reaches this (default: 475 on CartPole-v1)" };

        public IEnumerable<Option> All => [Env, EnvsPerWorker, Rollout, Lr, Hidden, Seed, MaxSteps, Target];

        public TrainingOptions Options(ParseResult parse)
        {
            string env = parse.GetValue(Env)!;
            var algorithm = new A2COptions
            {
                EnvironmentsPerWorker = parse.GetValue(EnvsPerWorker),
                RolloutLength = parse.GetValue(Rollout),
                LearningRate = parse.GetValue(Lr),
                HiddenSizes = parse.GetValue(Hidden) ?? [64, 64],
                Seed = parse.GetValue(Seed),
            };
            var options = new TrainingOptions { Algorithm = algorithm, EnvironmentId = env, MaxSteps = parse.GetValue(MaxSteps) };
            double? target = parse.GetValue(Target) ?? (env == "CartPole-v1" ? 475.0 : null);
            return target is double t ? options.WithTargetMeanReturn(t) : options;
        }

        public IEnumerable<string> Forward(ParseResult parse)
        {
            yield return "--env"; yield return parse.GetValue(Env)!;
            yield return "--envs-per-worker"; yield return I(parse.GetValue(EnvsPerWorker));
            yield return "--rollout"; yield return I(parse.GetValue(Rollout));
            yield return "--lr"; yield return parse.GetValue(Lr).ToString("R", CultureInfo.InvariantCulture);
            yield return "--hidden";
            foreach (int h in parse.GetValue(Hidden) ?? [64, 64]) yield return I(h);
            yield return "--seed"; yield return I(parse.GetValue(Seed));
            yield return "--max-steps"; yield return parse.GetValue(MaxSteps).ToString(CultureInfo.InvariantCulture);
            if (parse.GetValue(Target) is double t) { yield return "--target-return"; yield return t.ToString("R", CultureInfo.InvariantCulture); }
        }
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static Command Learner()
    {
        var common = new Common();
        var run = new Run();
        var port = new Option<int>("--port") { Description = "Port to bind; worker nodes join HOST:PORT", DefaultValueFactory = _ => 4053 };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint file: resumed from at start, rewritten atomically at the interval" };
        var interval = new Option<double>("--checkpoint-interval") { Description = "Seconds between checkpoints", DefaultValueFactory = _ => 10 };
        var quiet = new Option<bool>("--quiet") { Description = "Print only the summary" };
        var resume = new Option<string?>("--resume") { Description = "Start from this training checkpoint (e.g. an in-process run's last.ckpt; its algorithm options and environment are used); a --checkpoint file that already exists wins" };
        var noLane = new Option<bool>("--no-data-lane") { Description = "Send rollouts and parameters through Akka.Remote instead of the direct data lane (off anyway with TLS)" };
        var command = new Command("learner", "Run the learner node of a training cluster (the seed that worker nodes join).") { port, checkpoint, interval, resume, quiet, noLane };
        foreach (var o in common.All.Concat(run.All)) command.Options.Add(o);
        command.SetAction(parse =>
        {
            var options = run.Options(parse);
            if (parse.GetValue(resume) is { } resumePath)
            {
                if (ResumeCheckpoint.Load(resumePath) is not { } saved) return 2;
                options = options with { Algorithm = saved.Options!, EnvironmentId = saved.EnvironmentId ?? options.EnvironmentId, ResumeFrom = saved };
            }
            var node = common.Node(parse, parse.GetValue(port));
            var problems = options.Problems().Concat(node.Problems()).ToList();
            if (problems.Count > 0)
            {
                Console.Error.WriteLine("Invalid options:");
                foreach (var p in problems) Console.Error.WriteLine($"  - {p}");
                return 2;
            }
            using var stop = new CancellationTokenSource();
            common.WatchParent(parse, stop);
            using var system = ClusterLearner.CreateSystem(node, options);
            var learnerOptions = new ClusterLearnerOptions { CheckpointInterval = TimeSpan.FromSeconds(parse.GetValue(interval)), DataLane = !parse.GetValue(noLane) };
            if (parse.GetValue(checkpoint) is { } path) learnerOptions = learnerOptions.WithCheckpointPath(path);
            bool isQuiet = parse.GetValue(quiet);
            TrainingRun training;
            try
            {
                training = ClusterLearner.Start(system, options, learnerOptions, p =>
                {
                    if (!isQuiet) Console.WriteLine(ProgressLine(p));
                });
            }
            catch (Exception e) when (e is InvalidDataException or OptionsValidationException)
            {
                Console.Error.WriteLine($"Cannot start the learner: {e.Message}");
                return 2;
            }
            Console.WriteLine($"Learner listening on {node.Host}:{node.Port}{(node.Tls is null ? "" : " (TLS)")}; training {options.EnvironmentId}; join with: worker --join {node.Host}:{node.Port}");
            stop.Token.Register(training.Stop);
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; training.Stop(); };
            var result = training.Completion.GetAwaiter().GetResult();
            var final = result.Progress;
            Console.WriteLine($"finished reason={result.Reason} solved={result.Solved} steps={final.Steps} version={final.Version} seconds={F(final.Seconds)} " +
                $"steps_per_second={F(final.StepsPerSecond)} mean_return={F(final.MeanReturn)} restarts={final.WorkerRestarts} rejected={final.RejectedRollouts}");
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
            return 0;
        });
        return command;
    }

    /// <summary>One progress line, key=value, easy for people and for tests that read a child's output.</summary>
    internal static string ProgressLine(TrainingProgress p) =>
        $"progress steps={p.Steps} version={p.Version} workers={p.Workers} steps_per_second={F(p.StepsPerSecond)} mean_return={F(p.MeanReturn)} " +
        $"episodes={p.Episodes} restarts={p.WorkerRestarts} rejected={p.RejectedRollouts} seconds={F(p.Seconds)}";

    private static string F(double value) => double.IsFinite(value) ? value.ToString("F1", CultureInfo.InvariantCulture) : "nan";

    private static Command Worker()
    {
        var common = new Common();
        var join = new Option<string>("--join") { Description = "The learner's HOST:PORT", Required = true };
        var port = new Option<int>("--port") { Description = "Port to bind (0: any free one)", DefaultValueFactory = _ => 0 };
        var workers = new Option<int>("--workers") { Description = "Worker actors on this node", DefaultValueFactory = _ => 1 };
        var envs = new Option<int>("--envs-per-worker") { Description = "Environments per worker actor", DefaultValueFactory = _ => 8 };
        var lost = new Option<double>("--learner-lost-after") { Description = "Seconds the learner may stay unreachable before this node starts over", DefaultValueFactory = _ => 10 };
        var command = new Command("worker", "Run a worker node that joins a learner and trains until stopped; it outlives learner restarts.") { join, port, workers, envs, lost };
        foreach (var o in common.All) command.Options.Add(o);
        command.SetAction(parse =>
        {
            var options = new ClusterWorkerOptions(parse.GetValue(join)!)
            {
                Node = common.Node(parse, parse.GetValue(port)),
                Workers = parse.GetValue(workers),
                EnvironmentsPerWorker = parse.GetValue(envs),
                LearnerLostAfter = TimeSpan.FromSeconds(parse.GetValue(lost)),
            };
            var problems = options.Problems();
            if (problems.Count > 0)
            {
                Console.Error.WriteLine("Invalid options:");
                foreach (var p in problems) Console.Error.WriteLine($"  - {p}");
                return 2;
            }
            using var stop = new CancellationTokenSource();
            common.WatchParent(parse, stop);
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            ClusterWorker.RunAsync(options, e => Console.WriteLine($"worker[{e.Incarnation}] {e.Message}"), stop.Token).GetAwaiter().GetResult();
            return 0;
        });
        return command;
    }

    private static Command LocalCluster()
    {
        var common = new Common();
        var run = new Run();
        var nodes = new Option<int>("--nodes") { Description = "Worker processes", DefaultValueFactory = _ => 2 };
        var workers = new Option<int>("--workers") { Description = "Worker actors per worker process", DefaultValueFactory = _ => 1 };
        var port = new Option<int>("--port") { Description = "Learner port (0: a free one)", DefaultValueFactory = _ => 0 };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Learner checkpoint file (resume across learner restarts)" };
        var command = new Command("local-cluster", "Start one learner and N worker processes on this machine, stream their output, and stop them all on exit or Ctrl-C.")
        {
            nodes, workers, port, checkpoint,
        };
        foreach (var o in common.All.Concat(run.All)) command.Options.Add(o);
        command.SetAction(parse =>
        {
            int learnerPort = parse.GetValue(port) is int p and > 0 ? p : FreePort();
            string host = parse.GetValue(common.Host)!;
            var shared = new List<string> { "--host", host, "--failure-pause", parse.GetValue(common.FailurePause).ToString("R", CultureInfo.InvariantCulture), "--exit-with-parent", I(Environment.ProcessId) };
            if (parse.GetValue(common.TlsCert) is { } cert) shared.AddRange(["--tls-cert", cert, "--tls-password", parse.GetValue(common.TlsPassword) ?? ""]);
            var learnerArgs = new List<string> { "learner", "--port", I(learnerPort) };
            learnerArgs.AddRange(run.Forward(parse));
            learnerArgs.AddRange(shared);
            if (parse.GetValue(checkpoint) is { } path) learnerArgs.AddRange(["--checkpoint", path]);

            using var children = new ChildProcesses();
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; children.Dispose(); };
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; children.Dispose(); });
            AppDomain.CurrentDomain.ProcessExit += (_, _) => children.Dispose();
            using var listening = new ManualResetEventSlim();
            var learner = children.Start("learner", learnerArgs, line => { if (line.StartsWith("Learner listening", StringComparison.Ordinal)) listening.Set(); });
            // Workers that start before the seed is bound only waste a join attempt or two; wait for it (bounded).
            listening.Wait(TimeSpan.FromSeconds(60));
            for (int n = 1; n <= parse.GetValue(nodes); n++)
            {
                var args = new List<string> { "worker", "--join", $"{host}:{learnerPort}", "--workers", I(parse.GetValue(workers)), "--envs-per-worker", I(parse.GetValue(run.EnvsPerWorker)) };
                args.AddRange(shared);
                children.Start($"worker-{n}", args);
            }
            learner.WaitForExit();
            return learner.HasExited ? learner.ExitCode : 1;
        });
        return command;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Child processes of this one, output prefixed with their name; all killed (whole tree) on dispose.</summary>
    private sealed class ChildProcesses : IDisposable
    {
        private readonly List<Process> processes = [];
        private readonly Lock gate = new();
        private bool disposed;

        public Process Start(string name, IEnumerable<string> args, Action<string>? onLine = null)
        {
            var info = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            string self = Environment.ProcessPath!;
            if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(ClusterCommands).Assembly.Location);
            info.FileName = self;
            foreach (string a in args) info.ArgumentList.Add(a);
            var process = new Process { StartInfo = info, EnableRaisingEvents = true };
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                Console.WriteLine($"[{name}] {e.Data}");
                onLine?.Invoke(e.Data);
            };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"[{name}] {e.Data}"); };
            lock (gate)
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                process.Start();
                processes.Add(process);
            }
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return process;
        }

        public void Dispose()
        {
            lock (gate)
            {
                if (disposed) return;
                disposed = true;
                foreach (var p in processes)
                {
                    try
                    {
                        if (!p.HasExited) p.Kill(entireProcessTree: true);
                        p.WaitForExit(5000);
                    }
                    catch (InvalidOperationException)
                    {
                    }
                    p.Dispose();
                }
            }
        }
    }
}
