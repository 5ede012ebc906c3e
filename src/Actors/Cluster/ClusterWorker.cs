using Advantage.Environments;
using Advantage.Learning;
using Akka.Actor;
using Akka.Event;
using ClusterExtension = Akka.Cluster.Cluster;
using ClusterEvent = Akka.Cluster.ClusterEvent;

namespace Advantage.Actors.Cluster;

/// <summary>What a worker node runs and which learner it serves. Immutable; F# callers use the <c>WithX</c> methods.</summary>
public sealed record ClusterWorkerOptions
{
    /// <summary>Creates options for a worker node that joins the learner at <paramref name="learner"/> ("host:port").</summary>
    public ClusterWorkerOptions(string learner) => Learner = learner;

    /// <summary>The learner node's "host:port" (the cluster's seed).</summary>
    public string Learner { get; init; }

    /// <summary>This node's own address; port 0 (the default) picks a free one.</summary>
    public ClusterNodeOptions Node { get; init; } = new();

    /// <summary>
    /// Worker actors on this node, in [1, 1024]. Default 1. Everything else about them (ids, seeds, environments
    /// per worker, rollout length) comes from the learner, so the run is the same whichever node hosts which worker.
    /// </summary>
    public int Workers { get; init; } = 1;

    /// <summary>Where the run's environment id resolves on this node; register custom environments here. Default: the built-in set.</summary>
    public EnvironmentRegistry Environments { get; init; } = EnvironmentRegistry.Builtin;

    /// <summary>
    /// How long the learner may stay unreachable (after the failure detector's own pause) before this node gives it
    /// up and starts over (new actor system, join again, wait for a learner). Short, because a learner that comes back
    /// is a new process the old cluster cannot take in: the sooner this node starts over, the sooner it trains again.
    /// Default 2 s.
    /// </summary>
    public TimeSpan LearnerLostAfter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the node asks the learner to let it join while it has no answer. Default 1 s.</summary>
    public TimeSpan JoinRetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Whether the node stays for the next run when the learner's run ends: false (the default) leaves the cluster and
    /// ends <see cref="ClusterWorker.RunAsync"/> with <see cref="ClusterWorkerEnd.RunEnded"/>, as a job that is done; true starts
    /// over and waits for a learner, as a standing pool of workers would.
    /// </summary>
    public bool WaitForNextRun { get; init; }

