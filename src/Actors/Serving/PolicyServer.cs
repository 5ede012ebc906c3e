using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Actor;
using Akka.Event;

namespace Advantage.Actors;

/// <summary>
/// Serves a policy's decisions to any actor, local or remote: answers each <see cref="Act"/> with one <see cref="Acted"/>
/// (or, for a malformed request, one <see cref="ActRejected"/> saying which field is wrong and what it must be), and
/// answers the requests that arrive together with one forward pass. Its parameters come from a checkpoint, or live from
/// a learner it follows (<see cref="FollowParameters"/>): every <see cref="Parameters"/> broadcast is swapped in, so
/// decisions improve while the run trains, and each reply names the version that answered.
/// </summary>
/// <remarks>
/// <para>
/// Batching uses the mailbox. A request is queued, and the first of a batch tells the server to answer (a message to
/// itself, behind everything already in the mailbox; with <see cref="PolicyServerOptions.MaxWait"/> above zero, a timer
/// instead); by the time that message comes up, every request that was waiting has joined the batch. A batch that
/// reaches <see cref="PolicyServerOptions.MaxBatch"/> observations is answered at once. An idle server therefore answers
/// one request without waiting, and a busy one answers hundreds per pass.
/// </para>
/// <para>
/// It runs on the compute dispatcher (a thread of its own, one TorchSharp thread). Deterministic answers are exactly
/// <see cref="TrainedPolicy"/>'s actions for the same observations; values and probabilities agree to float rounding
/// (a batch's matrix product may sum in another order than a single row's).
/// </para>
/// </remarks>
public sealed class PolicyServer : ReceiveActor, IWithTimers
{
    private sealed record Answer : INoSerializationVerificationNeeded
    {
        public static readonly Answer Instance = new();
    }

    private readonly PolicyServerOptions options;
    private readonly Checkpoint initial;
    private readonly IActorRef? learner;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly List<(Act Request, IActorRef ReplyTo)> pending = [];
    private readonly float[] input, heads, values;
    private readonly int observationSize, width, actionWidth;
    private int latentWidth;
    private float[] latents = [];
    private readonly bool continuous;
    private readonly ActionDistribution distribution;
    private readonly Random random;
    private float[] low = [], high = [];
    private TrainedPolicy? policy;
    private bool hasParameters;
    private bool learnerGone;
    private bool answerQueued;
    private int pendingRows;
    private long version, followedVersion = -1;
    private long requests, decisions, batches, rejected, swaps;
    private int largestBatch;

    /// <summary>Creates the server; prefer <see cref="Props(Checkpoint, PolicyServerOptions, IActorRef?)"/>.</summary>
    /// <param name="checkpoint">The network, the observation statistics and action bounds, and (unless <paramref name="waitForParameters"/>) the weights.</param>
    /// <param name="options">Batching.</param>
    /// <param name="learner">A learner to follow (it is sent <see cref="FollowParameters"/>); null serves the checkpoint only.</param>
    /// <param name="waitForParameters">True when the checkpoint's weights are placeholders: requests wait for the first <see cref="Parameters"/>.</param>
    public PolicyServer(Checkpoint checkpoint, PolicyServerOptions options, IActorRef? learner, bool waitForParameters)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options;
        initial = checkpoint;
        this.learner = learner;
        hasParameters = !waitForParameters;
        version = checkpoint.Progress?.Version ?? 0;
        var spec = checkpoint.Spec;
        observationSize = spec.ObservationSize;
        width = spec.PolicyOutputs;
        actionWidth = spec.ActionWidth;
        continuous = spec.Continuous;
        distribution = ActionDistribution.For(spec);
        input = new float[options.MaxBatch * observationSize];
        heads = new float[options.MaxBatch * width];
        values = new float[options.MaxBatch];
        random = new Random(options.Seed);
        Receive<Act>(OnAct);
        Receive<Answer>(_ =>
        {
            answerQueued = false;
            AnswerPending();
        });
        Receive<Parameters>(OnParameters);
        Receive<GetPolicyServerStats>(_ => Sender.Tell(new PolicyServerStats(requests, decisions, batches, largestBatch, rejected, version, swaps)));
        Receive<Terminated>(t =>
        {
            if (!t.ActorRef.Equals(learner)) return;
            if (hasParameters)
            {
                log.Info("The followed learner {0} has stopped; serving version {1} from now on.", t.ActorRef.Path, version);
                return;
            }
            // Nothing to answer with, and nothing will come: every waiting request, and every later one, is refused, never left hanging.
            learnerGone = true;
            foreach (var (request, replyTo) in pending) replyTo.Tell(new ActRejected(request.RequestId, NoParameters));
            rejected += pending.Count;
            pending.Clear();
            pendingRows = 0;
        });
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// A server of <paramref name="checkpoint"/>'s policy (a run's <c>model.ckpt</c>, a <c>TrainingResult.ToCheckpoint()</c>,
    /// <c>TrainedPolicy.Checkpoint</c>), on the compute dispatcher; with <paramref name="follow"/>, it then swaps in every
    /// version that learner broadcasts.
    /// </summary>
    /// <exception cref="OptionsValidationException">The options are out of range (checked here, before the actor starts).</exception>
    public static Props Props(Checkpoint checkpoint, PolicyServerOptions options, IActorRef? follow = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Akka.Actor.Props.Create(() => new PolicyServer(checkpoint, options, follow, false)).WithDispatcher(AdvantageConfig.ComputeDispatcher);
    }

