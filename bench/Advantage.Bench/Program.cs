using System.CommandLine;
using System.Globalization;
using Advantage.Bench;
using Advantage.Learning;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// ---- e2e: throughput grid -------------------------------------------------------------------------
var e2eWorkers = new Option<int[]>("--workers") { Description = "Worker counts of the grid", DefaultValueFactory = _ => [1, 2, 4], AllowMultipleArgumentsPerToken = true };
var e2eEnvs = new Option<int[]>("--envs-per-worker") { Description = "Environments per worker of the grid", DefaultValueFactory = _ => [8, 16], AllowMultipleArgumentsPerToken = true };
var e2eRollout = new Option<int>("--rollout") { Description = "Rollout length T", DefaultValueFactory = _ => 5 };
var e2eWarmup = new Option<double>("--warmup") { Description = "Seconds discarded after the run starts", DefaultValueFactory = _ => 1.5 };
var e2eWindow = new Option<double>("--window") { Description = "Seconds measured after the warm-up", DefaultValueFactory = _ => 4.0 };
var e2eOut = new Option<string>("--out") { Description = "JSON output file", DefaultValueFactory = _ => Path.Combine("bench", "results", "e2e.json") };
var e2e = new Command("e2e", "End-to-end environment steps per second on CartPole-v1 for a grid of workers x environments per worker.")
{
    e2eWorkers, e2eEnvs, e2eRollout, e2eWarmup, e2eWindow, e2eOut,
};
e2e.SetAction(parse => EndToEnd.Run(new EndToEnd.Settings(
    parse.GetValue(e2eWorkers)!, parse.GetValue(e2eEnvs)!, parse.GetValue(e2eRollout),
    TimeSpan.FromSeconds(parse.GetValue(e2eWarmup)), TimeSpan.FromSeconds(parse.GetValue(e2eWindow)), parse.GetValue(e2eOut)!)));

// ---- solve: time to solve over seeds, with train's own options ---------------------------------------
var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds, run one at a time", DefaultValueFactory = _ => "1,2,3,4,5" };
var solveOut = new Option<string>("--out") { Description = "JSON output file", DefaultValueFactory = _ => Path.Combine("bench", "results", "solve.json") };
var label = new Option<string?>("--label") { Description = "Free text stored in the JSON (e.g. what this configuration tries)" };
var verbose = new Option<bool>("--verbose") { Description = "Print progress every 0.5 s" };
var solveNodes = new Option<int>("--nodes") { Description = "0: each seed in this process; N: on a loopback cluster of N worker processes, one worker each (N must equal --workers)", DefaultValueFactory = _ => 0 };
var solveFlags = new Advantage.Cli.TrainingFlags();
var solve = new Command("solve", "Time to reach the target mean return (train's options and defaults: the environment's preset, CartPole's 475), one fresh ActorSystem per seed, seeds run sequentially.")
{
    seeds, solveOut, label, verbose, solveNodes,
};
solveFlags.AddTo(solve);
solve.SetAction(parse =>
{
    var bound = solveFlags.Bind(parse);
    if (bound.Options is null) return Advantage.Cli.RunHost.Refuse("Invalid options:", bound.Problems);
    if (bound.Options.TargetMeanReturn is null) return Advantage.Cli.RunHost.Refuse("Invalid options:", [$"--target-return: {bound.Options.EnvironmentId} has no default target; give one."]);
    if (SeedList.Parse(parse.GetValue(seeds)!) is not { } seedList) return 2;
    if (seedList.Length == 0)
    {
        Console.Error.WriteLine("--seeds lists no seed.");
        return 2;
    }
    int nodes = parse.GetValue(solveNodes);
    if (nodes < 0 || (nodes > 0 && nodes != bound.Options.Algorithm.Workers))
    {
        Console.Error.WriteLine($"--nodes {nodes} must be 0 (in-process) or equal --workers ({bound.Options.Algorithm.Workers}): each worker process hosts one worker.");
        return 2;
    }
    return Solve.Run(new Solve.Settings(bound.Options, seedList, parse.GetValue(solveOut)!, parse.GetValue(label), parse.GetValue(verbose)) { Nodes = nodes });
});

