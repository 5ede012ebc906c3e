using Advantage.Learning;
using Akka.Actor;
using Akka.Event;

namespace Advantage.Actors;

/// <summary>
/// Runs synchronous rounds keyed by parameter version: waits for one rollout of the current version
/// from every live worker, orders them by worker id, updates once (through <see cref="IPolicyLearner"/>, whichever algorithm it is), and sends version v+1 to every worker.
/// When the algorithm's options declare <see cref="AlgorithmOptions.Asynchrony"/>, it waits for no one instead: it updates on
/// every B rollouts in arrival order, drops those more than MaxLag versions old, and sends each new version to every worker.
/// Watches its workers, so a worker that dies shrinks the round instead of stalling it. Rollouts that are
/// stale, duplicated, from strangers, malformed or non-finite are counted and dropped, never applied.
/// </summary>
/// <remarks>
/// The actor composes parts that are tested alone: <see cref="RoundCoordinator"/> (who is in a round),
/// <see cref="ReturnWindow"/> (episode statistics), <see cref="StopPolicy"/> (target, budget, user conditions),
/// <see cref="CheckpointWriter"/> (one cadence for every checkpoint file). An exception anywhere in it (the
/// update, a checkpoint write (short of descriptors: only past <see cref="CheckpointFailureTolerance"/>), a stop condition, the progress callback) ends the run with
/// <see cref="StopReason.Failed"/>: <see cref="TrainingRun.Completion"/> faults with a <see cref="TrainingFailedException"/>
/// carrying the cause and the final result, after a last attempt to write the checkpoint. It is never restarted
/// onto a half-updated network.
/// </remarks>
internal sealed class LearnerActor : ReceiveActor, IWithTimers
{
    private sealed record ProgressTick : INoSerializationVerificationNeeded
    {
        public static readonly ProgressTick Instance = new();
    }

    private sealed record StartAnyway : INoSerializationVerificationNeeded
    {
        public static readonly StartAnyway Instance = new();
    }

    private readonly TrainingOptions options;
    private readonly LearnerHosting hosting;
    private readonly IPolicyLearner algorithm;
    private readonly Action<TrainingProgress>? onProgress;
    private readonly TaskCompletionSource<TrainingResult> completion;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly RoundCoordinator round = new();
    private readonly ReturnWindow returns;
    private readonly StopPolicy stopPolicy;
    private readonly CheckpointWriter checkpoints;
    private readonly AsynchronousRounds? asynchrony;
    private long stale;
    private readonly HashSet<IActorRef> followers = [];

    /// <summary>Per worker, the state it saved with its last rollout that asked for it, and that rollout's version.</summary>
    private readonly Dictionary<int, (long Version, byte[] State)> workerStates = [];

    /// <summary>A resumed run's saved worker states not yet handed back (each goes to its worker once).</summary>
    private readonly Dictionary<int, byte[]> resumedWorkers = [];

    /// <summary>
    /// How long periodic checkpoint writes may keep failing for want of a file descriptor (EMFILE, ENFILE) before the
    /// run ends. A full descriptor table is what a flood of connections at a cluster learner's port does (each costs one
    /// until Akka.Remote's handshake timeout drops it), and it passes; the previous checkpoint stays whole (writes are
    /// atomic), so the run trains on and retries at the next interval. Past this, or on any other write error (a full or
    /// read-only disk does not pass), it would be training on without a way back: it ends.
    /// </summary>
    internal static readonly TimeSpan CheckpointFailureTolerance = TimeSpan.FromSeconds(60);

    private System.Diagnostics.Stopwatch? checkpointFailing;
    private readonly System.Diagnostics.Stopwatch clock = new();
    private readonly string run;
    private long version;
    private float[] current;
    private long steps;
    private long stepsAtStart;
    private long rejected;
    private long restarts;
    private bool everHadWorkers;
    private Exception? lastFault;
    private int startWaits;

    /// <summary>In one process, how long the first round waits for every worker before it starts with those there.</summary>
    private static readonly TimeSpan StartWait = TimeSpan.FromSeconds(30);

    // The first round waits until every configured worker has registered: a round that started with whichever
    // workers happened to be up first would make a seeded run depend on thread timing and on process placement.
    private bool started;
    private bool finished;
    private UpdateMetrics? lastUpdate;
    private long stepsAtLastReport;
    private double secondsAtLastReport;
    private double lastRate;
    private TensorBoardLog? tensorBoard;
    private RunFolder? runFolder;
    private bool finalCheckpointWritten;
    private bool failing;
    private readonly List<string> outputProblems = [];
    private IActorRef? evaluator;
    private EvaluationFinished? lastEvaluation;
    private int evaluations;
    private int evaluationsSinceBest;
    private double bestEvaluation = double.NaN;

