using Advantage.Learning;
using Akka.Actor;
using Akka.Event;

namespace Advantage.Actors;

/// <summary>
/// Runs synchronous A2C rounds keyed by parameter version: waits for one rollout of the current version
/// from every live worker, orders them by worker id, updates once, and sends version v+1 to every worker.
/// Watches its workers, so a worker that dies shrinks the round instead of stalling it. Rollouts that are
/// stale, duplicated, from strangers, malformed or non-finite are counted and dropped, never applied.
/// </summary>
public sealed class LearnerActor : ReceiveActor, IWithTimers
{
    private sealed record ProgressTick : INoSerializationVerificationNeeded
    {
        public static readonly ProgressTick Instance = new();
    }

    private readonly TrainingOptions options;
    private readonly LearnerHosting hosting;
    private readonly A2CLearner algorithm;
    private readonly Action<TrainingProgress>? onProgress;
    private readonly TaskCompletionSource<TrainingResult> completion;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly Dictionary<IActorRef, RegisterWorker> workers = new();
    private readonly Dictionary<IActorRef, Rollout> pending = new();
    private readonly double[] window;
    private readonly System.Diagnostics.Stopwatch clock = new();
    private int windowCount;
    private int windowNext;
    private double windowSum;
    private long version;
    private float[] current;
    private long steps;
    private long episodes;
    private long rejected;
    private long restarts;
    private bool everHadWorkers;

    // In one process the first round waits until every configured worker has registered: a round that
    // started with whichever workers happened to be up first would make a seeded run depend on thread timing.
    private bool started;

    private sealed record StartAnyway : INoSerializationVerificationNeeded
    {
        public static readonly StartAnyway Instance = new();
    }
    private UpdateMetrics? lastUpdate;
    private long stepsAtLastReport;
    private double secondsAtLastReport;
    private double lastRate;
    private readonly string run;
    private bool finished;
    private long stepsAtStart;
    private TensorBoardLog? tensorBoard;
    private IActorRef? evaluator;
    private EvaluationFinished? lastEvaluation;
    private int evaluations;
    private int evaluationsSinceBest;
    private double bestEvaluation = double.NaN;

    /// <summary>Creates the learner; prefer <see cref="Props"/>.</summary>
    public LearnerActor(TrainingOptions options, A2CLearner algorithm, Action<TrainingProgress>? onProgress, TaskCompletionSource<TrainingResult> completion)
        : this(options, algorithm, onProgress, completion, LearnerHosting.InProcess)
    {
    }

    internal LearnerActor(TrainingOptions options, A2CLearner algorithm, Action<TrainingProgress>? onProgress, TaskCompletionSource<TrainingResult> completion, LearnerHosting hosting)
    {
        this.options = options;
        this.hosting = hosting;
        this.algorithm = algorithm;
        this.onProgress = onProgress;
        this.completion = completion;
        window = new double[options.ReturnWindow];
        current = algorithm.Parameters.Read();
        // Training.Start names the learner "<run>-learner"; events carry the run's name.
        string name = Self.Path.Name;
        run = name.EndsWith("-learner", StringComparison.Ordinal) ? name[..^"-learner".Length] : name;
        // The hosted checkpoint (already loaded into the algorithm) is this run's own, newer than any ResumeFrom: it wins.
        if ((hosting.Resumed ?? options.ResumeFrom?.Progress) is { } resumed) ContinueFrom(resumed);
        Receive<RegisterWorker>(OnRegister);
        Receive<RolloutCollected>(OnRollout);
        Receive<Terminated>(OnTerminated);
        Receive<WorkerRestarted>(_ => restarts++);
        Receive<GetProgress>(_ => Sender.Tell(Snapshot()));
        Receive<ProgressTick>(_ => Report());
        Receive<StopTraining>(_ => Finish(StopReason.Stopped, "Asked to stop."));
        Receive<StartAnyway>(_ =>
        {
            log.Warning("Only {0} of {1} workers registered in time; starting with them.", workers.Count, options.Algorithm.Workers);
            if (workers.Count > 0) StartRounds();
        });
        Receive<EvaluatorActor.Evaluated>(OnEvaluated);
        Receive<CheckpointTick>(_ => SaveCheckpoint());
    }

    private sealed record CheckpointTick : INoSerializationVerificationNeeded
    {
        public static readonly CheckpointTick Instance = new();
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props on the compute dispatcher. The learner owns (and disposes) <paramref name="algorithm"/>.</summary>
    public static Props Props(TrainingOptions options, A2CLearner algorithm, Action<TrainingProgress>? onProgress, TaskCompletionSource<TrainingResult> completion) =>
        Akka.Actor.Props.Create(() => new LearnerActor(options, algorithm, onProgress, completion)).WithDispatcher(AdvantageConfig.ComputeDispatcher);