// ---- update-time: milliseconds per learner update on a fixed round ---------------------------------
var utUpdates = new Option<int>("--updates") { Description = "Updates timed (after a tenth as many warm-up updates)", DefaultValueFactory = _ => 200 };
var utAutograd = new Option<bool>("--autograd") { Description = "PPO: time TorchSharp's autograd update instead of the hand-written one" };
var utFlags = new Advantage.Cli.TrainingFlags();
var updateTime = new Command("update-time", "Milliseconds per learner update (train's options, e.g. --algo ppo) on a fixed hand-made CartPole round, without actors.") { utUpdates, utAutograd };
utFlags.AddTo(updateTime);
updateTime.SetAction(parse =>
{
    var bound = utFlags.Bind(parse);
    if (bound.Options is null) return Advantage.Cli.RunHost.Refuse("Invalid options:", bound.Problems);
    return UpdateTime.Run(bound.Options.Algorithm, Math.Max(10, parse.GetValue(utUpdates)), parse.GetValue(utAutograd));
});

// ---- micro: BenchmarkDotNet ------------------------------------------------------------------------
var micro = new Command("micro", "BenchmarkDotNet (ShortRun, in-process, MemoryDiagnoser) of the hot loops. Extra arguments go to BenchmarkDotNet, e.g. --filter '*Returns*'.")
{
    TreatUnmatchedTokensAsErrors = false,
};
var skipCheck = new Option<bool>("--skip-alloc-check") { Description = "Skip the direct zero-allocation check that runs before BenchmarkDotNet" };
micro.Options.Add(skipCheck);
micro.SetAction(parse => Micro.Run(parse.UnmatchedTokens.ToArray(), !parse.GetValue(skipCheck)));

// ---- cluster: the same run in one process and as a loopback cluster ---------------------------------
var clNodes = new Option<int>("--nodes") { Description = "Worker processes, one worker actor each (in-process: worker actors)", DefaultValueFactory = _ => 2 };
var clWarmup = new Option<double>("--warmup") { Description = "Seconds discarded after all workers are in", DefaultValueFactory = _ => 3.0 };
var clWindow = new Option<double>("--window") { Description = "Seconds measured after the warm-up", DefaultValueFactory = _ => 8.0 };
var clOut = new Option<string>("--out") { Description = "JSON output file", DefaultValueFactory = _ => Path.Combine("bench", "results", "cluster.json") };
var clRepeats = new Option<int>("--repeats") { Description = "Interleaved repeats of every mode; each mode reports its median", DefaultValueFactory = _ => 1 };
var clEngine = new Option<string>("--engine") { Description = "Akka HOCON laid over every cluster node (e.g. 'akka.remote.dot-netty.tcp.server-socket-worker-pool.pool-size-max = 1')", DefaultValueFactory = _ => "" };
var clFlags = new Advantage.Cli.TrainingFlags();
var cluster = new Command("cluster", "Env-steps/s of one configuration (train's options) in one process and as a loopback cluster (learner + N worker processes), side by side; bytes per rollout and per parameter broadcast.")
{
    clNodes, clWarmup, clWindow, clOut, clRepeats, clEngine,
};
clFlags.AddTo(cluster);
cluster.SetAction(parse =>
{
    var bound = clFlags.Bind(parse);
    if (bound.Options is null) return Advantage.Cli.RunHost.Refuse("Invalid options:", bound.Problems);
    var run = bound.Options with { Algorithm = bound.Options.Algorithm with { Workers = Math.Max(1, parse.GetValue(clNodes)) } };
    return ClusterBench.Run(new ClusterBench.Settings(run, TimeSpan.FromSeconds(parse.GetValue(clWarmup)), TimeSpan.FromSeconds(parse.GetValue(clWindow)),
        parse.GetValue(clOut)!, Math.Max(1, parse.GetValue(clRepeats))) { Engine = parse.GetValue(clEngine)! });
});
var cwJoin = new Option<string>("--join") { Required = true };
var cwParent = new Option<int>("--parent") { Required = true };
var cwEngine = new Option<string>("--engine") { DefaultValueFactory = _ => "" };
var clusterWorker = new Command("cluster-worker", "A worker node of the cluster benchmark (started by it).") { cwJoin, cwParent, cwEngine };
clusterWorker.Hidden = true;
clusterWorker.SetAction(parse => ClusterBench.Worker(parse.GetValue(cwJoin)!, parse.GetValue(cwEngine)!, parse.GetValue(cwParent)));

