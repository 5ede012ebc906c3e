using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Actor;
using Akka.Event;
using ClusterExtension = Akka.Cluster.Cluster;
using ClusterEvent = Akka.Cluster.ClusterEvent;

namespace Advantage.Actors.Cluster;

/// <summary>How a cluster learner keeps its state across a crash of its process.</summary>
public sealed record ClusterLearnerOptions
{
    /// <summary>
    /// The learner's own checkpoint file: read at start when it exists, and written atomically with the run's
    /// checkpoint cadence (<see cref="TrainingOptions.CheckpointInterval"/> updates) and at the end, so a learner
    /// process that was killed and started again with the same options resumes where it was (parameters, optimizer
    /// state, observation statistics, version, steps, episodes and the return window). It is the same format-3
    /// <see cref="Learning.Checkpoint"/> as <c>last.ckpt</c>. Null: a restarted learner starts afresh. Default null.
    /// </summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Returns a copy with <see cref="CheckpointPath"/> changed.</summary>
    public ClusterLearnerOptions WithCheckpointPath(string? value) => this with { CheckpointPath = value };
}

/// <summary>
/// The learner side of a training cluster. Its node is the seed; worker nodes (<see cref="ClusterWorker"/>)
/// join it, ask to take part, and their workers register with the learner at the well-known path
/// <see cref="EndpointPath"/>. The learner downs worker nodes that become unreachable, so their workers'
/// deaths shrink the round within the failure-detection window, and it keeps waiting when every worker is gone.
/// </summary>
public static class ClusterLearner
{
    /// <summary>Name of the learner node's endpoint under /user; worker nodes send <see cref="JoinRun"/> there.</summary>
    public const string EndpointName = "advantage";

    /// <summary>Path of the endpoint on the learner node.</summary>
    public const string EndpointPath = "/user/" + EndpointName;

    /// <summary>
    /// Creates the learner node's actor system: bound to <paramref name="node"/> (give it a fixed port: workers
    /// join it), seed of its own cluster, frame size from the run's parameter count and rollout size.
    /// </summary>
    /// <param name="node">Bind address; port must be fixed (not 0) so workers can find it.</param>
    /// <param name="options">The run, for the frame size.</param>
    /// <param name="maxEnvironmentsPerWorker">The largest K a worker node will use, for the frame size. Default: the run's own.</param>
    public static ActorSystem CreateSystem(ClusterNodeOptions node, TrainingOptions options, int? maxEnvironmentsPerWorker = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (node.Port == 0) throw new OptionsValidationException(nameof(ClusterNodeOptions), ["Port = 0: the learner needs a fixed port, worker nodes join it."]);
        var spec = RunWiring.Spec(options);
        long frame = ClusterConfig.FrameSizeForRun(spec, options.Algorithm.RolloutLength, Math.Max(maxEnvironmentsPerWorker ?? 0, options.Algorithm.EnvironmentsPerWorker));
        var config = ClusterConfig.For(node, ClusterConfig.LearnerRole, $"{node.Host}:{node.Port}", frame);
        return ClusterConfig.CreateSystem(node, config);
    }