    /// <summary>
    /// How long the node keeps trying while its connections to the learner fail the TLS handshake (a certificate the other
    /// side does not accept) before it ends with <see cref="ClusterWorkerEnd.CannotConnect"/>: a refused certificate does not
    /// fix itself, and a node that retries forever only fills its log. Null: keep trying (a certificate may be rolled out
    /// on the learner later). Default 30 s.
    /// </summary>
    public TimeSpan? TlsFailureLimit { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Simulations this node hosts instead of worker actors: the user's own actors drive the episodes (simulation-driven
    /// training, see <see cref="Simulation.SimulationTraining"/>) on this node, and the learner trains on them like on
    /// workers. The node needs no environment then (<see cref="Environments"/> and <see cref="Workers"/> are not used); it joins
    /// through the same handshake, TLS rules and run end as a worker node. Null (the default): the node hosts workers.
    /// </summary>
    public Simulation.SimulationHosting? Simulation { get; init; }

    /// <summary>Returns a copy with <see cref="Simulation"/> changed.</summary>
    public ClusterWorkerOptions WithSimulation(Simulation.SimulationHosting? value) => this with { Simulation = value };

    /// <summary>Returns a copy with <see cref="Node"/> changed.</summary>
    public ClusterWorkerOptions WithNode(ClusterNodeOptions value) => this with { Node = value };

    /// <summary>Returns a copy with <see cref="WaitForNextRun"/> changed.</summary>
    public ClusterWorkerOptions WithWaitForNextRun(bool value) => this with { WaitForNextRun = value };

    /// <summary>Returns a copy with <see cref="TlsFailureLimit"/> changed.</summary>
    public ClusterWorkerOptions WithTlsFailureLimit(TimeSpan? value) => this with { TlsFailureLimit = value };

    /// <summary>Returns a copy with <see cref="Workers"/> changed.</summary>
    public ClusterWorkerOptions WithWorkers(int value) => this with { Workers = value };

    /// <summary>Returns a copy with <see cref="Environments"/> changed.</summary>
    public ClusterWorkerOptions WithEnvironments(EnvironmentRegistry value) => this with { Environments = value };

    /// <summary>Returns a copy with <see cref="LearnerLostAfter"/> changed.</summary>
    public ClusterWorkerOptions WithLearnerLostAfter(TimeSpan value) => this with { LearnerLostAfter = value };

    /// <summary>Returns a copy with <see cref="JoinRetryInterval"/> changed.</summary>
    public ClusterWorkerOptions WithJoinRetryInterval(TimeSpan value) => this with { JoinRetryInterval = value };

    /// <summary>Every problem with these options, one per bad field. Empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Learner) || Learner.LastIndexOf(':') is var colon && (colon <= 0 || !int.TryParse(Learner[(colon + 1)..], out int port) || port is < 1 or > 65535))
            problems.Add($"{nameof(Learner)} = '{Learner}' must be host:port with a port in [1, 65535].");
        if (Node is null) problems.Add($"{nameof(Node)} must be set.");
        else problems.AddRange(Node.Problems().Select(p => $"{nameof(Node)}.{p}"));
        problems.AddIf(new OptionRange(1, 1024).Problem(nameof(Workers), Workers));
        if (Environments is null) problems.Add($"{nameof(Environments)} must be set.");
        if (LearnerLostAfter < TimeSpan.FromMilliseconds(500)) problems.Add($"{nameof(LearnerLostAfter)} = {LearnerLostAfter} must be at least 0.5 s.");
        if (JoinRetryInterval < TimeSpan.FromMilliseconds(50)) problems.Add($"{nameof(JoinRetryInterval)} = {JoinRetryInterval} must be at least 50 ms.");
        if (TlsFailureLimit is { } limit && limit < TimeSpan.FromSeconds(1)) problems.Add($"{nameof(TlsFailureLimit)} = {limit} must be at least 1 s (or null: keep trying).");
        if (Simulation is not null) problems.AddRange(Simulation.Problems().Select(p => $"{nameof(Simulation)}.{p}"));
        return problems;
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem, if there is any.</summary>
    public ClusterWorkerOptions Validate()
    {
        OptionsValidationException.ThrowIfAny(nameof(ClusterWorkerOptions), Problems());
        return this;
    }
}

/// <summary>Something that happened to a worker node, for logs and progress output.</summary>
/// <param name="Incarnation">Which actor system of this node (1 for the first; a new one after the learner was lost).</param>
/// <param name="Message">What happened.</param>
public sealed record ClusterWorkerEvent(int Incarnation, string Message);

/// <summary>Why <see cref="ClusterWorker.RunAsync"/> returned.</summary>
public enum ClusterWorkerEnd
{
    /// <summary>Asked to stop: the caller's token, SIGTERM or SIGINT. The node left the cluster gracefully.</summary>
    Stopped,

    /// <summary>The learner's run ended (<see cref="RunEnded"/>) and <see cref="ClusterWorkerOptions.WaitForNextRun"/> is off. The node left gracefully.</summary>
    RunEnded,

    /// <summary>
    /// The learner refused the node (<see cref="JoinRefused"/>): another Advantage version, or the run's environment is not
    /// registered here. Also a simulation node whose <see cref="Simulation.SimulationHosting.Start"/> threw: a setup to fix as well.
    /// </summary>
    Refused,