// ---- async: asynchronous vs synchronous rounds, in one process, on a loopback cluster and with a straggler ---------
var asWarmup = new Option<double>("--warmup") { Description = "Seconds discarded after the run starts", DefaultValueFactory = _ => 3.0 };
var asWindow = new Option<double>("--window") { Description = "Seconds measured after the warm-up", DefaultValueFactory = _ => 6.0 };
var asRepeats = new Option<int>("--repeats") { Description = "Interleaved repeats of every mode; each mode reports its median", DefaultValueFactory = _ => 3 };
var asStraggler = new Option<double>("--straggler-ms") { Description = "Sleep per environment step of worker 0 in the straggler modes (0: skip them)", DefaultValueFactory = _ => 2.0 };
var asNoCluster = new Option<bool>("--no-cluster") { Description = "Skip the loopback-cluster mode" };
var asOut = new Option<string>("--out") { Description = "JSON output file", DefaultValueFactory = _ => Path.Combine("bench", "results", "async.json") };
var asFlags = new Advantage.Cli.TrainingFlags();
var asyncBench = new Command("async", "Env-steps/s of asynchronous rounds (train's options, --algo impala) against synchronous A2C of the same shape: in one process, as a loopback cluster, and with one worker whose environments sleep per step.")
{
    asWarmup, asWindow, asRepeats, asStraggler, asNoCluster, asOut,
};
asFlags.AddTo(asyncBench);
asyncBench.SetAction(parse =>
{
    var bound = asFlags.Bind(parse);
    if (bound.Options is null) return Advantage.Cli.RunHost.Refuse("Invalid options:", bound.Problems);
    return AsyncBench.Run(new AsyncBench.Settings(bound.Options, TimeSpan.FromSeconds(parse.GetValue(asWarmup)), TimeSpan.FromSeconds(parse.GetValue(asWindow)),
        Math.Max(1, parse.GetValue(asRepeats)), TimeSpan.FromMilliseconds(parse.GetValue(asStraggler)), parse.GetValue(asOut)!, !parse.GetValue(asNoCluster)));
});