    /// <summary>
    /// Starts the learner of a cluster run in <paramref name="system"/> (made by <see cref="CreateSystem"/>).
    /// No workers start here: workers come from worker nodes. <see cref="AlgorithmOptions.Workers"/> is how many
    /// must register before the first round (the cluster learner waits for them however long it takes) and is recorded in the run folder.
    /// A run continues from <see cref="TrainingOptions.ResumeFrom"/> (for instance an in-process run's <c>last.ckpt</c>)
    /// unless <see cref="ClusterLearnerOptions.CheckpointPath"/> already holds a checkpoint: that one is this run's
    /// own and newer, so it wins.
    /// The run ends on the target, the step budget or <see cref="TrainingRun.Stop"/>; never because workers are gone.
    /// </summary>
    public static TrainingRun Start(ActorSystem system, TrainingOptions options, ClusterLearnerOptions? learnerOptions = null, Action<TrainingProgress>? onProgress = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        RunWiring.CheckEnvironment(options, system.Log);
        learnerOptions ??= new ClusterLearnerOptions();
        AdvantageConfig.Install(system);
        var spec = RunWiring.Spec(options);
        Training.CheckResumable(options, spec);
        var completion = new TaskCompletionSource<TrainingResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        // A checkpoint file that cannot be resumed fails here, before anything starts, with the path and the reason.
        var (algorithm, resumed) = LearnerCheckpoint.CreateLearner(options, spec, learnerOptions.CheckpointPath);
        var hosting = new LearnerHosting(RunName, true, learnerOptions.CheckpointPath) { Resumed = resumed?.Progress, ResumedWorkers = resumed?.WorkerStates };
        var endpoint = system.ActorOf(Props.Create(() => new LearnerEndpoint(options, spec, algorithm, hosting, onProgress, completion)), EndpointName);
        var learner = endpoint.Ask<IActorRef>(LearnerEndpoint.GetLearner.Instance, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        return new TrainingRun(endpoint, learner, completion.Task, spec);
    }

    /// <summary>
    /// Ends a learner node after its run: waits up to <paramref name="workersLeave"/> for the worker nodes to leave (they do
    /// when the run ends, <see cref="RunEnded"/>), then leaves the cluster and terminates <paramref name="system"/>. Nodes that
    /// part this way part quietly; a learner that simply terminated would leave each worker a lost connection to report.
    /// </summary>
    /// <param name="system">The learner node's system (<see cref="CreateSystem"/>).</param>
    /// <param name="workersLeave">The longest wait for worker nodes; a node that is gone without leaving is not waited for beyond it.</param>
    public static async Task ShutdownAsync(ActorSystem system, TimeSpan workersLeave)
    {
        ArgumentNullException.ThrowIfNull(system);
        if (system is ExtendedActorSystem { Provider: Akka.Cluster.ClusterActorRefProvider })
        {
            var cluster = ClusterExtension.Get(system);
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (waited.Elapsed < workersLeave && !system.WhenTerminated.IsCompleted
                && cluster.State.Members.Any(m => m.HasRole(ClusterConfig.WorkerRole) && m.Status != Akka.Cluster.MemberStatus.Removed && !cluster.State.Unreachable.Contains(m)))
                await Task.Delay(50).ConfigureAwait(false);
        }
        try
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    /// <summary>The run name a cluster learner's events carry.</summary>
    public const string RunName = "advantage-cluster";
}
/// <summary>
/// The learner node's well-known endpoint: parent of the learner, answers <see cref="JoinRun"/> with the
/// run's description and a block of worker ids, and downs worker nodes that become unreachable.
/// </summary>
internal sealed class LearnerEndpoint : ReceiveActor
{
    internal sealed record GetLearner : INoSerializationVerificationNeeded
    {
        public static readonly GetLearner Instance = new();
    }

    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly IActorRef learner;

    // What a simulation node clips its actions to (a worker node's environments do it themselves).
    private readonly Lazy<Advantage.Environments.Box?> actionBounds;

    // The node actors that took part, by address, to tell them when the run ends.
    private readonly Dictionary<string, IActorRef> nodes = new(StringComparer.Ordinal);

    // Worker ids promised to each worker node (by address), so ids stay 0..N-1 and a node that asks again
    // (its first answer was lost) gets the same ones; a node that leaves the cluster gives its ids back.
    private readonly Dictionary<string, int[]> assigned = new(StringComparer.Ordinal);

    public LearnerEndpoint(TrainingOptions options, NetworkSpec spec, IPolicyLearner algorithm, LearnerHosting hosting, Action<TrainingProgress>? onProgress, TaskCompletionSource<TrainingResult> completion)
    {
        learner = Context.ActorOf(LearnerActor.HostedProps(options, algorithm, onProgress, completion, hosting), "learner");
        actionBounds = new Lazy<Advantage.Environments.Box?>(() => options.Environments.Make(options.EnvironmentId).ActionSpace as Advantage.Environments.Box);
        Context.Watch(learner);
        Receive<GetLearner>(_ => Sender.Tell(learner));
        Receive<JoinRun>(join =>
        {
            if (Refusal(join, options.EnvironmentId, options.Algorithm.Algorithm) is { } reason)
            {
                log.Warning("Refused node {0}: {1}", join.Node, reason);
                Sender.Tell(new JoinRefused(reason));
                return;
            }
            nodes[join.Node] = Sender;
            if (!assigned.TryGetValue(join.Node, out var ids))
            {
                var taken = assigned.Values.SelectMany(i => i).ToHashSet();
                ids = Enumerable.Range(0, int.MaxValue).Where(i => !taken.Contains(i)).Take(Math.Max(1, join.Workers)).ToArray();
                assigned[join.Node] = ids;
                log.Info("Node {0} joins the run with workers {1}.", join.Node, string.Join(", ", ids));
            }
            Sender.Tell(new RunJoined(learner, options.EnvironmentId, spec, ids.Select(id => RunWiring.Worker(options, id)).ToArray(), options.Algorithm.Algorithm) { ActionBounds = actionBounds.Value });
        });
        Receive<ClusterEvent.MemberRemoved>(removed =>
        {
            assigned.Remove(removed.Member.Address.ToString());
            nodes.Remove(removed.Member.Address.ToString());
        });
        Receive<ClusterEvent.UnreachableMember>(unreachable =>
        {
            if (unreachable.Member.HasRole(ClusterConfig.WorkerRole))
            {
                log.Warning("Worker node {0} is unreachable; removing it so the round goes on without it.", unreachable.Member.Address);
                ClusterExtension.Get(Context.System).Down(unreachable.Member.Address);
            }
        });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<Terminated>(t =>
        {
            if (!t.ActorRef.Equals(learner)) return;
            // A learner that failed to start never completes the run itself.
            completion.TrySetException(new InvalidOperationException("The learner stopped without finishing the run; see the log for its failure."));
            // The run is over: its nodes leave now (gracefully, while this node is still their leader), and a node that
            // asks to join from here on hears the same instead of waiting for a run that will not come.
            var ended = new RunEnded(Describe(completion.Task));
            foreach (var node in nodes.Values) node.Tell(ended);
            nodes.Clear();
            Become(() =>
            {
                Receive<JoinRun>(_ => Sender.Tell(ended));
                Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
            });
        });
    }

    /// <summary>Why a node cannot take part in this run, or null when it can.</summary>
    internal static string? Refusal(JoinRun join, string environmentId, string algorithm)
    {
        var wire = Serialization.AdvantageSerializer.Wire;
        if (!join.Wire.SequenceEqual(wire, StringComparer.Ordinal))
        {
            var theirs = join.Wire.Except(wire, StringComparer.Ordinal).ToList();
            var ours = wire.Except(join.Wire, StringComparer.Ordinal).ToList();
            return $"it runs Advantage {join.Version}, whose messages differ from this learner's ({Serialization.AdvantageSerializer.ProductVersion}): " +
                $"it speaks {(theirs.Count > 0 ? string.Join(" ", theirs) : "none of")} where this learner speaks {(ours.Count > 0 ? string.Join(" ", ours) : "nothing else")}; " +
                "every node of a cluster must run the same Advantage version.";
        }
        if (!join.Simulation && !join.EnvironmentIds.Contains(environmentId, StringComparer.Ordinal))
            return $"it does not have the run's environment '{environmentId}' (it has {(join.EnvironmentIds.Count > 0 ? string.Join(", ", join.EnvironmentIds) : "none")}); " +
                "give that node the assembly that registers it (worker --environments, or ClusterWorkerOptions.Environments).";
        if (!join.Algorithms.Contains(algorithm, StringComparer.Ordinal))
            return $"it has not registered the run's algorithm '{algorithm}' (it has {(join.Algorithms.Count > 0 ? string.Join(", ", join.Algorithms) : "none")}); " +
                "register it on that node too (Algorithms.Register before the node starts).";
        return null;
    }

    private static string Describe(Task<TrainingResult> completion) => completion.Status switch
    {
        TaskStatus.RanToCompletion => completion.Result.Reason.ToString(),
        TaskStatus.Faulted => completion.Exception?.InnerException is TrainingFailedException ? "Failed" : "the learner stopped",
        _ => "the learner stopped",
    };

    protected override void PreStart()
    {
        if (Context.System is ExtendedActorSystem { Provider: Akka.Cluster.ClusterActorRefProvider })
            ClusterExtension.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.UnreachableMember));
    }

    protected override void PostStop()
    {
        if (Context.System is ExtendedActorSystem { Provider: Akka.Cluster.ClusterActorRefProvider })
            ClusterExtension.Get(Context.System).Unsubscribe(Self);
    }

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(0, TimeSpan.Zero, localOnlyDecider: _ => Directive.Stop);
}