    /// <summary>Every connection to the learner failed its TLS handshake for <see cref="ClusterWorkerOptions.TlsFailureLimit"/>.</summary>
    CannotConnect,
}

/// <summary>How a worker node ended: a normal end (<see cref="ClusterWorkerEnd.Stopped"/>, <see cref="ClusterWorkerEnd.RunEnded"/>) or a mistake to fix.</summary>
/// <param name="End">Why it ended.</param>
/// <param name="Message">One line for the user, with the reason.</param>
public sealed record ClusterWorkerResult(ClusterWorkerEnd End, string Message)
{
    /// <summary>Whether the node ended as it should (stopped, or its run ended), so a command line exits 0; otherwise 2, a setup to fix.</summary>
    public bool IsNormal => End is ClusterWorkerEnd.Stopped or ClusterWorkerEnd.RunEnded;
}

/// <summary>
/// The worker side of a training cluster. <see cref="RunAsync"/> keeps a worker node in the run: it joins the learner's
/// cluster, asks to take part, starts its workers (which register with the learner and get the current parameters),
/// restarts a worker whose environment throws, and when the learner is lost it starts over with a fresh actor system and
/// waits until a learner is back. It ends when the run ends, when the learner refuses the node, when TLS keeps failing,
/// or when stopped (a token, SIGTERM, SIGINT), and says which in its result.
/// </summary>
public static class ClusterWorker
{
    /// <summary>
    /// Runs a worker node until its run ends or it is stopped; then leaves the cluster gracefully and returns why. SIGTERM and
    /// SIGINT stop it like <paramref name="cancellation"/> (a service manager's stop or Ctrl-C needs no token of the caller's).
    /// </summary>
    /// <param name="options">The node and the learner it serves.</param>
    /// <param name="onEvent">Called (from any thread) when the node joins, starts workers, loses the learner; keep it quick.</param>
    /// <param name="cancellation">Stops the node.</param>
    public static async Task<ClusterWorkerResult> RunAsync(ClusterWorkerOptions options, Action<ClusterWorkerEvent>? onEvent, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var sigterm = Signal(System.Runtime.InteropServices.PosixSignal.SIGTERM, stopping);
        using var sigint = Signal(System.Runtime.InteropServices.PosixSignal.SIGINT, stopping);
        var stop = stopping.Token;
        long frame = ClusterConfig.MinimumFrameSize;
        var tls = new TlsTrouble();
        for (int incarnation = 1; ; incarnation++)
        {
            int current = incarnation;
            Action<string> report = message =>
            {
                try { onEvent?.Invoke(new ClusterWorkerEvent(current, message)); } catch (Exception) { /* a reporter must not stop the node */ }
            };
            // SIGTERM and SIGINT are RunAsync's to handle (a graceful leave, then a result); Akka's own hook would terminate
            // the system under it first, which reads as a lost learner.
            var config = Akka.Configuration.ConfigurationFactory.ParseString("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off")
                .WithFallback(ClusterConfig.For(options.Node, ClusterConfig.WorkerRole, options.Learner, frame));
            var system = ClusterConfig.CreateSystem(options.Node, config);
            var exit = new TaskCompletionSource<NodeExit>(TaskCreationOptions.RunContinuationsAsynchronously);
            system.ActorOf(Props.Create(() => new WorkerNode(options, frame, report, exit, tls)), "advantage-worker-node");
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (stop.Register(() => stopped.TrySetResult()))
                await Task.WhenAny(exit.Task, system.WhenTerminated, stopped.Task).ConfigureAwait(false);
            var why = exit.Task.IsCompletedSuccessfully ? exit.Task.Result : null;
            if (why?.Frame > frame) frame = why.Frame;
            if (stop.IsCancellationRequested || why?.End is not null)
            {
                // Stopped, or the run is over for this node: leave the cluster gracefully, so the learner drops this node's
                // workers at once and neither side logs a lost connection.
                try
                {
                    await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    await system.Terminate().ConfigureAwait(false);
                }
                if (stop.IsCancellationRequested) return new ClusterWorkerResult(ClusterWorkerEnd.Stopped, "stopped; left the cluster");
                if (why!.End is not ClusterWorkerEnd.RunEnded || !options.WaitForNextRun) return new ClusterWorkerResult(why.End!.Value, why.Message);
                report("waiting for the next run");
            }
            else
            {
                // The learner is gone: a graceful leave needs a leader that is not there and would only wait out its
                // timeouts, so this incarnation downs itself and goes; a fresh one (on a fresh port) joins at once.
                ClusterExtension.Get(system).Down(ClusterExtension.Get(system).SelfAddress);
                try
                {
                    await system.Terminate().WaitAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // It finishes shutting down in the background; nothing of it is used again.
                }
                // Akka.Remote shuts a node down when its outbound TLS handshake fails: each refused handshake ends an incarnation.
                if (system.WhenTerminated.IsCompleted && CoordinatedShutdown.Get(system).ShutdownReason?.ToString() is { } reason
                    && reason.Contains("TLS", StringComparison.Ordinal))
                    tls.Failed(reason);
                if (tls.Active)
                {
                    // While TLS refuses every handshake, incarnations come and go: that is said once, then every 10 s, not each time.
                    if (tls.Exhausted(options) is { } givenUp) return new ClusterWorkerResult(ClusterWorkerEnd.CannotConnect, givenUp);
                    if (tls.Due(options) is { } line) report(line);
                }
                else
                {
                    report("starting over: joining the learner again");
                }
            }
            try
            {
                await Task.Delay(options.JoinRetryInterval, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return new ClusterWorkerResult(ClusterWorkerEnd.Stopped, "stopped");
            }
        }
    }

    private static System.Runtime.InteropServices.PosixSignalRegistration? Signal(System.Runtime.InteropServices.PosixSignal signal, CancellationTokenSource stop)
    {
        try
        {
            return System.Runtime.InteropServices.PosixSignalRegistration.Create(signal, context =>
            {
                // The node leaves gracefully and RunAsync returns; the process ends when its caller returns.
                context.Cancel = true;
                try { stop.Cancel(); } catch (ObjectDisposedException) { }
            });
        }
        catch (PlatformNotSupportedException)
        {
            return null; // no POSIX signals here (browser, mobile): the token alone stops the node
        }
    }
}

/// <summary>
/// Failed TLS handshakes with the learner, kept across a node's incarnations (a refused handshake can end one), so the node
/// says the reason once, then a line every 10 s, and gives up after <see cref="ClusterWorkerOptions.TlsFailureLimit"/> in all.
/// </summary>
internal sealed class TlsTrouble
{
    private readonly Lock gate = new();
    private readonly System.Diagnostics.Stopwatch since = new();
    private readonly System.Diagnostics.Stopwatch said = new();
    private bool precise;