// ---- remote-rtt: request/response round trip over Akka.Remote on loopback ---------------------------
var rttRequest = new Option<int>("--bytes") { Description = "Request size in bytes (a parameter broadcast is ~18.7 kB for [64, 64])", DefaultValueFactory = _ => 18_717 };
var rttReply = new Option<int>("--reply-bytes") { Description = "Reply size in bytes (a 16 x 5 CartPole rollout is ~2.4 kB)", DefaultValueFactory = _ => 2_416 };
var rttCount = new Option<int>("--count") { Description = "Round trips measured", DefaultValueFactory = _ => 3_000 };
var rttDispatcher = new Option<string>("--dispatcher") { Description = "Where both actors run: compute (Advantage's compute dispatcher) or default", DefaultValueFactory = _ => "compute" };
var rttOut = new Option<string>("--out") { Description = "JSON output file", DefaultValueFactory = _ => Path.Combine("bench", "results", "remote-rtt.json") };
var rtt = new Command("remote-rtt", "Round-trip time of a request/response between two actors, in one process and across two processes over Akka.Remote on loopback.")
{
    rttRequest, rttReply, rttCount, rttDispatcher, rttOut,
};
rtt.SetAction(parse => RemoteLatency.Run(new RemoteLatency.Settings(parse.GetValue(rttRequest), parse.GetValue(rttReply), parse.GetValue(rttCount), parse.GetValue(rttDispatcher)!), parse.GetValue(rttOut)!));
var rttParent = new Option<string>("--parent") { Required = true };
var rttEchoReply = new Option<int>("--reply-bytes") { DefaultValueFactory = _ => 2_416 };
var rttEchoDispatcher = new Option<string>("--dispatcher") { DefaultValueFactory = _ => "compute" };
var rttEcho = new Command("remote-rtt-echo", "The echo side of remote-rtt (started by it).") { rttParent, rttEchoReply, rttEchoDispatcher };
rttEcho.Hidden = true;
rttEcho.SetAction(parse => RemoteLatency.EchoProcess(parse.GetValue(rttParent)!, parse.GetValue(rttEchoReply), parse.GetValue(rttEchoDispatcher)!));

// ---- hostile: what hostile input at a learner's port costs in pace ----------------------------------------
var hoBaseline = new Option<double>("--baseline") { Description = "Seconds of each window without attacks", DefaultValueFactory = _ => 10.0 };
var hoIdle = new Option<double>("--idle-hold") { Description = "Seconds the 1,000 idle connections are held", DefaultValueFactory = _ => 20.0 };
var hoWarmup = new Option<long>("--warmup-version") { Description = "Learner version reached before the first window (past JIT and warm-up)", DefaultValueFactory = _ => 2000 };
var hoRepeats = new Option<int>("--repeats") { Description = "Runs of the whole scenario (fresh processes each); medians reported", DefaultValueFactory = _ => 3 };
var hoOut = new Option<string>("--out") { Description = "JSON output file", DefaultValueFactory = _ => Path.Combine("bench", "results", "hostile.json") };
var hostile = new Command("hostile", "Env-steps/s of a learner process while its port takes random bytes, an HTTP request, a 2 GB frame claim, a slow sender and 1,000 idle connections, against the windows without attacks either side (the scenario of HostileInputTests).")
{
    hoBaseline, hoIdle, hoWarmup, hoRepeats, hoOut,
};
hostile.SetAction(parse => HostileBench.Run(new HostileBench.Settings(TimeSpan.FromSeconds(parse.GetValue(hoBaseline)), TimeSpan.FromSeconds(parse.GetValue(hoIdle)),
    Math.Max(1, parse.GetValue(hoWarmup)), Math.Max(1, parse.GetValue(hoRepeats)), parse.GetValue(hoOut)!)));