    /// <summary>
    /// A server that follows a running training run from its start: it asks <paramref name="learner"/> for its parameters
    /// (<see cref="TrainingRun.Learner"/>, or a cluster learner's actor) and answers requests once the first version has
    /// arrived (those that come earlier wait).
    /// </summary>
    /// <param name="learner">The run's learner.</param>
    /// <param name="spec">The run's network (<see cref="TrainingRun.Spec"/>).</param>
    /// <param name="options">Batching.</param>
    /// <param name="actionBounds">A Gaussian policy's bounds to clip actions to, as the run's workers clip; null leaves them unclipped.</param>
    /// <exception cref="OptionsValidationException">The options are out of range.</exception>
    public static Props Following(IActorRef learner, NetworkSpec spec, PolicyServerOptions options, Box? actionBounds = null)
    {
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int count;
        using (var network = new ActorCriticNetwork(spec)) count = new ParameterVector(network).Count;
        var placeholder = new Checkpoint(spec, new float[count], new Dictionary<string, string>()) { ActionBounds = actionBounds };
        return Akka.Actor.Props.Create(() => new PolicyServer(placeholder, options, learner, true)).WithDispatcher(AdvantageConfig.ComputeDispatcher);
    }

    /// <inheritdoc />
    protected override void PreStart()
    {
        TorchThreads.UseOne();
        policy = TrainedPolicy.FromCheckpoint(initial, options.Seed);
        latentWidth = policy.LatentWidth;
        latents = new float[options.MaxBatch * latentWidth];
        if (policy.ActionBounds is { } box)
        {
            low = box.Low.ToArray();
            high = box.High.ToArray();
        }
        if (learner is not null)
        {
            Context.Watch(learner);
            learner.Tell(FollowParameters.Instance);
        }
    }

    /// <inheritdoc />
    protected override void PostStop() => policy?.Dispose();

    private string NoParameters => $"No parameters to answer with: the followed learner {learner?.Path} stopped before it sent any.";

    private void OnAct(Act request)
    {
        if ((learnerGone ? NoParameters : Problem(request)) is { } problem)
        {
            rejected++;
            Sender.Tell(new ActRejected(request.RequestId, problem));
            return;
        }
        int rows = request.Observations.Length / observationSize;
        // The request does not fit beside what waits: answer those first, so no pass exceeds MaxBatch.
        if (pendingRows + rows > options.MaxBatch) AnswerPending();
        pending.Add((request, Sender));
        pendingRows += rows;
        if (pendingRows >= options.MaxBatch) AnswerPending();
        else QueueAnswer();
    }

    /// <summary>What is wrong with a request, naming the field and the allowed range; null when it can be answered.</summary>
    private string? Problem(Act request)
    {
        var floats = request.Observations;
        int most = options.MaxBatch;
        if (floats is null || floats.Length == 0)
            return $"Observations is empty; send between 1 and {most} (MaxBatch) observations of {observationSize} floats each.";
        if (floats.Length % observationSize != 0)
            return $"Observations holds {floats.Length} floats, not a multiple of {observationSize}: this policy observes {observationSize} floats per observation (1 to {most} observations).";
        if (floats.Length / observationSize > most)
            return $"Observations holds {floats.Length / observationSize} observations; this server answers between 1 and {most} (MaxBatch) per request.";
        for (int i = 0; i < floats.Length; i++)
            if (!float.IsFinite(floats[i]))
                return $"Observations[{i}] (observation {i / observationSize}, element {i % observationSize}) is {floats[i]}; observations must be finite numbers.";
        return null;
    }

    private void QueueAnswer()
    {
        if (answerQueued || !hasParameters) return;
        answerQueued = true;
        if (options.MaxWait > TimeSpan.Zero) Timers.StartSingleTimer(nameof(Answer), Answer.Instance, options.MaxWait);
        else Self.Tell(Answer.Instance);
    }

    private void OnParameters(Parameters parameters)
    {
        // An older version than one already served (a late message, a second learner) would make answers regress.
        if (parameters.Version <= followedVersion) return;
        try
        {
            policy!.Swap(parameters.Values, parameters.ObservationStatistics);
        }
        catch (ArgumentException e)
        {
            log.Warning("Ignored parameters of version {0} from {1}: {2}", parameters.Version, Sender.Path, e.Message);
            return;
        }
        followedVersion = version = parameters.Version;
        swaps++;
        if (!hasParameters)
        {
            hasParameters = true;
            // Requests that waited for the first version are answered now.
            while (pending.Count > 0) AnswerPending();
        }
    }