    private int failures;
    private string? reason;

    public bool Active { get { lock (gate) return since.IsRunning; } }

    /// <summary>The line to say now: the reason the first time, then every 10 s how long it has lasted; null when nothing is due.</summary>
    public string? Due(ClusterWorkerOptions options)
    {
        lock (gate)
        {
            if (!since.IsRunning) return null;
            if (!said.IsRunning)
            {
                said.Start();
                return $"TLS refuses the connection to the learner at {options.Learner}: {reason ?? "the TLS handshake failed"}; " +
                    (options.TlsFailureLimit is { } limit ? $"giving up after {limit.TotalSeconds:F0} s" : "trying on until stopped");
            }
            if (said.Elapsed < TimeSpan.FromSeconds(10)) return null;
            said.Restart();
            return $"TLS still refuses the connection to the learner: {failures} failed handshakes in {since.Elapsed.TotalSeconds:F0} s";
        }
    }

    /// <summary>The node's last line once TLS has failed for the whole limit; null before (or without a limit).</summary>
    public string? Exhausted(ClusterWorkerOptions options)
    {
        lock (gate)
        {
            if (!since.IsRunning || options.TlsFailureLimit is not { } limit || since.Elapsed < limit) return null;
            return $"TLS refused every connection to the learner at {options.Learner} for {since.Elapsed.TotalSeconds:F0} s: {reason ?? "the TLS handshake failed"} " +
                "(check the certificates on both sides; ClusterWorkerOptions.TlsFailureLimit = null, or worker --keep-trying, keeps trying)";
        }
    }

    /// <summary>An incarnation ended by a failed handshake (Akka's shutdown reason says so).</summary>
    public void Failed(string shutdownReason)
    {
        lock (gate)
        {
            if (!since.IsRunning) since.Start();
            failures = Math.Max(failures, 1);
            reason ??= shutdownReason.TrimEnd('.');
        }
    }