    /// <summary>Creates the learner; prefer <see cref="Props"/>.</summary>
    public LearnerActor(TrainingOptions options, IPolicyLearner algorithm, Action<TrainingProgress>? onProgress, TaskCompletionSource<TrainingResult> completion)
        : this(options, algorithm, onProgress, completion, null)
    {
    }

    internal LearnerActor(TrainingOptions options, IPolicyLearner algorithm, Action<TrainingProgress>? onProgress, TaskCompletionSource<TrainingResult> completion, LearnerHosting? hosting)
    {
        // A run folder (OutputDirectory) holds the checkpoints and TensorBoard events unless they are put elsewhere.
        options = options.WithRunFolderDefaults();
        this.options = options;
        this.algorithm = algorithm;
        this.onProgress = onProgress;
        this.completion = completion;
        asynchrony = options.Algorithm.Asynchrony;
        // A learner made through the public Props is named "<run>-learner"; events carry the run's name.
        string name = Self.Path.Name;
        this.hosting = hosting ?? new LearnerHosting(name.EndsWith("-learner", StringComparison.Ordinal) ? name[..^"-learner".Length] : name, false, null);
        run = this.hosting.Run;
        returns = new ReturnWindow(options.ReturnWindow);
        stopPolicy = new StopPolicy(options);
        var paths = new List<string>();
        if (options.CheckpointDirectory is { } directory) paths.Add(Path.Combine(directory, "last.ckpt"));
        if (this.hosting.CheckpointPath is { } own) paths.Add(own);
        checkpoints = new CheckpointWriter(paths, options.CheckpointInterval, this.hosting.Disk);
        current = algorithm.Parameters.Read();
        if (this.hosting.Resumed is { } resumed)
        {
            version = resumed.Version;
            steps = stepsAtStart = stepsAtLastReport = resumed.Steps;
            returns.Restore(resumed.Episodes, resumed.RecentReturns);
            foreach (var state in this.hosting.ResumedWorkers ?? []) resumedWorkers[state.WorkerId] = state.State;
        }
        Receive<RegisterWorker>(OnRegister);
        Receive<RolloutCollected>(OnRollout);
        Receive<Terminated>(OnTerminated);
        Receive<WorkerRestarted>(OnWorkerRestarted);
        Receive<GetProgress>(_ => Sender.Tell(Snapshot()));
        Receive<FollowParameters>(_ => OnFollow());
        Receive<ProgressTick>(_ => Report());
        Receive<StopTraining>(_ => Finish(StopReason.Stopped, "Asked to stop."));
        Receive<StartAnyway>(_ =>
        {
            if (round.Count > 0)
            {
                log.Warning("Only {0} of {1} workers registered in time; starting with them.", round.Count, options.Algorithm.Workers);
                StartRounds();
                return;
            }
            // Nobody to start with. A worker that failed says so (and its restarts run out long before this); without a
            // failure, workers may only be slow to start on a loaded machine, so give them two more periods, then end the
            // run: waiting on would be a run that never ends and never says why.
            if (lastFault is null && ++startWaits < 3)
            {
                log.Warning("No worker has registered after {0} s; waiting up to {1} s.", startWaits * StartWait.TotalSeconds, 3 * StartWait.TotalSeconds);
                Timers.StartSingleTimer("start-anyway", StartAnyway.Instance, StartWait);
                return;
            }
            Fail(lastFault ?? new TimeoutException($"No worker registered within {3 * StartWait.TotalSeconds} s (the run has {options.Algorithm.Workers})."),
                lastFault is null ? null : $"No worker has registered; the last failure: {lastFault.Message}");
        });
        Receive<EvaluatorActor.Evaluated>(OnEvaluated);
        Receive<EvaluatorActor.EvaluationFailed>(failed =>
            log.Warning("The evaluation of version {0} failed ({1}); training goes on, and the best evaluation so far stands.", failed.Version, failed.Reason));
    }

