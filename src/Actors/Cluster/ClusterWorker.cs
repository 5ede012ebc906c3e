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

    /// <summary>Returns a copy with <see cref="Node"/> changed.</summary>
    public ClusterWorkerOptions WithNode(ClusterNodeOptions value) => this with { Node = value };

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
        if (Workers is < 1 or > 1024) problems.Add($"{nameof(Workers)} = {Workers} is outside [1, 1024].");
        if (Environments is null) problems.Add($"{nameof(Environments)} must be set.");
        if (LearnerLostAfter < TimeSpan.FromMilliseconds(500)) problems.Add($"{nameof(LearnerLostAfter)} = {LearnerLostAfter} must be at least 0.5 s.");
        if (JoinRetryInterval < TimeSpan.FromMilliseconds(50)) problems.Add($"{nameof(JoinRetryInterval)} = {JoinRetryInterval} must be at least 50 ms.");
        return problems;
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem, if there is any.</summary>
    public ClusterWorkerOptions Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new OptionsValidationException(nameof(ClusterWorkerOptions), problems);
        return this;
    }
}

/// <summary>Something that happened to a worker node, for logs and progress output.</summary>
/// <param name="Incarnation">Which actor system of this node (1 for the first; a new one after the learner was lost).</param>
/// <param name="Message">What happened.</param>
public sealed record ClusterWorkerEvent(int Incarnation, string Message);

/// <summary>
/// The worker side of a training cluster. <see cref="RunAsync"/> keeps a worker node in the run until
/// cancelled: it joins the learner's cluster, asks to take part, starts its workers (which register with the
/// learner and get the current parameters), restarts a worker whose environment throws, and when the learner
/// is lost it starts over with a fresh actor system and waits until a learner is back.
/// </summary>
public static class ClusterWorker
{
    /// <summary>Runs a worker node until <paramref name="cancellation"/> fires; then leaves the cluster and returns.</summary>
    /// <param name="options">The node and the learner it serves.</param>
    /// <param name="onEvent">Called (from any thread) when the node joins, starts workers, loses the learner; keep it quick.</param>
    /// <param name="cancellation">Stops the node.</param>
    public static async Task RunAsync(ClusterWorkerOptions options, Action<ClusterWorkerEvent>? onEvent, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        long frame = ClusterConfig.MinimumFrameSize;
        for (int incarnation = 1; !cancellation.IsCancellationRequested; incarnation++)
        {
            int current = incarnation;
            Action<string> report = message =>
            {
                try { onEvent?.Invoke(new ClusterWorkerEvent(current, message)); } catch (Exception) { /* a reporter must not stop the node */ }
            };
            var config = ClusterConfig.For(options.Node, ClusterConfig.WorkerRole, options.Learner, frame);
            var system = ClusterConfig.CreateSystem(options.Node, config);
            var exit = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            system.ActorOf(Props.Create(() => new WorkerNode(options, frame, report, exit)), "advantage-worker-node");
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (cancellation.Register(() => stopped.TrySetResult()))
                await Task.WhenAny(exit.Task, system.WhenTerminated, stopped.Task).ConfigureAwait(false);
            if (exit.Task.IsCompletedSuccessfully && exit.Task.Result > frame) frame = exit.Task.Result;
            if (cancellation.IsCancellationRequested)
            {
                // Asked to stop: leave the cluster gracefully, so the learner drops this node's workers at once.
                try
                {
                    await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    await system.Terminate().ConfigureAwait(false);
                }
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
            }
            if (cancellation.IsCancellationRequested) break;
            report("starting over: joining the learner again");
            try
            {
                await Task.Delay(options.JoinRetryInterval, cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}

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

    private readonly ClusterWorkerOptions options;
    private readonly long frame;
    private readonly Action<string> report;
    private readonly TaskCompletionSource<long> exit;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly ActorSelection endpoint;
    private readonly Address learnerAddress;
    private readonly System.Diagnostics.Stopwatch waiting = System.Diagnostics.Stopwatch.StartNew();
    private IActorRef? learner;

    public WorkerNode(ClusterWorkerOptions options, long frame, Action<string> report, TaskCompletionSource<long> exit)
    {
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
            if (learner is null) endpoint.Tell(new JoinRun(ClusterExtension.Get(Context.System).SelfAddress.ToString(), options.Workers));
        });
        Receive<RunJoined>(OnJoined);
        Receive<NoLearnerYet>(_ =>
        {
            if (learner is null)
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
            if (t.ActorRef.Equals(learner)) Lost("the learner stopped");
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        // One line of its own when the learner does not answer, besides Akka's association warnings.
        Timers.StartPeriodicTimer("no-learner", NoLearnerYet.Instance, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));
        ClusterExtension.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberRemoved), typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.ReachableMember));
    }

    protected override void PostStop() => ClusterExtension.Get(Context.System).Unsubscribe(Self);

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
            exit.TrySetResult(needed);
            return;
        }
        learner = joined.Learner;
        Timers.Cancel("no-learner");
        Context.Watch(learner);
        var registry = options.Environments;
        if (!registry.Contains(joined.EnvironmentId))
        {
            log.Error("The run trains '{0}', which this node does not know; known: {1}.", joined.EnvironmentId, string.Join(", ", registry.Ids));
            report($"cannot take part: environment '{joined.EnvironmentId}' is not registered on this node");
            return;
        }
        foreach (var plan in joined.Workers)
            Context.ActorOf(WorkerActor.Props(RunWiring.Settings(plan, joined.EnvironmentId, registry, joined.Spec), learner), $"worker-{plan.WorkerId}");
        var first = joined.Workers.Count > 0 ? joined.Workers[0] : null;
        report($"started {joined.Workers.Count} workers (ids {string.Join(", ", joined.Workers.Select(w => w.WorkerId))}) x {first?.Environments} environments on {joined.EnvironmentId}");
    }

    private void Lost(string why)
    {
        report($"{why}; leaving to start over");
        exit.TrySetResult(frame);
    }
}