    /// <summary>Counts a TLS log event; this node's own refusal of the learner's certificate is the most precise reason.</summary>
    public void Failed(LogEvent e)
    {
        string message = e.Message?.ToString() ?? "";
        lock (gate)
        {
            if (!since.IsRunning) since.Start();
            // DotNetty logs each failed handshake once under this text (besides Akka's and this node's own lines about it).
            if (message.StartsWith("TLS handshake failed", StringComparison.Ordinal)) failures++;
            bool own = message.StartsWith("TLS: refused", StringComparison.Ordinal);
            if (precise || (!own && reason is not null)) return;
            var innermost = e.Cause;
            while (innermost?.InnerException is not null) innermost = innermost.InnerException;
            string why = own ? message : innermost?.Message ?? message;
            int end = why.IndexOfAny(['\r', '\n']);
            reason = (end < 0 ? why : why[..end]).TrimEnd('.');
            precise = own;
        }
    }

    public void Reset()
    {
        lock (gate)
        {
            since.Reset();
            said.Reset();
            failures = 0;
            reason = null;
            precise = false;
        }
    }
}

/// <summary>Why one incarnation of a worker node ended: a larger frame to start over with, or an end of the node with its line.</summary>
internal sealed record NodeExit(long Frame, ClusterWorkerEnd? End = null, string Message = "");

/// <summary>
/// One incarnation of a worker node: once this node is up in the cluster, asks the learner endpoint to join
/// until it answers, then starts the workers under a restart-on-failure strategy and watches the learner.
/// Completes <c>exit</c> (with the frame size it needs) when the learner is lost or the frame is too small.
/// </summary>
internal sealed class WorkerNode : ReceiveActor, IWithTimers
{
    private sealed record AskToJoin : INoSerializationVerificationNeeded
    {
        public static readonly AskToJoin Instance = new();
    }

    private sealed record LearnerLost : INoSerializationVerificationNeeded
    {
        public static readonly LearnerLost Instance = new();
    }

    private sealed record NoLearnerYet : INoSerializationVerificationNeeded
    {
        public static readonly NoLearnerYet Instance = new();
    }

    private sealed record TlsStillFailing : INoSerializationVerificationNeeded
    {
        public static readonly TlsStillFailing Instance = new();
    }


    private readonly ClusterWorkerOptions options;
    private readonly long frame;
    private readonly Action<string> report;
    private readonly TaskCompletionSource<NodeExit> exit;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly ActorSelection endpoint;
    private readonly Address learnerAddress;
    private readonly System.Diagnostics.Stopwatch waiting = System.Diagnostics.Stopwatch.StartNew();
    private IActorRef? learner;

    // TLS handshakes with the learner that failed, across this node's incarnations: said once, then every 10 s, until the limit.
    private readonly TlsTrouble tls;