// ---- serve: the policy actor under 1, 100 and 1,000 concurrent requesters ----------------------------------
var svRequesters = new Option<int[]>("--requesters") { Description = "Concurrent requesting actors of each cell", DefaultValueFactory = _ => [1, 100, 1000], AllowMultipleArgumentsPerToken = true };
var svMaxBatch = new Option<int>("--max-batch") { Description = "MaxBatch of the batched mode (the other mode is MaxBatch 1)", DefaultValueFactory = _ => 1024 };
var svHidden = new Option<int[]>("--hidden") { Description = "Hidden layer sizes of the served network (CartPole's preset: 64 64)", DefaultValueFactory = _ => [64, 64], AllowMultipleArgumentsPerToken = true };
var svWarmup = new Option<double>("--warmup") { Description = "Seconds discarded after the requesters start", DefaultValueFactory = _ => 0.5 };
var svWindow = new Option<double>("--window") { Description = "Seconds measured per cell", DefaultValueFactory = _ => 2.0 };
var svRepeats = new Option<int>("--repeats") { Description = "Interleaved repeats of every cell; each cell reports its median", DefaultValueFactory = _ => 2 };
var svOut = new Option<string>("--out") { Description = "JSON output file", DefaultValueFactory = _ => Path.Combine("bench", "results", "serve.json") };
var svEngine = new Option<string>("--engine") { Description = "Akka HOCON laid over the bench's actor system (e.g. 'advantage.compute-dispatcher.throughput = 64')", DefaultValueFactory = _ => "" };
var serve = new Command("serve", "Decisions/s and p50/p99 latency of the policy actor with N concurrent requesting actors (each asks, waits for the answer, asks again), batched against one forward pass per request.")
{
    svRequesters, svMaxBatch, svHidden, svWarmup, svWindow, svRepeats, svOut, svEngine,
};
serve.SetAction(parse =>
{
    int[] requesters = parse.GetValue(svRequesters)!, hidden = parse.GetValue(svHidden)!;
    int maxBatch = parse.GetValue(svMaxBatch), repeats = parse.GetValue(svRepeats);
    double warmup = parse.GetValue(svWarmup), window = parse.GetValue(svWindow);
    var problems = new List<string>();
    if (requesters.Length == 0 || requesters.Any(r => r < 1 || r > 100_000)) problems.Add("--requesters: each count must be in [1, 100000].");
    if (maxBatch < 1 || maxBatch > 65_536) problems.Add($"--max-batch {maxBatch} is outside [1, 65536].");
    if (hidden.Length == 0 || hidden.Any(h => h < 1 || h > 4096)) problems.Add("--hidden: each size must be in [1, 4096].");
    if (!(warmup >= 0 && warmup <= 600)) problems.Add($"--warmup {warmup} is outside [0, 600] seconds.");
    if (!(window > 0 && window <= 600)) problems.Add($"--window {window} is outside (0, 600] seconds.");
    if (repeats < 1 || repeats > 100) problems.Add($"--repeats {repeats} is outside [1, 100].");
    if (problems.Count > 0) return Advantage.Cli.RunHost.Refuse("Invalid options:", problems);
    return ServeBench.Run(new ServeBench.Settings(requesters, maxBatch, hidden, TimeSpan.FromSeconds(warmup), TimeSpan.FromSeconds(window), repeats, parse.GetValue(svOut)!) { Engine = parse.GetValue(svEngine)! });
});

// ---- report: README's Results section from the JSON files ------------------------------------------
var reportFolder = new Option<string>("--results") { Description = "Folder of the benchmark JSON files", DefaultValueFactory = _ => Path.Combine("bench", "results") };
var reportReadme = new Option<string>("--readme") { Description = "README whose results block is replaced", DefaultValueFactory = _ => "README.md" };
var report = new Command("report", "Rewrite README's Results section (between the results markers) from the benchmark JSON files.") { reportFolder, reportReadme };
report.SetAction(parse => ResultsReport.Run(parse.GetValue(reportFolder)!, parse.GetValue(reportReadme)!));

// ---- simulation: CartPole through the simulation API against the built-in worker path ---------------
var simAlgo = new Option<string>("--algo") { Description = "a2c or impala (the CartPole preset)", DefaultValueFactory = _ => "a2c" };
var simSeed = new Option<int>("--seed") { Description = "Seed of both paths", DefaultValueFactory = _ => 1 };
var simRepeats = new Option<int>("--repeats") { Description = "Interleaved repeats of each path", DefaultValueFactory = _ => 3 };
var simOut = new Option<string?>("--out") { Description = "JSON output file (default bench/results/simulation-ALGO.json)" };
var simulationBench = new Command("simulation", "Time and steps to 475 on CartPole-v1: 2 gateways x 16 stream actors through SimulationTraining against 2 workers x 16 environments, interleaved repeats.")
{
    simAlgo, simSeed, simRepeats, simOut,
};
simulationBench.SetAction(parse =>
{
    string algo = parse.GetValue(simAlgo)!;
    if (algo is not ("a2c" or "impala"))
    {
        Console.Error.WriteLine("--algo must be a2c or impala.");
        return 2;
    }
    int repeats = parse.GetValue(simRepeats);
    if (repeats is < 1 or > 100)
    {
        Console.Error.WriteLine("--repeats must be in [1, 100].");
        return 2;
    }
    return SimulationBench.Run(algo, parse.GetValue(simSeed), repeats, parse.GetValue(simOut) ?? Path.Combine("bench", "results", $"simulation-{algo}.json"));
});