    /// <summary>One forward pass over the waiting requests (at most MaxBatch observations), and a reply to each.</summary>
    private void AnswerPending()
    {
        if (pending.Count == 0 || !hasParameters) return;
        if (answerQueued && options.MaxWait > TimeSpan.Zero)
        {
            Timers.Cancel(nameof(Answer));
            answerQueued = false;
        }
        // Take requests up to MaxBatch observations (only requests that waited for the first parameters can exceed it).
        int taken = 0, n = 0;
        while (taken < pending.Count && n + pending[taken].Request.Observations.Length / observationSize <= options.MaxBatch)
        {
            var floats = pending[taken].Request.Observations;
            floats.CopyTo(input, n * observationSize);
            n += floats.Length / observationSize;
            taken++;
        }
        policy!.Forward(input, n, heads, values, latents);
        batches++;
        largestBatch = Math.Max(largestBatch, n);
        int at = 0;
        for (int q = 0; q < taken; q++)
        {
            var (request, replyTo) = pending[q];
            replyTo.Tell(Reply(request, at));
            at += request.Observations.Length / observationSize;
            requests++;
        }
        decisions += n;
        pending.RemoveRange(0, taken);
        pendingRows -= n;
    }

    /// <summary>The reply to one request whose rows start at row <paramref name="first"/> of the batch.</summary>
    private Acted Reply(Act request, int first)
    {
        int rows = request.Observations.Length / observationSize;
        var draw = request.Deterministic ? null : request.Seed is { } seed ? new Random(seed) : random;
        var actions = new float[rows * actionWidth];
        var logStd = policy!.CurrentLogStd;
        for (int i = 0; i < rows; i++)
        {
            var head = heads.AsSpan((first + i) * width, width);
            var action = actions.AsSpan(i * actionWidth, actionWidth);
            var latent = latents.AsSpan((first + i) * latentWidth, latentWidth);
            // As TrainedPolicy draws, so a seeded request draws exactly what a policy seeded alike draws.
            if (draw is null) distribution.Mode(head, action);
            else distribution.Sample(head, logStd, latent, draw, action);
            if (continuous && low.Length != 0)
                for (int d = 0; d < action.Length; d++) action[d] = Math.Clamp(action[d], low[d], high[d]);
        }
        var reply = new Acted(request.RequestId, version, actionWidth, actions);
        if (request.IncludeValues) reply = reply with { Values = values.AsSpan(first, rows).ToArray() };
        if (request.IncludeProbabilities && !continuous)
        {
            var probabilities = new float[rows * width];
            for (int i = 0; i < rows; i++) CategoricalDistribution.Probabilities(heads.AsSpan((first + i) * width, width)).CopyTo(probabilities, i * width);
            reply = reply with { Probabilities = probabilities };
        }
        return reply;
    }
}

/// <summary>
/// Starts <see cref="PolicyServer"/>s at the top of an actor system, installing Advantage's defaults first (the compute
/// dispatcher, the binary serializer), as <see cref="Training.Start(ActorSystem, TrainingOptions, Action{TrainingProgress}?)"/> does.
/// </summary>
public static class PolicyServing
{
    /// <summary>
    /// Starts a server of <paramref name="checkpoint"/>'s policy in <paramref name="system"/> (Advantage's defaults and
    /// serializer are installed first, as <see cref="Training.Start(ActorSystem, TrainingOptions, Action{TrainingProgress}?)"/> does), following <paramref name="follow"/> when given.
    /// Inside an actor, use <see cref="PolicyServer.Props(Checkpoint, PolicyServerOptions, IActorRef?)"/> with <c>Context.ActorOf</c>
    /// in a system configured with <see cref="AdvantageConfig.Default"/> (or after <see cref="AdvantageConfig.Install"/>).
    /// </summary>
    /// <exception cref="OptionsValidationException">The options are out of range.</exception>
    public static IActorRef Start(ActorSystem system, Checkpoint checkpoint, PolicyServerOptions options, IActorRef? follow = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        var props = PolicyServer.Props(checkpoint, options, follow);
        AdvantageConfig.Install(system);
        return name is null ? system.ActorOf(props) : system.ActorOf(props, name);
    }

    /// <summary>
    /// Starts a server in <paramref name="system"/> that follows <paramref name="run"/> from its first parameters, so its
    /// answers improve while the run trains (see <see cref="PolicyServer.Following"/>).
    /// </summary>
    /// <exception cref="OptionsValidationException">The options are out of range.</exception>
    public static IActorRef Start(ActorSystem system, TrainingRun run, PolicyServerOptions options, Box? actionBounds = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(run);
        var props = PolicyServer.Following(run.Learner, run.Spec, options, actionBounds);
        AdvantageConfig.Install(system);
        return name is null ? system.ActorOf(props) : system.ActorOf(props, name);
    }

}