    internal static Props HostedProps(TrainingOptions options, A2CLearner algorithm, Action<TrainingProgress>? onProgress, TaskCompletionSource<TrainingResult> completion, LearnerHosting hosting) =>
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

    /// <summary>Rollouts refused so far.</summary>
    internal long Rejected => rejected;

    /// <inheritdoc />
    protected override void PreStart()
    {
        TorchThreads.UseOne();
        clock.Start();
        Timers.StartPeriodicTimer("progress", ProgressTick.Instance, options.ProgressInterval);
        // A cluster learner serves whoever joins; in one process, wait for the configured workers (a worker
        // that cannot start at all must not hold the run forever, hence the deadline).
        if (hosting.WaitForWorkers) started = true;
        else Timers.StartSingleTimer("start-anyway", StartAnyway.Instance, TimeSpan.FromSeconds(30));
        if (hosting.Checkpoint is { } checkpoint)
        {
            if (hosting.Resumed is not null) log.Warning("Resumed from checkpoint {0}: version {1}, {2} steps.", checkpoint.Path, version, steps);
            Timers.StartPeriodicTimer("checkpoint", CheckpointTick.Instance, checkpoint.Interval);
        }
        if (options.TensorBoardDirectory is { } board) tensorBoard = new TensorBoardLog(board, TensorBoardLog.Hyperparameters(options));
        if (options.Evaluation is { } evaluation)
        {
            var registry = options.Environments;
            string id = options.EnvironmentId;
            evaluator = Context.ActorOf(EvaluatorActor.Props(evaluation, algorithm.Spec, () => registry.Make(id), options.CheckpointDirectory), "evaluator");
        }
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        completion.TrySetResult(Result(StopReason.Stopped));
        algorithm.Dispose();
    }

    private void OnRegister(RegisterWorker register)
    {
        bool joined = !workers.ContainsKey(Sender);
        if (joined)
        {
            Context.Watch(Sender);
            everHadWorkers = true;
        }
        workers[Sender] = register;
        if (joined) Publish(new WorkerJoined(run, register.WorkerId, register.Environments, workers.Count));
        // A (re)registering worker has no rollout in flight for this round any more.
        pending.Remove(Sender);
        if (started) Send([Sender], new Parameters(version, current, algorithm.ObservationStatistics));
        else if (workers.Count >= options.Algorithm.Workers) StartRounds();
    }

    /// <summary>Sends the first parameters to every registered worker; rounds run from here on.</summary>
    private void StartRounds()
    {
        if (started) return;
        started = true;
        Timers.Cancel("start-anyway");
        var parameters = new Parameters(version, current, algorithm.ObservationStatistics);
        Send(workers.OrderBy(w => w.Value.WorkerId).Select(w => w.Key), parameters);
    }

    private void OnRollout(RolloutCollected message)
    {
        var rollout = message.Data;
        string? problem = !workers.TryGetValue(Sender, out var worker) ? "it comes from an unregistered worker"
            : rollout.Version != version ? $"it is of version {rollout.Version}, the round is at {version}"
            : rollout.WorkerId != worker.WorkerId ? $"its worker id {rollout.WorkerId} differs from the registered {worker.WorkerId}"
            : pending.ContainsKey(Sender) ? "this worker already sent one this round"
            : rollout.Problem(options.Algorithm.RolloutLength, algorithm.Spec.ObservationSize, algorithm.Spec.ActionWidth);
        if (problem is not null)
        {
            rejected++;
            log.Warning("Rejected a rollout from worker {0}: {1}", rollout.WorkerId, problem);
            Publish(new RolloutRejected(run, rollout.WorkerId, problem));
            // Keep a well-behaved worker of the current round going: it has no other way to get parameters.
            if (worker is not null && rollout.Version != version && !pending.ContainsKey(Sender))
                Send([Sender], new Parameters(version, current, algorithm.ObservationStatistics));
            return;
        }
        pending[Sender] = rollout;
        TryCompleteRound();
    }