    public WorkerNode(ClusterWorkerOptions options, long frame, Action<string> report, TaskCompletionSource<NodeExit> exit, TlsTrouble tls)
    {
        this.tls = tls;
        this.options = options;
        this.frame = frame;
        this.report = report;
        this.exit = exit;
        int colon = options.Learner.LastIndexOf(':');
        learnerAddress = new Address(options.Node.Protocol, options.Node.SystemName, options.Learner[..colon], int.Parse(options.Learner[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        endpoint = Context.ActorSelection(learnerAddress + ClusterLearner.EndpointPath);
        Receive<ClusterEvent.MemberUp>(up =>
        {
            if (up.Member.Address.Equals(ClusterExtension.Get(Context.System).SelfAddress) && learner is null && !Timers.IsTimerActive("join"))
            {
                report($"joined the cluster of {options.Learner} as {up.Member.Address}");
                Self.Tell(AskToJoin.Instance);
                Timers.StartPeriodicTimer("join", AskToJoin.Instance, options.JoinRetryInterval);
            }
        });
        Receive<AskToJoin>(_ =>
        {
            if (learner is null)
                endpoint.Tell(options.Simulation is { } simulation
                    ? new JoinRun(ClusterExtension.Get(Context.System).SelfAddress.ToString(), simulation.Simulations) { Simulation = true }
                    : new JoinRun(ClusterExtension.Get(Context.System).SelfAddress.ToString(), options.Workers) { EnvironmentIds = options.Environments.Ids });
        });
        Receive<RunJoined>(OnJoined);
        Receive<JoinRefused>(refused =>
        {
            exit.TrySetResult(new NodeExit(frame, ClusterWorkerEnd.Refused, $"refused by the learner at {options.Learner}: {refused.Reason}"));
        });
        Receive<RunEnded>(ended =>
        {
            // Waiting for the next run, a node that took no part in this one keeps asking until the next learner answers.
            if (learner is null && options.WaitForNextRun) return;
            exit.TrySetResult(new NodeExit(frame, ClusterWorkerEnd.RunEnded, $"the run ended ({ended.Detail}); left the cluster"));
        });
        Receive<LogEvent>(OnLog);
        Receive<TlsStillFailing>(_ =>
        {
            if (learner is not null || !tls.Active) return;
            if (tls.Exhausted(options) is { } givenUp) exit.TrySetResult(new NodeExit(frame, ClusterWorkerEnd.CannotConnect, givenUp));
            else if (tls.Due(options) is { } line) report(line);
        });
        Receive<NoLearnerYet>(_ =>
        {
            if (learner is null && !tls.Active)
                report($"cannot reach the learner at {options.Learner} for {waiting.Elapsed.TotalSeconds:F0} s; still trying every {options.JoinRetryInterval.TotalSeconds:0.#} s (Ctrl-C to stop)");
        });
        Receive<ClusterEvent.UnreachableMember>(m =>
        {
            if (m.Member.Address.Equals(learnerAddress) && !Timers.IsTimerActive("lost"))
            {
                report($"the learner {learnerAddress} is unreachable; giving it {options.LearnerLostAfter.TotalSeconds:F1} s");
                Timers.StartSingleTimer("lost", LearnerLost.Instance, options.LearnerLostAfter);
            }
        });
        Receive<ClusterEvent.ReachableMember>(m =>
        {
            if (m.Member.Address.Equals(learnerAddress)) Timers.Cancel("lost");
        });
        Receive<ClusterEvent.MemberRemoved>(m =>
        {
            if (m.Member.Address.Equals(learnerAddress)) Lost("the learner's node left the cluster");
        });
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
        Receive<LearnerLost>(_ => Lost("the learner stayed unreachable"));
        Receive<Terminated>(t =>
        {
            // A learner that finished its run stops, and its endpoint says so (RunEnded) right after; the death notice may
            // overtake that message, so it counts as lost only if no word of the run's end follows.
            if (t.ActorRef.Equals(learner)) Timers.StartSingleTimer("learner-stopped", LearnerStopped.Instance, TimeSpan.FromSeconds(2));
        });
        Receive<LearnerStopped>(_ => Lost("the learner stopped"));
    }

    private sealed record LearnerStopped : INoSerializationVerificationNeeded
    {
        public static readonly LearnerStopped Instance = new();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        // One line of its own when the learner does not answer, besides Akka's association warnings.
        Timers.StartPeriodicTimer("no-learner", NoLearnerYet.Instance, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));
        // Refused TLS handshakes show only in the log; this node says them in its own words, and gives up after the limit.
        Context.System.EventStream.Subscribe(Self, typeof(Warning));
        Context.System.EventStream.Subscribe(Self, typeof(Error));
        // Looks at the TLS state twice a second: the first report waits a moment for the precise reason of the same handshake.
        Timers.StartPeriodicTimer("tls", TlsStillFailing.Instance, TimeSpan.FromMilliseconds(500));
        ClusterExtension.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberRemoved), typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.ReachableMember));
    }

    protected override void PostStop()
    {
        ClusterExtension.Get(Context.System).Unsubscribe(Self);
        Context.System.EventStream.Unsubscribe(Self);
    }

    private void OnLog(LogEvent e)
    {
        if (learner is null && NodeLogger.Classify(e) == NodeLogger.Kind.Tls) tls.Failed(e);
    }

