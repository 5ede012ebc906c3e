using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Advantage.Actors;
using Advantage.Actors.Cluster;
using Advantage.Environments;
using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Cli;

/// <summary>
/// Cluster roles: <c>learner</c> (the seed), <c>worker --join HOST:PORT</c>, and <c>local-cluster</c>, which
/// starts one learner and N worker processes on this machine, streams their output and cleans them up.
/// </summary>
internal static class ClusterCommands
{
    /// <param name="root">The command to add the roles to.</param>
    /// <param name="args">The command line, read only for its <c>--algo</c>: whose preset <c>--help</c> shows.</param>
    public static void AddTo(RootCommand root, IReadOnlyList<string>? args = null)
    {
        string? algorithm = TrainingFlags.AlgorithmIn(args ?? []);
        root.Subcommands.Add(Learner(algorithm));
        root.Subcommands.Add(Worker());
        root.Subcommands.Add(LocalCluster(algorithm));
    }

    private sealed class Common
    {
        public readonly Option<string> Host = new("--host") { Description = "Address to bind and advertise (loopback unless told otherwise)", DefaultValueFactory = _ => "127.0.0.1" };
        public readonly Option<string?> TlsCert = new("--tls-cert") { Description = "PKCS#12 certificate (with private key) for mutual TLS between nodes; peers must present this same certificate unless --tls-ca is given" };
        public readonly Option<string> TlsPassword = new("--tls-password") { Description = "Password of the --tls-cert file", DefaultValueFactory = _ => "" };
        public readonly Option<string?> TlsCa = new("--tls-ca") { Description = "CA certificate file (PEM or DER): accept peers whose certificate it issued, so each node may have its own --tls-cert" };
        public readonly Option<double> FailurePause = new("--failure-pause") { Description = "Seconds of missed heartbeats before a node counts as unreachable", DefaultValueFactory = _ => 5.0 };
        public readonly Option<int> MaxInboundConnections = new("--max-inbound-connections")
        {
            Description = "Most inbound connections this node keeps open; more are closed on arrival, so idle connections cannot use up its file descriptors",
            DefaultValueFactory = _ => ClusterNodeOptions.DefaultMaxInboundConnections,
        };
        public readonly Option<int?> ExitWithParent = new("--exit-with-parent") { Description = "Exit when this process id is gone (used by local-cluster)", Hidden = true };

        public IEnumerable<Option> All => [Host, TlsCert, TlsPassword, TlsCa, FailurePause, MaxInboundConnections, ExitWithParent];

        /// <summary>Mistakes in the node flags themselves, said before anything starts.</summary>
        public IEnumerable<string> Problems(ParseResult parse)
        {
            if (parse.GetValue(TlsCa) is not null && parse.GetValue(TlsCert) is null)
                yield return "--tls-ca needs --tls-cert: a CA only checks peers; this node still needs its own certificate.";
        }