    private void OnTerminated(Terminated terminated)
    {
        if (workers.Remove(terminated.ActorRef, out var lost))
        {
            hosting.Lane?.Drop(terminated.ActorRef);
            pending.Remove(terminated.ActorRef);
            Publish(new WorkerLost(run, lost.WorkerId, workers.Count));
            log.Warning("Worker {0} is gone; {1} remain.", terminated.ActorRef.Path.Name, workers.Count);
            if (workers.Count == 0 && everHadWorkers && !hosting.WaitForWorkers) Finish(StopReason.NoWorkers, "Every worker is gone.");
            else TryCompleteRound();
        }
    }

    private void TryCompleteRound()
    {
        if (workers.Count == 0 || pending.Count < workers.Count) return;
        var batch = pending.Values.OrderBy(r => r.WorkerId).ToArray();
        pending.Clear();
        try
        {
            lastUpdate = algorithm.Update(batch);
        }
        catch (Exception e)
        {
            log.Error(e, "The update failed.");
            completion.TrySetException(e);
            Context.Stop(Self);
            return;
        }
        foreach (var r in batch)
        {
            steps += r.StepCount;
            for (int i = 0; i < r.EpisodeReturns.Length; i++)
            {
                AddEpisode(r.EpisodeReturns[i]);
                Publish(new EpisodeFinished(run, steps, episodes, r.EpisodeReturns[i], r.EpisodeLengths[i], r.WorkerId));
            }
        }
        version++;
        current = algorithm.Parameters.Read();
        double seconds = clock.Elapsed.TotalSeconds;
        Publish(new UpdateFinished(run, version, steps, lastUpdate!, seconds > 0 ? (steps - stepsAtStart) / seconds : 0));
        if (options.CheckpointInterval > 0 && version % options.CheckpointInterval == 0) WriteLatestCheckpoint();
        if (options.TargetMeanReturn is double target && windowCount == window.Length && windowSum / windowCount >= target)
        {
            Finish(StopReason.TargetReached, $"Mean return of the last {windowCount} episodes reached {target}.");
            return;
        }
        if (steps >= options.MaxSteps)
        {
            Finish(StopReason.StepBudgetExhausted, $"{steps} steps reached the budget of {options.MaxSteps}.");
            return;
        }
        if (CheckStopConditions()) return;
        if (evaluator is not null && version % options.Evaluation!.EveryUpdates == 0)
            evaluator.Tell(new EvaluatorActor.Evaluate(version, steps, Snapshot(version)));
        var parameters = new Parameters(version, current, algorithm.ObservationStatistics);
        Send(workers.Keys, parameters);
    }

    /// <summary>Parameters to workers: on a cluster's data lane when the worker has one (serialized once per round), else by Tell.</summary>
    private void Send(IEnumerable<IActorRef> targets, Parameters parameters)
    {
        byte[]? frame = null;
        foreach (var worker in targets)
        {
            if (hosting.Lane is { Connected: > 0 } lane && lane.TrySend(worker, frame ??= lane.Frame(parameters))) continue;
            worker.Tell(parameters);
        }
    }

    /// <summary>Counters and return window of a resumed run, so its mean return, target check and step budget continue.</summary>
    private void ContinueFrom(CheckpointProgress resumed)
    {
        version = resumed.Version;
        steps = stepsAtStart = stepsAtLastReport = resumed.Steps;
        episodes = resumed.Episodes;
        foreach (double r in resumed.RecentReturns.Skip(Math.Max(0, resumed.RecentReturns.Count - window.Length))) AddToWindow(r);
    }

    private void AddEpisode(double value)
    {
        episodes++;
        AddToWindow(value);
    }

    private void AddToWindow(double value)
    {
        if (windowCount == window.Length) windowSum -= window[windowNext];
        else windowCount++;
        window[windowNext] = value;
        windowSum += value;
        windowNext = (windowNext + 1) % window.Length;
    }

    private TrainingProgress Snapshot() => new(
        steps, clock.Elapsed.TotalSeconds, lastRate, episodes,
        windowCount == 0 ? double.NaN : windowSum / windowCount,
        version, workers.Count, rejected, restarts, lastUpdate);

    private void Report()
    {
        double now = clock.Elapsed.TotalSeconds;
        if (now > secondsAtLastReport) lastRate = (steps - stepsAtLastReport) / (now - secondsAtLastReport);
        stepsAtLastReport = steps;
        secondsAtLastReport = now;
        var progress = Snapshot();
        Context.System.EventStream.Publish(progress);
        try
        {
            onProgress?.Invoke(progress);
        }
        catch (Exception e)
        {
            log.Warning("A progress callback threw; training goes on: {0}", e.Message);
        }
    }

