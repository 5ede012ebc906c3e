using Advantage.Learning;
using Akka.Actor;
using Akka.Event;

namespace Advantage.Actors;

/// <summary>
/// The learner: it handles the run's messages and wires its parts (ARCHITECTURE.md, One synchronous round: step 2, and the end of step 5).
/// A rollout goes to the round policy (<see cref="IRoundPolicy"/>: synchronous rounds wait for every live worker's rollout
/// of the current version, asynchronous ones take batches in arrival order, chosen from
/// <see cref="AlgorithmOptions.Asynchrony"/>, never from the algorithm's name); when it has a batch, the learner updates
/// once through <see cref="IPolicyLearner"/>, hands what happened to its <see cref="RunRecorder"/>, asks the
/// <see cref="StopPolicy"/>, and sends the new version to every worker. Watches its workers, so a worker that dies
/// shrinks the round instead of stalling it. Rollouts that are stale, duplicated, from strangers, malformed or non-finite
/// are counted and dropped, never applied.
/// </summary>
/// <remarks>
/// The actor composes parts that are tested alone: the round policies and <see cref="WorkerRoster"/> (who is in a round),
/// <see cref="ReturnWindow"/> (episode statistics), <see cref="StopPolicy"/> (target, budget, user conditions),
/// <see cref="RunRecorder"/> (events, run folder, TensorBoard, checkpoints, evaluations). An exception anywhere in it (the
/// update, a checkpoint write (short of descriptors: only past <see cref="RunRecorder.CheckpointFailureTolerance"/>), a stop condition, the progress callback) ends the run with
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

    /// <summary>Round <paramref name="Version"/> has waited its round timeout since its first rollout (simulation runs).</summary>
    private sealed record RoundTimedOut(long Version) : INoSerializationVerificationNeeded;

    /// <summary>Round <paramref name="Version"/> has waited its idle timeout without any rollout (simulation runs).</summary>
    private sealed record RoundIdle(long Version) : INoSerializationVerificationNeeded;

    private readonly TrainingOptions options;
    private readonly LearnerHosting hosting;
    private readonly IPolicyLearner algorithm;
    private readonly Action<TrainingProgress>? onProgress;
    private readonly TaskCompletionSource<TrainingResult> completion;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly IRoundPolicy round;
    private readonly ReturnWindow returns;
    private readonly StopPolicy stopPolicy;
    private readonly RunRecorder recorder;
    private readonly HashSet<IActorRef> followers = [];

    /// <summary>
    /// A simulation run's synchronous rounds, which close without the simulations that do not produce in time
    /// (<see cref="Simulation.SimulationRoundLimits"/>); null in every other run, whose rounds wait for every live worker.
    /// </summary>
    private readonly SynchronousRoundPolicy? closable;
    private readonly Simulation.SimulationRoundLimits? limits;
    private long shortRounds;
    private long idleArmedFor = -1, timeoutArmedFor = -1;

    /// <summary>A resumed run's saved worker states not yet handed back (each goes to its worker once).</summary>
    private readonly Dictionary<int, byte[]> resumedWorkers = [];

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
    private IActorRef? evaluator;

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
        round = RoundPolicy.For(options.Algorithm, Validate);
        if (options.SimulationRounds is { } simulationRounds && round is SynchronousRoundPolicy synchronous)
        {
            closable = synchronous;
            limits = simulationRounds;
        }
        // A learner made through the public Props is named "<run>-learner"; events carry the run's name.
        string name = Self.Path.Name;
        this.hosting = hosting ?? new LearnerHosting(name.EndsWith("-learner", StringComparison.Ordinal) ? name[..^"-learner".Length] : name, false, null);
        run = this.hosting.Run;
        returns = new ReturnWindow(options.ReturnWindow);
        stopPolicy = new StopPolicy(options);
        recorder = new RunRecorder(options, this.hosting, log, Context.System.EventStream, () => version);
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
        Receive<GetProgress>(_ => Sender.Tell(Progress()));
        Receive<FollowParameters>(_ => OnFollow());
        Receive<ProgressTick>(_ => Report());
        Receive<StopTraining>(_ => Finish(StopReason.Stopped, "Asked to stop."));
        Receive<RoundTimedOut>(OnRoundTimedOut);
        Receive<RoundIdle>(OnRoundIdle);
        Receive<StartAnyway>(_ =>
        {
            if (round.Workers.Count > 0)
            {
                log.Warning("Only {0} of {1} workers registered in time; starting with them.", round.Workers.Count, options.Algorithm.Workers);
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
            recorder.Open(watchCollapse: !algorithm.Spec.Continuous);
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
            var result = recorder.Close(Result(StopReason.Stopped) with { Detail = "The actor system stopped." }, Placement);
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
            Publish(new WorkerJoined(run, register.WorkerId, register.Environments, round.Workers.Count));
        }
        if (started) Send([Sender]);
        else if (round.Workers.Count >= options.Algorithm.Workers) StartRounds();
        else if (joined && hosting.Cluster) log.Info("Worker {0} registered; waiting for {1} more before the first round.", register.WorkerId, options.Algorithm.Workers - round.Workers.Count);
    }

    /// <summary>Sends the first parameters to every registered worker; rounds run from here on.</summary>
    private void StartRounds()
    {
        if (started) return;
        started = true;
        // Wall time and steps per second count from the first round, not from the wait for workers to start.
        clock.Start();
        Timers.Cancel("start-anyway");
        Send(round.Workers.InIdOrder);
        WatchRound();
    }

    /// <summary>
    /// In a simulation run, arms the round's one pending limit: before its first rollout the idle timeout, after it the round
    /// timeout (each once per round, keyed by its version, so a timer of a round already applied is ignored).
    /// </summary>
    private void WatchRound()
    {
        if (closable is null || limits is null || !started || finished) return;
        if (closable.Pending == 0)
        {
            if (limits.IdleTimeout > TimeSpan.Zero && idleArmedFor != version)
            {
                idleArmedFor = version;
                Timers.StartSingleTimer("round-idle", new RoundIdle(version), limits.IdleTimeout);
            }
        }
        else
        {
            // Disarmed, not spent: should the round lose its rollouts (their workers left or registered again) it waits anew.
            Timers.Cancel("round-idle");
            idleArmedFor = -1;
            if (limits.RoundTimeout > TimeSpan.Zero && timeoutArmedFor != version)
            {
                timeoutArmedFor = version;
                Timers.StartSingleTimer("round-timeout", new RoundTimedOut(version), limits.RoundTimeout);
            }
        }
    }

    /// <summary>
    /// A simulation run's round waited <see cref="Simulation.SimulationRoundLimits.RoundTimeout"/> after its first rollout: it
    /// closes with the rollouts it has. The simulations it goes without may be slow, stopped, or waiting on another
    /// simulation's entities (a shared clock), which nothing short of the learner can tell apart or end: the new parameters
    /// free the ones that waited, and the others' rollouts join the round they come in.
    /// </summary>
    private void OnRoundTimedOut(RoundTimedOut timedOut)
    {
        if (closable is null || finished || !started || timedOut.Version != version) return;
        if (closable.CloseShort(version) is not { } closed)
        {
            // Its rollouts were taken out (their workers registered again or left): it waits for a first rollout again.
            timeoutArmedFor = -1;
            WatchRound();
            return;
        }
        shortRounds++;
        Publish(new RoundClosedShort(run, version, closed.Batch.Length, closed.Missing));
        const string message = "Round {0} waited {1:0.###} s (RoundTimeout) after its first rollout for {2} and closes with the {3} rollout(s) it has. " +
            "A simulation that is slow or stopped, or whose entities wait on another simulation's (simulations sharing a clock), holds a " +
            "synchronous round; the ones it went without get the new parameters and their next rollout joins the round it comes in. " +
            "Further short rounds are counted in short_rounds, not logged each.";
        if (shortRounds == 1) log.Warning(message, version, limits!.RoundTimeout.TotalSeconds, Simulations(closed.Missing), closed.Batch.Length);
        else log.Debug(message, version, limits!.RoundTimeout.TotalSeconds, Simulations(closed.Missing), closed.Batch.Length);
        Apply(closed.Batch);
    }

    /// <summary>
    /// A simulation run's round had no rollout at all for <see cref="Simulation.SimulationRoundLimits.IdleTimeout"/>: no
    /// progress is being made, so the run ends as failed naming the simulations it waited for, instead of waiting for ever.
    /// </summary>
    private void OnRoundIdle(RoundIdle idle)
    {
        if (closable is null || finished || !started || idle.Version != version || closable.Pending > 0) return;
        if (round.Workers.Count == 0)
        {
            // A cluster learner whose simulation nodes are all gone waits for nodes to join, as it does for workers.
            idleArmedFor = -1;
            WatchRound();
            return;
        }
        string detail = $"No progress: round {version} had no rollout from any simulation for {limits!.IdleTimeout.TotalSeconds:0.###} s " +
            $"(SimulationOptions.IdleTimeout); it waited for {Simulations(closable.Missing())}, none of which completed a rollout: their " +
            "streams are silent or wait for something that never comes (each gateway's log says which). Check that the simulation's " +
            "entities send Decide and Outcome, or raise IdleTimeout for a simulation this slow to produce.";
        Fail(new TimeoutException(detail), detail);
    }

    private static string Simulations(IReadOnlyList<int> ids) =>
        ids.Count == 1 ? $"simulation {ids[0]}" : $"simulations {string.Join(", ", ids)}";

    /// <summary>The round policy takes the rollout or says what becomes of it; a full round is applied.</summary>
    private void OnRollout(RolloutCollected message)
    {
        var rollout = message.Data;
        var verdict = round.Offer(Sender, message, version, started);
        if (verdict.Problem is not { } problem)
        {
            TryCompleteRound();
            WatchRound();
            return;
        }
        if (verdict.Late)
        {
            // Expected now and then (a slow worker); counted and published, not worth a warning each.
            rejected++;
            Publish(new RolloutRejected(run, rollout.WorkerId, problem));
        }
        else
        {
            Reject(rollout, problem);
        }
        if (verdict.Resend) Send([Sender]);
        if (verdict.Refusal is { } refusal) Sender.Tell(new RolloutRefused(rollout.Version, refusal));
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
        Publish(new WorkerLost(run, lost.WorkerId, round.Workers.Count));
        log.Warning("Worker {0} is gone; {1} remain.", terminated.ActorRef.Path.Name, round.Workers.Count);
        if (round.Workers.Count == 0 && everHadWorkers && !hosting.Cluster)
        {
            if (lastFault is not null) Fail(lastFault, $"Every worker is gone; the last failure: {lastFault.Message}");
            else Finish(StopReason.NoWorkers, "Every worker is gone.");
        }
        else if (started) TryCompleteRound();
    }

    private void TryCompleteRound()
    {
        // Asynchronous rounds may have more than one batch waiting (rollouts that arrived during a long update).
        while (started && !finished && round.TakeBatch() is { } batch)
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
        lastUpdate = round.Describe(algorithm.Update(batch), batch, version);
        if (closable is not null)
        {
            // A simulation run says how its rounds went: how many closed short so far, and how many simulations this one went without.
            lastUpdate = lastUpdate with
            {
                Extra = new Dictionary<string, double>(lastUpdate.Extra)
                {
                    ["short_rounds"] = shortRounds,
                    ["missing_rollouts"] = Math.Max(0, round.Workers.Count - batch.Length),
                },
            };
        }
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
        recorder.CheckpointIfDue(version, steps, () => CheckpointAt(version));
        if (CheckStop()) return;
        if (evaluator is not null && version % options.Evaluation!.EveryUpdates == 0)
            evaluator.Tell(new EvaluatorActor.Evaluate(version, steps, CheckpointAt(version)));
        Send(round.Workers.InIdOrder);
        WatchRound();
    }

    /// <summary>The current parameters (and the observation statistics workers normalise with) to each target.</summary>
    private void Send(IEnumerable<IActorRef> targets)
    {
        var parameters = new Parameters(version, current, algorithm.ObservationStatistics);
        foreach (var worker in targets) worker.Tell(round.For(worker, parameters));
    }

    /// <summary>Where the run stands now (what <see cref="GetProgress"/> answers and every report carries).</summary>
    private TrainingProgress Progress() => new(
        steps, clock.Elapsed.TotalSeconds, lastRate, returns.Episodes, returns.Mean,
        version, round.Workers.Count, rejected, restarts, lastUpdate);

    private StopCheck Check() => recorder.Check(Progress());

    private void Report()
    {
        double now = clock.Elapsed.TotalSeconds;
        if (now > secondsAtLastReport) lastRate = (steps - stepsAtLastReport) / (now - secondsAtLastReport);
        stepsAtLastReport = steps;
        secondsAtLastReport = now;
        var progress = Progress();
        recorder.Flush();
        Context.System.EventStream.Publish(progress);
        onProgress?.Invoke(progress);
    }

    private TrainingResult Result(StopReason reason)
    {
        double seconds = clock.Elapsed.TotalSeconds;
        var final = Progress() with { StepsPerSecond = seconds > 0 ? (steps - stepsAtStart) / seconds : 0 };
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
        var newest = recorder.NewestCheckpoint();
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
            FinalCheckpointWritten = recorder.FinalCheckpointWritten,
            OutputProblems = recorder.OutputProblems,
            ShortRounds = shortRounds,
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
        var result = recorder.Close(Result(reason) with { Detail = detail }, Placement);
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
        recorder.MarkFailing();
        WriteFinalCheckpoint();
        var result = Result(StopReason.Failed) with { Detail = detail ?? (cause is RunWriteException ? Capitalised(cause.Message) : $"{cause.GetType().Name}: {cause.Message}") };
        try
        {
            result = recorder.Close(result, Placement);
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

    private void Publish(TrainingEvent trainingEvent) => recorder.Publish(trainingEvent);

    /// <summary>The run's last checkpoint, written whatever ended it (a write that fails is said, see <see cref="RunRecorder.FinalCheckpoint"/>).</summary>
    private void WriteFinalCheckpoint() => recorder.FinalCheckpoint(version, steps, () => CheckpointAt(version));

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

    /// <summary>Everything a resumed run needs, as of now, stamped with version <paramref name="at"/>.</summary>
    private Checkpoint CheckpointAt(long at) => new Checkpoint(algorithm.Spec, current, new Dictionary<string, string>
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
        WorkerStates = round.SavedWorkerStates(at),
    };

    private void OnEvaluated(EvaluatorActor.Evaluated evaluated)
    {
        recorder.Evaluated(evaluated);
        if (started) CheckStop();
    }

    /// <summary>Asks the stop policy; finishes the run and returns true when it says stop.</summary>
    private bool CheckStop()
    {
        if (stopPolicy.Check(Check()) is not { } stop) return false;
        Finish(stop.Reason, stop.Detail);
        return true;
    }
}