        public ClusterNodeOptions Node(ParseResult parse, int port)
        {
            var node = new ClusterNodeOptions { Host = parse.GetValue(Host)!, Port = port, FailureDetectionPause = TimeSpan.FromSeconds(parse.GetValue(FailurePause)),
                MaxInboundConnections = parse.GetValue(MaxInboundConnections) };
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

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static Command Learner(string? algorithm)
    {
        var common = new Common();
        var flags = new TrainingFlags(algorithm);
        var port = new Option<int>("--port") { Description = "Port to bind; worker nodes join HOST:PORT", DefaultValueFactory = _ => 4053 };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "The learner's own checkpoint file: resumed from at start when it exists, written with last.ckpt's cadence (--checkpoint-interval updates)" };
        var command = new Command("learner", "Run the learner node of a training cluster (the seed that worker nodes join). It waits for --workers workers before the first round and writes the same run folder as train.") { port, checkpoint };
        flags.AddTo(command);
        foreach (var o in common.All) command.Options.Add(o);
        command.SetAction(parse =>
        {
            var bound = flags.Bind(parse);
            var node = common.Node(parse, parse.GetValue(port));
            var problems = bound.Problems.Concat(common.Problems(parse)).Concat(node.Problems()).ToList();
            if (node.Port == 0) problems.Add("--port 0: the learner needs a fixed port, worker nodes join it.");
            if (problems.Count > 0 || bound.Options is null) return RunHost.Refuse("Invalid options:", problems);
            if (Ports.Taken(node.Host, node.Port))
            {
                Console.Error.WriteLine($"Cannot start the learner: port {node.Port} on {node.Host} is already in use (another learner?); choose another --port or stop the other process.");
                return 2;
            }
            if (RunHost.PrepareFolder(bound) is not { } folder) return 2;
            using var stop = new CancellationTokenSource();
            ActorSystem system;
            try
            {
                system = ClusterLearner.CreateSystem(node, bound.Options);
            }
            catch (PortInUseException e)
            {
                Console.Error.WriteLine($"Cannot start the learner: {e.Message} (another learner?); choose another --port or stop the other process.");
                return 2;
            }
            catch (Exception e) when (e is OptionsValidationException or System.Net.Sockets.SocketException or Akka.Configuration.ConfigurationException or Akka.Remote.RemoteTransportException)
            {
                Console.Error.WriteLine($"Cannot start the learner on {node.Host}:{node.Port}: {e.Message}");
                return 2;
            }
            using (system)
            {
                var learnerOptions = new ClusterLearnerOptions().WithCheckpointPath(parse.GetValue(checkpoint));
                Console.WriteLine($"Learner listening on {node.Host}:{node.Port}{(node.Tls is null ? "" : " (TLS)")}; waiting for {bound.Options.Algorithm.Workers} workers; join with: worker --join {node.Host}:{node.Port}");
                TrainingRun? running = null;
                common.WatchParent(parse, stop);
                stop.Token.Register(() => running?.Stop());
                int code = RunHost.Execute(system, bound, folder, "cluster", (options, progress) =>
                {
                    running = ClusterLearner.Start(system, options, learnerOptions, progress);
                    return running;
                }, ProgressLine);
                // The worker nodes were told the run ended; they leave first, then this node: nobody reports a lost connection.
                ClusterLearner.ShutdownAsync(system, TimeSpan.FromSeconds(5)).Wait(TimeSpan.FromSeconds(20));
                return code;
            }
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
        var workers = new Option<int>("--workers") { Description = "Worker actors on this node (their ids, seeds and environments come from the learner)", DefaultValueFactory = _ => 1 };
        var lost = new Option<double>("--learner-lost-after") { Description = "Seconds the learner may stay unreachable (after the failure pause) before this node starts over", DefaultValueFactory = _ => 2 };
        var next = new Option<bool>("--wait-for-next-run") { Description = "When the learner's run ends, stay and wait for the next learner instead of exiting" };
        var keepTrying = new Option<bool>("--keep-trying") { Description = "Keep trying while TLS refuses the connection to the learner, instead of exiting 2 after --tls-give-up-after" };
        var giveUp = new Option<double>("--tls-give-up-after") { Description = "Seconds of refused TLS handshakes with the learner before this node exits 2", DefaultValueFactory = _ => 30 };
        var environments = EnvironmentAssemblies.Option();
        var algorithms = AlgorithmAssemblies.Option();
        var command = new Command("worker", "Run a worker node that joins a learner and trains until the run ends (exit 0) or it is stopped; it outlives learner restarts. " +
            "A node the learner refuses (another version, or without the run's environment) exits 2.") { join, port, workers, lost, next, keepTrying, giveUp, environments, algorithms };
        foreach (var o in common.All) command.Options.Add(o);
        command.SetAction(parse =>
        {
            var (registry, notLoaded) = EnvironmentAssemblies.Load(parse, environments);
            if (registry is null) return RunHost.Refuse("Invalid options:", [notLoaded!]);
            var options = new ClusterWorkerOptions(parse.GetValue(join)!)
            {
                Node = common.Node(parse, parse.GetValue(port)),
                Workers = parse.GetValue(workers),
                LearnerLostAfter = TimeSpan.FromSeconds(parse.GetValue(lost)),
                Environments = registry,
                WaitForNextRun = parse.GetValue(next),
                TlsFailureLimit = parse.GetValue(keepTrying) ? null : TimeSpan.FromSeconds(parse.GetValue(giveUp)),
            };
            var problems = options.Problems().Concat(common.Problems(parse)).ToList();
            if (problems.Count > 0) return RunHost.Refuse("Invalid options:", problems);
            using var stop = new CancellationTokenSource();
            common.WatchParent(parse, stop);
            // SIGTERM and SIGINT stop the node inside RunAsync: it leaves the cluster gracefully and returns.
            var result = ClusterWorker.RunAsync(options, e => Console.WriteLine($"worker[{e.Incarnation}] {e.Message}"), stop.Token).GetAwaiter().GetResult();
            if (result.IsNormal)
            {
                Console.WriteLine($"Worker node done: {result.Message}.");
                return 0;
            }
            Console.Error.WriteLine($"Worker node cannot take part: {result.Message}");
            return 2;
        });
        return command;
    }

    private static Command LocalCluster(string? algorithm)
    {
        var common = new Common();
        var flags = new TrainingFlags(algorithm);
        var nodes = new Option<int>("--nodes") { Description = "Worker processes, in [1, 64]", DefaultValueFactory = _ => 2 };
        var port = new Option<int>("--port") { Description = "Learner port (0: a free one)", DefaultValueFactory = _ => 0 };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "The learner's own checkpoint file (resume across learner restarts)" };
        var command = new Command("local-cluster", "Start one learner and N worker processes on this machine with the same training options as train (--workers counts " +
            "worker actors per process), stream their output, stop them all on exit, Ctrl-C or SIGTERM, and exit with the learner's exit code.")
        {
            nodes, port, checkpoint,
        };
        flags.AddTo(command);
        flags.Workers.Description = "Worker actors per worker process, in [1, 1024] [default: 1]";
        foreach (var o in common.All) command.Options.Add(o);
        command.SetAction(parse =>
        {
            // Everything is checked here, before any child starts: the learner would refuse the same options, but only after a start-up.
            int nodeCount = parse.GetValue(nodes), perNode = parse.GetValue(flags.Workers) ?? 1;
            var problems = new List<string>();
            if (nodeCount is < 1 or > 64) problems.Add($"--nodes = {nodeCount} is outside [1, 64].");
            if (perNode is < 1 or > 1024) problems.Add($"--workers = {perNode} is outside [1, 1024].");
            // --workers is per process here: the run (and every check that depends on its size) has nodes x workers.
            var bound = flags.Bind(parse, nodeCount is >= 1 and <= 64 && perNode is >= 1 and <= 1024 ? nodeCount * perNode : null);
            problems.AddRange(bound.Problems.Where(p => !p.StartsWith("--workers", StringComparison.Ordinal)));
            int learnerPort = parse.GetValue(port) is int p and > 0 ? p : Ports.Free();
            var node = common.Node(parse, learnerPort);
            problems.AddRange(common.Problems(parse));
            problems.AddRange(node.Problems());
            if (problems.Count > 0) return RunHost.Refuse("Invalid options:", problems);

            string host = parse.GetValue(common.Host)!;
            var shared = new List<string> { "--host", host, "--failure-pause", parse.GetValue(common.FailurePause).ToString("R", CultureInfo.InvariantCulture),
                "--max-inbound-connections", I(parse.GetValue(common.MaxInboundConnections)), "--exit-with-parent", I(Environment.ProcessId) };
            if (parse.GetValue(common.TlsCert) is { } cert) shared.AddRange(["--tls-cert", cert, "--tls-password", parse.GetValue(common.TlsPassword) ?? ""]);
            if (parse.GetValue(common.TlsCa) is { } ca) shared.AddRange(["--tls-ca", ca]);
            var learnerArgs = new List<string> { "learner", "--port", I(learnerPort), "--workers", I(nodeCount * perNode) };
            var given = flags.Given(parse).ToList();
            for (int i = 0; i < given.Count; i++)
            {
                // --workers is per process here; the learner gets the run's total above.
                if (given[i] == flags.Workers.Name) { i++; continue; }
                learnerArgs.Add(given[i]);
            }
            learnerArgs.AddRange(shared);
            if (parse.GetValue(checkpoint) is { } path) learnerArgs.AddRange(["--checkpoint", path]);

            using var children = new ChildProcesses();
            using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; children.Interrupt(); });
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; children.Interrupt(); });
            AppDomain.CurrentDomain.ProcessExit += (_, _) => children.Dispose();
            using var listening = new ManualResetEventSlim();
            var learner = children.Start("learner", learnerArgs, line =>
            {
                if (line.StartsWith("Learner listening", StringComparison.Ordinal)) listening.Set();
                // The learner's last line: from here the workers only report their learner going away.
                if (line.StartsWith("Solved (", StringComparison.Ordinal) || line.StartsWith("Stopped (", StringComparison.Ordinal)) children.SilenceWorkers();
            });
            // Workers that start before the seed is bound only waste a join attempt or two; wait for it, or for the learner to give up.
            while (!listening.Wait(TimeSpan.FromMilliseconds(200)) && !learner.HasExited) { }
            if (learner.HasExited) return learner.ExitCode;
            for (int n = 1; n <= nodeCount; n++)
            {
                var args = new List<string> { "worker", "--join", $"{host}:{learnerPort}", "--workers", I(perNode) };
                foreach (string assembly in parse.GetValue(flags.Environments) ?? []) args.AddRange(["--environments", Path.GetFullPath(assembly)]);
                foreach (string assembly in parse.GetValue(flags.AlgorithmAssemblyPaths) ?? []) args.AddRange([AlgorithmAssemblies.Flag, Path.GetFullPath(assembly)]);
                args.AddRange(shared);
                // A worker that saw its learner stop has nothing left to report but the teardown.
                children.Start($"worker-{n}", args, line => { if (line.Contains("the learner stopped", StringComparison.Ordinal)) children.SilenceWorkers(); });
            }
            learner.WaitForExit();
            // The run is over: the workers were told and leave on their own; what they still print is their goodbye.
            children.SilenceWorkers();
            children.WaitForAll(TimeSpan.FromSeconds(15));
            return learner.ExitCode;
        });
        return command;
    }

    /// <summary>Child processes of this one, output prefixed with their name; all killed (whole tree) on dispose.</summary>
    private sealed class ChildProcesses : IDisposable
    {
        private readonly List<Process> processes = [];
        private readonly Lock gate = new();
        private bool disposed;
        private volatile bool silent;

        /// <summary>
        /// The run is over: stop echoing the workers, and the learner's Akka log entries (nodes leaving a finished run make
        /// Akka.Remote log each disassociation as a warning or error with its stack trace). The learner's own lines, its
        /// result among them, still come through.
        /// </summary>
        public void SilenceWorkers() => silent = true;

        /// <summary>Whether a line is to be echoed: everything until the run is over; then only the learner's own lines.</summary>
        private bool Echo(string name, string line) =>
            !silent || (name == "learner" && !(line.StartsWith("[WARNING][", StringComparison.Ordinal) || line.StartsWith("[ERROR][", StringComparison.Ordinal)
                || line.StartsWith("   at ", StringComparison.Ordinal) || line.StartsWith("Cause: ", StringComparison.Ordinal)));

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
                if (Echo(name, e.Data)) Console.WriteLine($"[{name}] {e.Data}");
                onLine?.Invoke(e.Data);
            };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null && Echo(name, e.Data)) Console.Error.WriteLine($"[{name}] {e.Data}"); };
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

        /// <summary>Waits, up to <paramref name="timeout"/> in all, for every child to exit by itself (the rest are killed on dispose).</summary>
        public void WaitForAll(TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            Process[] all;
            lock (gate) all = [.. processes];
            foreach (var p in all)
            {
                var left = timeout - clock.Elapsed;
                if (left <= TimeSpan.Zero) break;
                try
                {
                    p.WaitForExit(left);
                }
                catch (InvalidOperationException)
                {
                }
            }
        }

        /// <summary>Asks every child to stop the graceful way (SIGTERM): the learner finishes its update and writes its run folder.</summary>
        public void Interrupt()
        {
            lock (gate)
            {
                foreach (var p in processes)
                {
                    try
                    {
                        if (!p.HasExited) Kill(p.Id, 15);
                    }
                    catch (InvalidOperationException)
                    {
                    }
                }
            }
        }

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        private static extern int Kill(int pid, int signal);

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

/// <summary>Ports for loopback clusters.</summary>
internal static class Ports
{
    /// <summary>
    /// Whether another socket listens on host:port now, so a command can refuse in one line before Akka logs its own
    /// bind failure with a stack trace (Akka still refuses a clash that happens after this check).
    /// </summary>
    public static bool Taken(string host, int port)
    {
        if (!IPAddress.TryParse(host, out var address)) return false;
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(address, port));
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
    }

    /// <summary>A port that was free a moment ago (the OS picks it); the caller binds it next.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