    /// <summary>
    /// The learner's one child is the evaluator. It holds no state (the best score and <c>best.ckpt</c> are the
    /// learner's), and it answers an evaluation that throws itself; anything else that fails it (its start) restarts it,
    /// a few times, then stops it: training never depends on evaluation.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(maxNrOfRetries: 3, withinTimeRange: TimeSpan.FromMinutes(1), localOnlyDecider: e =>
        {
            log.Warning("The evaluator failed ({0}: {1}); restarting it.", e.GetType().Name, e.Message);
            return Directive.Restart;
        });

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props on the compute dispatcher. The learner owns (and disposes) <paramref name="algorithm"/>.</summary>
    public static Props Props(TrainingOptions options, IPolicyLearner algorithm, Action<TrainingProgress>? onProgress, TaskCompletionSource<TrainingResult> completion) =>
        Akka.Actor.Props.Create(() => new LearnerActor(options, algorithm, onProgress, completion)).WithDispatcher(AdvantageConfig.ComputeDispatcher);

    internal static Props HostedProps(TrainingOptions options, IPolicyLearner algorithm, Action<TrainingProgress>? onProgress, TaskCompletionSource<TrainingResult> completion, LearnerHosting hosting) =>
        Akka.Actor.Props.CreateBy(new HostedProducer(() => new LearnerActor(options, algorithm, onProgress, completion, hosting))).WithDispatcher(AdvantageConfig.ComputeDispatcher);

    /// <summary>Creates the learner through its internal constructor, which Akka's reflection-based Props cannot reach.</summary>
    private sealed class HostedProducer(Func<LearnerActor> create) : IIndirectActorProducer
    {
        public Type ActorType => typeof(LearnerActor);

        public ActorBase Produce() => create();

        public void Release(ActorBase actor)
        {
        }
    }

    /// <inheritdoc />
    protected override void PreStart()
    {
        try
        {
            TorchThreads.UseOne();
            Timers.StartPeriodicTimer("progress", ProgressTick.Instance, options.ProgressInterval);
            // In one process a worker that cannot start at all must not hold the run forever, hence the deadline;
            // a cluster learner waits for its worker nodes as long as they take.
            if (!hosting.Cluster) Timers.StartSingleTimer("start-anyway", StartAnyway.Instance, StartWait);
            if (hosting.Resumed is not null)
            {
                int missing = Enumerable.Range(0, options.Algorithm.Workers).Count(id => !resumedWorkers.ContainsKey(id));
                if (missing == 0) log.Info("Resumed at version {0}, {1} steps; every worker continues its episodes (exact resume).", version, steps);
                else
                    log.Warning("Resumed at version {0}, {1} steps. The checkpoint holds no saved state for {2} of {3} workers (written at a run's end or stop between checkpoint intervals, by an asynchronous run, or with environments that cannot save): they start fresh episodes, so their episodes running when it was written are cut and not counted, and this resume is not exact.",
                        version, steps, missing, options.Algorithm.Workers);
            }
            if (options.OutputDirectory is { } output) runFolder = new RunFolder(output, options, hosting.Resumed, hosting.Disk) { WatchCollapse = !algorithm.Spec.Continuous };
            if (options.TensorBoardDirectory is { } board) OpenTensorBoard(board);
            if (options.Evaluation is { } evaluation)
            {
                var registry = options.Environments;
                string id = options.EnvironmentId;
                evaluator = Context.ActorOf(EvaluatorActor.Props(evaluation, algorithm.Spec, () => registry.Make(id)), "evaluator");
            }
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    /// <summary>Every message runs under one guard: an exception ends the run as failed instead of restarting the actor.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        try
        {
            return base.AroundReceive(receive, message);
        }
        catch (Exception e) when (!finished)
        {
            Fail(e);
            return true;
        }
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        // Stopped from outside (the actor system shut down): the run ends as stopped, with what it has, and its
        // checkpoint is written like at any other end.
        if (!finished)
        {
            finished = true;
            WriteFinalCheckpoint();
            var result = CloseRunFolder(Result(StopReason.Stopped) with { Detail = "The actor system stopped." });
            completion.TrySetResult(result);
        }
        algorithm.Dispose();
    }

    private void OnRegister(RegisterWorker register)
    {
        // A resumed run hands each worker, once and before its first parameters, the state it saved with the checkpoint.
        if (resumedWorkers.Remove(register.WorkerId, out var saved) && version == hosting.Resumed?.Version)
            Sender.Tell(new RestoreWorker(register.WorkerId, version, saved));
        bool joined = round.Register(Sender, register);
        if (joined)
        {
            Context.Watch(Sender);
            everHadWorkers = true;
            Publish(new WorkerJoined(run, register.WorkerId, register.Environments, round.Count));
        }
        if (started) Send([Sender]);
        else if (round.Count >= options.Algorithm.Workers) StartRounds();
        else if (joined && hosting.Cluster) log.Info("Worker {0} registered; waiting for {1} more before the first round.", register.WorkerId, options.Algorithm.Workers - round.Count);
    }

    /// <summary>Sends the first parameters to every registered worker; rounds run from here on.</summary>
    private void StartRounds()
    {
        if (started) return;
        started = true;
        // Wall time and steps per second count from the first round, not from the wait for workers to start.
        clock.Start();
        Timers.Cancel("start-anyway");
        Send(round.InIdOrder);
    }

    private void OnRollout(RolloutCollected message)
    {
        var rollout = message.Data;
        if (asynchrony is { } shape)
        {
            OnArrival(rollout, shape);
            return;
        }
        string? problem = round.Offer(Sender, rollout, version, Validate);
        if (problem is not null)
        {
            Reject(rollout, problem);
            if (started && round.Registration(Sender) is not null && !round.HasSent(Sender))
            {
                // Keep a well-behaved worker of the current round going: it has no other way to get parameters.
                if (rollout.Version != version) Send([Sender]);
                // A bad rollout of this round: the worker restarts with fresh environments (counted against the restarts
                // allowed), registers again and gets this round's parameters, so the round never waits for a rollout that
                // will not come.
                else Sender.Tell(new RolloutRefused(rollout.Version, problem));
            }
            return;
        }
        // Saved for the checkpoint the update of this round writes (see WorkerActor): kept until then.
        if (message.WorkerState is { } state) workerStates[rollout.WorkerId] = (rollout.Version, state);
        TryCompleteRound();
    }

    /// <summary>Asynchronous rounds: queue the rollout (or drop it, counted) and update while a batch is there.</summary>
    private void OnArrival(Rollout rollout, AsynchronousRounds shape)
    {
        string? problem = round.OfferArrival(Sender, rollout, version, shape.MaxLag, r => Validate(r)
            ?? (r.BehaviourLogProbs.Length == 0 ? "it carries no BehaviourLogProbs, which asynchronous rounds need" : null));
        if (problem is null)
        {
            TryCompleteRound();
            return;
        }
        if (rollout.Version < version - shape.MaxLag)
        {
            // Expected now and then (a slow worker); counted and published, not worth a warning each.
            stale++;
            rejected++;
            Publish(new RolloutRejected(run, rollout.WorkerId, problem));
        }
        else
        {
            Reject(rollout, problem);
        }
        // The worker stops once it is far enough ahead of the learner: acknowledging the dropped rollout now lets it go on
        // even if no update is near.
        if (started && round.Registration(Sender) is not null)
        {
            round.Acknowledge(Sender);
            Send([Sender]);
            // Bad contents (not merely late): the worker restarts with fresh environments, as in synchronous rounds.
            if (Validate(rollout) is { } contents) Sender.Tell(new RolloutRefused(rollout.Version, contents));
        }
    }

    private string? Validate(Rollout rollout) => rollout.Problem(options.Algorithm.RolloutLength, algorithm.Spec.ObservationSize, algorithm.Spec.ActionWidth);

    private void Reject(Rollout rollout, string problem)
    {
        rejected++;
        log.Warning("Rejected a rollout of version {0} from worker {1}: {2}", rollout.Version, rollout.WorkerId, problem);
        Publish(new RolloutRejected(run, rollout.WorkerId, problem));
    }

    /// <summary>
    /// A worker failed and restarted: counted, the first failure logged (with its exception when it is at hand), and the run
    /// ended as failed once more than <see cref="TrainingOptions.MaxWorkerRestarts"/> happened.
    /// </summary>
    private void OnWorkerRestarted(WorkerRestarted restarted)
    {
        restarts++;
        lastFault = restarted.Cause ?? new WorkerFaultException(restarted.WorkerId, restarted.Reason);
        if (restarts > options.MaxWorkerRestarts)
        {
            Fail(lastFault, $"Worker restarts ran out ({restarts} failures, MaxWorkerRestarts = {options.MaxWorkerRestarts}); the last: {restarted.Reason}");
            return;
        }
        if (restarts == 1)
        {
            const string first = "A worker failed and restarts: {0} (further failures are counted in worker_restarts, not logged each; the run ends after {1}).";
            if (restarted.Cause?.InnerException is { } inner) log.Warning(inner, first, restarted.Reason, options.MaxWorkerRestarts + 1);
            else log.Warning(first, restarted.Reason, options.MaxWorkerRestarts + 1);
        }
        else
        {
            log.Debug("Worker {0} restarted ({1} so far): {2}", restarted.WorkerId, restarts, restarted.Reason);
        }
    }

    /// <summary>A follower (a policy server) gets the current parameters now and every new version after each update; it is no worker.</summary>
    private void OnFollow()
    {
        if (followers.Add(Sender)) Context.Watch(Sender);
        Sender.Tell(new Parameters(version, current, algorithm.ObservationStatistics));
    }

    private void OnTerminated(Terminated terminated)
    {
        if (followers.Remove(terminated.ActorRef)) return;
        if (round.Remove(terminated.ActorRef) is not { } lost) return;
        Publish(new WorkerLost(run, lost.WorkerId, round.Count));
        log.Warning("Worker {0} is gone; {1} remain.", terminated.ActorRef.Path.Name, round.Count);
        if (round.Count == 0 && everHadWorkers && !hosting.Cluster)
        {
            if (lastFault is not null) Fail(lastFault, $"Every worker is gone; the last failure: {lastFault.Message}");
            else Finish(StopReason.NoWorkers, "Every worker is gone.");
        }
        else if (started) TryCompleteRound();
    }

    private void TryCompleteRound()
    {
        // Asynchronous rounds may have more than one batch waiting (rollouts that arrived during a long update).
        while (started && !finished && (asynchrony is null ? round.TakeBatch() : round.TakeArrived(asynchrony.BatchRollouts)) is { } batch)
            Apply(batch);
    }

    /// <summary>One update from one batch, its bookkeeping, and the new parameters out to every worker (unless the run ends here).</summary>
    private void Apply(Rollout[] batch)
    {
        // Schedules decay over the budget with the steps including this batch (as Stable-Baselines3 counts them); the
        // counters come back with a checkpoint, so a resumed run continues its schedules where it stopped.
        long batchSteps = 0;
        foreach (var r in batch) batchSteps += r.StepCount;
        algorithm.SetTrainingProgress(steps + batchSteps, options.MaxSteps);
        lastUpdate = algorithm.Update(batch);
        if (asynchrony is not null) lastUpdate = WithLag(lastUpdate, batch);
        foreach (var r in batch)
        {
            steps += r.StepCount;
            for (int i = 0; i < r.EpisodeReturns.Length; i++)
            {
                returns.Add(r.EpisodeReturns[i]);
                Publish(new EpisodeFinished(run, steps, returns.Episodes, r.EpisodeReturns[i], r.EpisodeLengths[i], r.WorkerId));
            }
        }
        version++;
        current = algorithm.Parameters.Read();
        if (followers.Count > 0)
        {
            var broadcast = new Parameters(version, current, algorithm.ObservationStatistics);
            foreach (var follower in followers) follower.Tell(broadcast);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        Publish(new UpdateFinished(run, version, steps, lastUpdate, seconds > 0 ? (steps - stepsAtStart) / seconds : 0)
        {
            MeanReturn = returns.Mean,
            Episodes = returns.Episodes,
            Seconds = seconds,
        });
        if (checkpoints.Due(version)) WriteCheckpoint();
        if (CheckStop()) return;
        if (evaluator is not null && version % options.Evaluation!.EveryUpdates == 0)
            evaluator.Tell(new EvaluatorActor.Evaluate(version, steps, Snapshot(version)));
        Send(round.InIdOrder);
    }

    /// <summary>Asynchronous rounds: how far behind the learner the batch's rollouts were, and how many were dropped so far.</summary>
    private UpdateMetrics WithLag(UpdateMetrics metrics, Rollout[] batch)
    {
        double sum = 0, max = 0;
        foreach (var r in batch)
        {
            double lag = version - r.Version;
            sum += lag;
            max = Math.Max(max, lag);
        }
        var extra = new Dictionary<string, double>(metrics.Extra)
        {
            ["lag_mean"] = sum / batch.Length,
            ["lag_max"] = max,
            ["stale_dropped"] = stale,
        };
        return metrics with { Extra = extra };
    }

    /// <summary>The current parameters (and the observation statistics workers normalise with) to each target.</summary>
    private void Send(IEnumerable<IActorRef> targets)
    {
        var parameters = new Parameters(version, current, algorithm.ObservationStatistics);
        foreach (var worker in targets)
        {
            int acknowledged = asynchrony is null ? 0 : round.TakeAcknowledged(worker);
            worker.Tell(acknowledged == 0 ? parameters : parameters with { Acknowledged = acknowledged });
        }
    }

    private TrainingProgress Snapshot() => new(
        steps, clock.Elapsed.TotalSeconds, lastRate, returns.Episodes, returns.Mean,
        version, round.Count, rejected, restarts, lastUpdate);

    private StopCheck Check() => new(Snapshot(), lastEvaluation, evaluations, evaluationsSinceBest, bestEvaluation);

    private void Report()
    {
        double now = clock.Elapsed.TotalSeconds;
        if (now > secondsAtLastReport) lastRate = (steps - stepsAtLastReport) / (now - secondsAtLastReport);
        stepsAtLastReport = steps;
        secondsAtLastReport = now;
        var progress = Snapshot();
        runFolder?.Flush();
        Context.System.EventStream.Publish(progress);
        onProgress?.Invoke(progress);
    }

    private TrainingResult Result(StopReason reason)
    {
        double seconds = clock.Elapsed.TotalSeconds;
        var final = Snapshot() with { StepsPerSecond = seconds > 0 ? (steps - stepsAtStart) / seconds : 0 };
        byte[]? optimizerState = null;
        try
        {
            optimizerState = algorithm.SaveOptimizerState();
        }
        catch (Exception e)
        {
            // A failed run may have failed in the optimizer: the result still carries the rest.
            log.Warning("The optimizer state could not be read for the result: {0}", e.Message);
        }
        var newest = NewestCheckpoint();
        return new TrainingResult(reason, stopPolicy.Solved(Check()), final, current, algorithm.Spec)
        {
            ObservationStatistics = algorithm.ObservationStatistics,
            Options = options.Algorithm,
            EnvironmentId = options.EnvironmentId,
            ActionBounds = ActionBounds(),
            OptimizerState = optimizerState,
            RecentReturns = returns.Recent(),
            CheckpointPath = newest?.Path,
            CheckpointVersion = newest?.Version ?? 0,
            FinalCheckpointWritten = finalCheckpointWritten,
            OutputProblems = outputProblems.ToArray(),
        };
    }

    private bool boundsKnown;
    private Advantage.Environments.Box? actionBounds;

    /// <summary>The Box a Gaussian policy's actions are clipped to (the environment's action space), for checkpoints and the result.</summary>
    private Advantage.Environments.Box? ActionBounds()
    {
        if (boundsKnown || !algorithm.Spec.Continuous) return actionBounds;
        boundsKnown = true;
        try
        {
            actionBounds = options.Environments.Make(options.EnvironmentId).ActionSpace as Advantage.Environments.Box;
        }
        catch (Exception e)
        {
            log.Warning("The environment could not be made to read its action bounds; checkpoints will not record them: {0}", e.Message);
        }
        return actionBounds;
    }

    private void Finish(StopReason reason, string detail)
    {
        if (finished) return;
        finished = true;
        clock.Stop();
        // The final checkpoint and the run folder are written, and closed, before anything says the run is over.
        WriteFinalCheckpoint();
        var result = CloseRunFolder(Result(reason) with { Detail = detail });
        Context.System.EventStream.Publish(result.Progress);
        Publish(new TrainingFinished(run, reason, detail, result.Progress));
        onProgress?.Invoke(result.Progress);
        completion.TrySetResult(result);
        Context.Stop(Self);
    }

    /// <summary>Ends the run as failed: a last try at the checkpoint (the cause may have been the disk), then the exception on the completion.</summary>
    private void Fail(Exception cause, string? detail = null)
    {
        if (finished) return;
        finished = true;
        clock.Stop();
        // A worker's failure was logged with its exception when it first happened, and a disk that cannot be written is said
        // in one line (which file, what is wrong with the disk); the learner's own failures get their stack trace here.
        if (cause is WorkerFaultException || detail is not null) log.Error("The run ends: {0}", detail ?? cause.Message);
        else if (cause is RunWriteException) log.Error("The run ends: {0}", cause.Message);
        else log.Error(cause, "The learner failed; the run ends.");
        failing = true;
        WriteFinalCheckpoint();
        var result = Result(StopReason.Failed) with { Detail = detail ?? (cause is RunWriteException ? Capitalised(cause.Message) : $"{cause.GetType().Name}: {cause.Message}") };
        try
        {
            result = CloseRunFolder(result);
        }
        catch (Exception e)
        {
            log.Warning("Writing the run folder failed: {0}", e.Message);
        }
        try
        {
            Publish(new TrainingFinished(run, StopReason.Failed, result.Detail, result.Progress));
        }
        catch (Exception e)
        {
            log.Warning("Publishing the failure failed: {0}", e.Message);
        }
        completion.TrySetException(new TrainingFailedException(result, cause));
        Context.Stop(Self);
    }

    private void Publish(TrainingEvent trainingEvent)
    {
        Context.System.EventStream.Publish(trainingEvent);
        runFolder?.Write(trainingEvent);
        try
        {
            tensorBoard?.Write(trainingEvent);
        }
        catch (Exception e) when (DiskProblem.Is(e))
        {
            log.Warning("Writing TensorBoard events failed; training goes on without them: {0}", e.Message);
            outputProblems.Add($"TensorBoard events stop at version {version}: {DiskProblem.Describe(tensorBoard!.Folder, e)}");
            tensorBoard = null;
        }
    }

    /// <summary>
    /// A file the run could not write: a warning when the run otherwise ends well; when it is failing, its one error line has
    /// said what happened already (a full disk fails every file after it), so the rest is in the result, and here at Info.
    /// </summary>
    private void Say(string problem)
    {
        if (failing) log.Info(problem);
        else log.Warning(problem);
    }

    private void OpenTensorBoard(string board)
    {
        try
        {
            tensorBoard = new TensorBoardLog(board, TensorBoardLog.Hyperparameters(options));
        }
        catch (Exception e) when (DiskProblem.Is(e))
        {
            log.Warning("TensorBoard events cannot be written; training goes on without them: {0}", e.Message);
            outputProblems.Add($"No TensorBoard events: {DiskProblem.Describe(board, e)}");
        }
    }

    /// <summary>
    /// The run's last checkpoint, written whatever ended it. A write that fails is said, in the log and in the result's
    /// <see cref="TrainingResult.OutputProblems"/> (with the older checkpoint that remains), never skipped in silence.
    /// </summary>
    private void WriteFinalCheckpoint()
    {
        if (checkpoints.Paths.Count == 0) return;
        IReadOnlyList<string> written;
        try
        {
            written = checkpoints.Write(Snapshot(version));
        }
        catch (Exception e)
        {
            // Whatever it was (a full disk, or a bug in taking the snapshot), the run is ending: say it, do not throw.
            string remains = NewestCheckpoint() is { } newest
                ? $"the newest checkpoint on disk is '{newest.Path}' (version {newest.Version})"
                : "no checkpoint of this run is on disk";
            string problem = $"The final checkpoint (version {version}) was not written: {(DiskProblem.Is(e) ? e.Message : $"{e.GetType().Name}: {e.Message}")}; {remains}.";
            Say(problem);
            outputProblems.Add(problem);
            return;
        }
        finalCheckpointWritten = true;
        checkpointFailing = null;
        foreach (string path in written)
            Publish(new CheckpointWritten(run, path, CheckpointKind.Latest, version, steps));
        runFolder?.Flush();
    }

    /// <summary>
    /// The newest checkpoint of this run on disk: the last one written, or, before any, the one a resumed run continues
    /// (a fresh run does not claim a file an earlier run left in its folder).
    /// </summary>
    private (string Path, long Version)? NewestCheckpoint() =>
        checkpoints.LastPath is { } path ? (path, checkpoints.LastVersion) : hosting.Resumed is not null ? checkpoints.Existing() : null;

    /// <summary>Writes the end of the run folder (curve, model, summary) and adds its problems to the result.</summary>
    private TrainingResult CloseRunFolder(TrainingResult result)
    {
        if (runFolder is null) return result;
        // model.ckpt: the policy as the run ended (statistics and action bounds with it), as a bare model: it plays, it does not resume (last.ckpt does).
        var folderProblems = runFolder.Finish(result, result.ToCheckpoint().WithOptimizerState(null), Placement(), outputProblems);
        runFolder = null;
        if (folderProblems.Count == 0) return result;
        foreach (string problem in folderProblems) Say($"Run folder: {problem}");
        outputProblems.AddRange(folderProblems);
        return result with { OutputProblems = outputProblems.ToArray() };
    }

    /// <summary>Where the run executed: in one process, or on a cluster of this many members now.</summary>
    private Placement Placement()
    {
        if (!hosting.Cluster) return new Placement("in-process", 1);
        try
        {
            return new Placement("cluster", Context.System is ExtendedActorSystem { Provider: Akka.Cluster.ClusterActorRefProvider }
                ? Akka.Cluster.Cluster.Get(Context.System).State.Members.Count
                : 1);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            return new Placement("cluster", 1);
        }
    }

    private static string Capitalised(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    /// <summary>Everything a resumed run needs, as of now.</summary>
    private Checkpoint Snapshot(long at) => new Checkpoint(algorithm.Spec, current, new Dictionary<string, string>
    {
        ["written_utc"] = DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
    })
    {
        OptimizerState = algorithm.SaveOptimizerState(),
        Progress = new CheckpointProgress(at, steps, returns.Episodes, returns.Recent()),
        Options = options.Algorithm,
        EnvironmentId = options.EnvironmentId,
        ObservationStatistics = algorithm.ObservationStatistics,
        ActionBounds = ActionBounds(),
        WorkerStates = WorkerStates(at),
    };

    /// <summary>
    /// The workers' states saved with the rollouts of the update that made version <paramref name="at"/>: what lets a
    /// resume continue their episodes. Null when none were (a checkpoint between intervals, asynchronous rounds).
    /// </summary>
    private WorkerSavedState[]? WorkerStates(long at)
    {
        var saved = workerStates.Where(w => w.Value.Version == at - 1).OrderBy(w => w.Key).Select(w => new WorkerSavedState(w.Key, w.Value.State)).ToArray();
        return saved.Length == 0 ? null : saved;
    }

    private void WriteCheckpoint()
    {
        IReadOnlyList<string> written;
        try
        {
            written = checkpoints.Write(Snapshot(version));
        }
        catch (IOException e) when (DiskProblem.Passes(e)
                                    && (checkpointFailing ??= System.Diagnostics.Stopwatch.StartNew()).Elapsed < CheckpointFailureTolerance)
        {
            log.Warning("The checkpoint at version {0} could not be written ({1}); the previous one stays, retrying at the next interval for up to {2} s.",
                version, e.Message, CheckpointFailureTolerance.TotalSeconds);
            return;
        }
        checkpointFailing = null;
        foreach (string path in written)
            Publish(new CheckpointWritten(run, path, CheckpointKind.Latest, version, steps));
        runFolder?.Flush();
    }

    private void OnEvaluated(EvaluatorActor.Evaluated evaluated)
    {
        evaluations++;
        // The best score lives here, not in the evaluator: it survives the evaluator's restarts.
        bool isBest = double.IsNaN(bestEvaluation) || evaluated.Result.MeanReturn > bestEvaluation;
        string? bestPath = null;
        if (isBest)
        {
            evaluationsSinceBest = 0;
            bestEvaluation = evaluated.Result.MeanReturn;
            bestPath = WriteBest(evaluated);
        }
        else
        {
            evaluationsSinceBest++;
        }
        lastEvaluation = new EvaluationFinished(run, evaluated.Version, evaluated.Steps, evaluated.Result, isBest);
        Publish(lastEvaluation);
        if (bestPath is not null) Publish(new CheckpointWritten(run, bestPath, CheckpointKind.Best, evaluated.Version, evaluated.Steps));
        if (started) CheckStop();
    }

    /// <summary>Writes the scored snapshot as <c>best.ckpt</c> (with its score), when the run has a checkpoint folder; null when it did not.</summary>
    private string? WriteBest(EvaluatorActor.Evaluated evaluated)
    {
        if (options.CheckpointDirectory is not { } directory) return null;
        string path = Path.Combine(directory, "best.ckpt");
        var metadata = new Dictionary<string, string>(evaluated.Snapshot.Metadata)
        {
            ["evaluation_mean_return"] = evaluated.Result.MeanReturn.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["evaluation_episodes"] = evaluated.Result.Returns.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        try
        {
            (evaluated.Snapshot with { Metadata = metadata }).Save(path);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Evaluation is a side show: a best.ckpt that cannot be written is said, not fatal (last.ckpt decides that).
            log.Warning("The best checkpoint (version {0}) could not be written: {1}", evaluated.Version, e.Message);
            return null;
        }
    }

    /// <summary>Asks the stop policy; finishes the run and returns true when it says stop.</summary>
    private bool CheckStop()
    {
        if (stopPolicy.Check(Check()) is not { } stop) return false;
        Finish(stop.Reason, stop.Detail);
        return true;
    }
}

/// <summary>
/// The run failed: something in the learner threw (the update, a checkpoint write, a stop condition, a progress
/// callback). <see cref="Exception.InnerException"/> is the cause; <see cref="Result"/> is where the run stood,
/// with <see cref="StopReason.Failed"/>, so a host can still report it and resume from the last checkpoint.
/// </summary>
public sealed class TrainingFailedException : Exception
{
    /// <summary>Creates the exception for a run that ended at <paramref name="result"/> because of <paramref name="cause"/>.</summary>
    public TrainingFailedException(TrainingResult result, Exception cause)
        : base($"Training failed after {result?.Progress.Steps ?? 0} steps: {cause?.Message}", cause)
    {
        ArgumentNullException.ThrowIfNull(result);
        Result = result;
    }

    /// <summary>Where the run stood when it failed.</summary>
    public TrainingResult Result { get; }
}