    // The learner counts its workers' restarts and ends the run when they run out; no Akka limit or log line of its own.
    protected override SupervisorStrategy SupervisorStrategy() => WorkerSupervision.Strategy;

    private void OnJoined(RunJoined joined)
    {
        if (learner is not null) return;
        Timers.Cancel("join");
        long needed = joined.Workers.Select(w => ClusterConfig.FrameSizeForRun(joined.Spec, w.RolloutLength, w.Environments)).DefaultIfEmpty(frame).Max();
        if (needed > frame)
        {
            report($"the run needs frames of {needed:N0} bytes (this node has {frame:N0}); starting over with larger frames");
            exit.TrySetResult(new NodeExit(needed));
            return;
        }
        learner = joined.Learner;
        Timers.Cancel("no-learner");
        tls.Reset();
        Context.Watch(learner);
        if (options.Simulation is { } simulation)
        {
            StartSimulations(joined, simulation);
            return;
        }
        var registry = options.Environments;
        if (!registry.Contains(joined.EnvironmentId))
        {
            // The learner checks this at the handshake; a learner that did not is answered the same way here.
            string reason = $"the run trains '{joined.EnvironmentId}', which this node does not have (it has {string.Join(", ", registry.Ids)})";
            exit.TrySetResult(new NodeExit(frame, ClusterWorkerEnd.Refused, $"cannot take part: {reason}"));
            return;
        }
        if (Algorithms.Find(joined.Algorithm) is null)
        {
            // Also checked at the handshake; said here too for a learner that did not.
            exit.TrySetResult(new NodeExit(frame, ClusterWorkerEnd.Refused, $"cannot take part: the run's {Algorithms.NotRegistered(joined.Algorithm)}"));
            return;
        }
        foreach (var plan in joined.Workers)
            Context.ActorOf(WorkerActor.Props(RunWiring.Settings(plan, joined.EnvironmentId, registry, joined.Spec), learner), $"worker-{plan.WorkerId}");
        var first = joined.Workers.Count > 0 ? joined.Workers[0] : null;
        report($"started {joined.Workers.Count} workers (ids {string.Join(", ", joined.Workers.Select(w => w.WorkerId))}) x {first?.Environments} environments on {joined.EnvironmentId}");
    }

    /// <summary>One gateway per simulation plan, then the user's simulation with them; a simulation that throws at its start ends the node.</summary>
    private void StartSimulations(RunJoined joined, Simulation.SimulationHosting simulation)
    {
        var gateways = new List<IActorRef>();
        foreach (var plan in joined.Workers)
        {
            var settings = new Simulation.CollectorSettings(plan.WorkerId, plan.Environments, plan.RolloutLength, joined.Spec, plan.Seed, simulation.StreamTimeout,
                plan.Ahead, joined.ActionBounds, simulation.RunAhead)
            {
                SilentStreams = simulation.SilentStreams,
                RewardScaling = plan.RewardScaling,
                RoundTimeout = simulation.RoundTimeout,
            };
            gateways.Add(Context.ActorOf(Simulation.SimulationCollector.Props(settings, learner!), $"simulation-{plan.WorkerId}"));
        }
        int streams = joined.Workers.Count > 0 ? joined.Workers[0].Environments : 0;
        report($"started {gateways.Count} simulation gateways (ids {string.Join(", ", joined.Workers.Select(w => w.WorkerId))}) x {streams} streams for '{joined.EnvironmentId}'");
        try
        {
            simulation.Start(new Simulation.SimulationGateways(Context.System, gateways, streams, joined.Spec, joined.Workers.Select(w => w.WorkerId).ToArray()));
        }
        catch (Exception e)
        {
            // The user's code: its failure is the node's end, said in one line, not a crash of the node's actor.
            exit.TrySetResult(new NodeExit(frame, ClusterWorkerEnd.Refused, $"the simulation's Start threw {e.GetType().Name}: {e.Message}"));
        }
    }

    private void Lost(string why)
    {
        // Already on its way out (the run ended, or it was refused): the learner going next is expected.
        if (exit.Task.IsCompleted) return;
        report($"{why}; leaving to start over");
        exit.TrySetResult(new NodeExit(frame));
    }
}