    private TrainingResult Result(StopReason reason)
    {
        double seconds = clock.Elapsed.TotalSeconds;
        var final = Snapshot() with { StepsPerSecond = seconds > 0 ? (steps - stepsAtStart) / seconds : 0 };
        bool solved = options.TargetMeanReturn is double target && windowCount == window.Length && windowSum / windowCount >= target;
        return new TrainingResult(reason, solved, final, current, algorithm.Spec);
    }

    private void SaveCheckpoint()
    {
        if (hosting.Checkpoint is not { } checkpoint) return;
        try
        {
            Snapshot(version).Save(checkpoint.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Warning("Could not write checkpoint {0}; training goes on: {1}", checkpoint.Path, e.Message);
        }
    }

    private void Finish(StopReason reason, string detail = "")
    {
        if (finished) return;
        finished = true;
        clock.Stop();
        SaveCheckpoint();
        var result = Result(reason) with { Detail = detail };
        if (options.CheckpointDirectory is not null && reason != StopReason.Failed) WriteLatestCheckpoint();
        Context.System.EventStream.Publish(result.Progress);
        Publish(new TrainingFinished(run, reason, detail, result.Progress));
        try { onProgress?.Invoke(result.Progress); } catch (Exception e) { log.Warning("A progress callback threw: {0}", e.Message); }
        completion.TrySetResult(result);
        Context.Stop(Self);
    }

    private void Publish(TrainingEvent trainingEvent)
    {
        Context.System.EventStream.Publish(trainingEvent);
        try
        {
            tensorBoard?.Write(trainingEvent);
        }
        catch (Exception e)
        {
            log.Warning("Writing TensorBoard events failed; training goes on without them: {0}", e.Message);
            tensorBoard = null;
        }
    }

    /// <summary>The return window, oldest first.</summary>
    private double[] RecentReturns()
    {
        var result = new double[windowCount];
        int start = windowCount == window.Length ? windowNext : 0;
        for (int i = 0; i < windowCount; i++) result[i] = window[(start + i) % window.Length];
        return result;
    }

    /// <summary>Everything a resumed run needs, as of now.</summary>
    private Checkpoint Snapshot(long at) => new Checkpoint(algorithm.Spec, current, new Dictionary<string, string>
    {
        ["environment"] = options.EnvironmentId,
        ["version"] = at.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["steps"] = steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["written_utc"] = DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
    })
    {
        OptimizerState = LearnerState.SaveOptimizer(algorithm),
        Progress = new CheckpointProgress(at, steps, episodes, RecentReturns()),
        Options = options.Algorithm,
        EnvironmentId = options.EnvironmentId,
        ObservationStatistics = algorithm.ObservationStatistics,
    };

    private void WriteLatestCheckpoint()
    {
        if (options.CheckpointDirectory is not { } directory) return;
        string path = Path.Combine(directory, "last.ckpt");
        try
        {
            Snapshot(version).Save(path);
            Publish(new CheckpointWritten(run, path, CheckpointKind.Latest, version, steps));
        }
        catch (IOException e)
        {
            log.Error(e, "Writing the checkpoint {0} failed; training goes on.", path);
        }
    }

    private void OnEvaluated(EvaluatorActor.Evaluated evaluated)
    {
        evaluations++;
        if (evaluated.IsBest)
        {
            evaluationsSinceBest = 0;
            bestEvaluation = evaluated.Result.MeanReturn;
        }
        else
        {
            evaluationsSinceBest++;
        }
        lastEvaluation = new EvaluationFinished(run, evaluated.Version, evaluated.Steps, evaluated.Result, evaluated.IsBest);
        Publish(lastEvaluation);
        if (evaluated.BestPath is { } path) Publish(new CheckpointWritten(run, path, CheckpointKind.Best, evaluated.Version, evaluated.Steps));
        CheckStopConditions();
    }

    /// <summary>Asks every stop condition; finishes the run and returns true when one says stop.</summary>
    private bool CheckStopConditions()
    {
        if (options.StopConditions.Count == 0) return false;
        var check = new StopCheck(Snapshot(), lastEvaluation, evaluations, evaluationsSinceBest, bestEvaluation);
        foreach (var condition in options.StopConditions)
        {
            bool stop;
            try
            {
                stop = condition.ShouldStop(check);
            }
            catch (Exception e)
            {
                log.Warning("Stop condition '{0}' threw; it is taken as 'go on': {1}", condition.Name, e.Message);
                continue;
            }
            if (stop)
            {
                Finish(StopReason.StopConditionMet, $"Stop condition met: {condition.Name}.");
                return true;
            }
        }
        return false;
    }
}