// ---- capture-rounds: save the learner's state and the round before every update in a step window -------
var capFrom = new Option<long>("--from") { Description = "First step count (after the batch) whose round is saved", DefaultValueFactory = _ => 0 };
var capTo = new Option<long>("--to") { Description = "Last step count whose round is saved; the run stops after it", DefaultValueFactory = _ => 200_000 };
var capDir = new Option<string>("--dir") { Description = "Folder for round-NNNNN.ckpt / .rollouts.json and updates.csv", DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), "advantage-rounds") };
var capAutograd = new Option<bool>("--autograd") { Description = "PPO: TorchSharp's autograd update instead of the hand-written one (the code before the speed work)" };
var capFlags = new Advantage.Cli.TrainingFlags();
var capture = new Command("capture-rounds", "Runs one seed as train would (its flags) and saves the learner's state and the round's rollouts before every update whose steps fall in [--from, --to], plus every update's metrics (updates.csv): to find and keep a failing update.")
{
    capFrom, capTo, capDir, capAutograd,
};
capFlags.AddTo(capture);
capture.SetAction(parse =>
{
    var bound = capFlags.Bind(parse);
    if (bound.Options is null) return Advantage.Cli.RunHost.Refuse("Invalid options:", bound.Problems);
    return CaptureRounds.Run(bound.Options, parse.GetValue(capFrom), parse.GetValue(capTo), parse.GetValue(capDir)!, parse.GetValue(capAutograd));
});

// ---- replay-rounds: captured rounds replayed under each candidate cause of a collapse ---------------
var rrDir = new Option<string>("--dir") { Description = "A capture-rounds folder", Required = true };
var rrFirst = new Option<long>("--first") { Description = "First round (version) replayed, from the state saved before it", Required = true };
var rrLast = new Option<long>("--last") { Description = "Last round: only its observations are looked at (the entropy is measured on them)", Required = true };
var rrOut = new Option<string?>("--out") { Description = "JSON output file (none: print only)" };
var rrAutograd = new Option<bool>("--autograd") { Description = "TorchSharp's autograd update instead of the hand-written one" };
var rrFixture = new Option<string?>("--fixture") { Description = "Also write the state and rounds as a test fixture into this folder (state.ckpt, rounds.json)" };
var replayRounds = new Command("replay-rounds", "Replays rounds saved by capture-rounds (PPO) from the same state with each candidate cause of a collapse changed alone; prints the policy's entropy after each update.")
{
    rrDir, rrFirst, rrLast, rrOut, rrAutograd, rrFixture,
};
replayRounds.SetAction(parse => ReplayRound.Run(parse.GetValue(rrDir)!, parse.GetValue(rrFirst), parse.GetValue(rrLast), parse.GetValue(rrOut), parse.GetValue(rrAutograd), parse.GetValue(rrFixture)));

var root = new RootCommand("Advantage benchmarks: e2e throughput, time to solve CartPole, learning quality per environment, cluster vs in-process, and micro-benchmarks of the hot loops.")
{
    e2e, solve, micro, updateTime, EnvCommand.Create(), cluster, clusterWorker, asyncBench, rtt, rttEcho, hostile, serve, report, simulationBench, capture, replayRounds,
};
return root.Parse(args).Invoke();
