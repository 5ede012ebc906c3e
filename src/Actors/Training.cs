using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Actor;

namespace Advantage.Actors;

/// <summary>
/// A running training session inside an actor system: await <see cref="Completion"/>, poll
/// <see cref="GetProgressAsync"/>, or <see cref="Stop"/> it. Progress is also published on the actor
/// system's event stream as <see cref="TrainingProgress"/>, so host actors can subscribe with plain Akka code.
/// </summary>
public sealed class TrainingRun
{
    internal TrainingRun(IActorRef supervisor, IActorRef learner, Task<TrainingResult> completion, NetworkSpec spec)
    {
        Supervisor = supervisor;
        Learner = learner;
        Completion = completion;
        Spec = spec;
    }

    /// <summary>Completes when the run ends (target, budget, stop, or failure) with the trained parameters.</summary>
    public Task<TrainingResult> Completion { get; }

    /// <summary>The learner actor; send it <see cref="StopTraining"/> or <see cref="GetProgress"/>.</summary>
    public IActorRef Learner { get; }

    /// <summary>The actor that supervises the workers; it stops with the learner.</summary>
    public IActorRef Supervisor { get; }

    /// <summary>The network sizes of this run.</summary>
    public NetworkSpec Spec { get; }

    /// <summary>Asks the learner to finish after the current round; <see cref="Completion"/> then completes.</summary>
    public void Stop() => Learner.Tell(StopTraining.Instance);

    /// <summary>A progress snapshot now.</summary>
    public Task<TrainingProgress> GetProgressAsync(TimeSpan timeout) => Learner.Ask<TrainingProgress>(GetProgress.Instance, timeout);
}

/// <summary>Entry points that start training (A2C, PPO, IMPALA or a registered algorithm of your own, as <see cref="TrainingOptions.Algorithm"/> says) inside an actor system the caller owns.</summary>
public static class Training
{
    private static int runCounter;

    /// <summary>
    /// Validates the options (every problem at once, before any actor starts), then starts a learner and
    /// <see cref="AlgorithmOptions.Workers"/> workers under one supervisor in <paramref name="system"/>.
    /// </summary>
    /// <param name="system">Any actor system; Advantage's HOCON defaults are added behind its configuration.</param>
    /// <param name="options">What to train and when to stop.</param>
    /// <param name="onProgress">Called on the learner's thread at each progress interval and once at the end; keep it quick.</param>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    /// <exception cref="EnvironmentCheckException">The environment fails <see cref="TrainingOptions.EnvironmentCheck"/>; the message is its first error.</exception>
    public static TrainingRun Start(ActorSystem system, TrainingOptions options, Action<TrainingProgress>? onProgress = null) =>
        Start(system, options, onProgress, RunDisk.Real);

    /// <summary><see cref="Start(ActorSystem, TrainingOptions, Action{TrainingProgress}?)"/> writing its files through <paramref name="disk"/> (tests make it fail).</summary>
    internal static TrainingRun Start(ActorSystem system, TrainingOptions options, Action<TrainingProgress>? onProgress, RunDisk disk) =>
        StartRun(system, options, onProgress, disk, workers: true);

    /// <summary>
    /// Starts a run; without <paramref name="workers"/> only its learner (a simulation's gateways feed it instead).
    /// <paramref name="wrapLearner"/>, when given, wraps the run's learner before its actor starts (the bench records rounds through it).
    /// </summary>
    internal static TrainingRun StartRun(ActorSystem system, TrainingOptions options, Action<TrainingProgress>? onProgress, RunDisk disk, bool workers,
        Func<IPolicyLearner, IPolicyLearner>? wrapLearner = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        RunWiring.CheckEnvironment(options, system.Log);
        AdvantageConfig.Install(system);
        var spec = RunWiring.Spec(options);
        CheckResumable(options, spec);
        var completion = new TaskCompletionSource<TrainingResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        int run = Interlocked.Increment(ref runCounter);
        var (learning, resumed) = LearnerCheckpoint.CreateLearner(options, spec, null);
        if (wrapLearner is not null) learning = wrapLearner(learning);
        var hosting = new LearnerHosting($"advantage-run-{run}", false, null) { Resumed = resumed?.Progress, ResumedWorkers = resumed?.WorkerStates, Disk = disk };
        var learner = system.ActorOf(LearnerActor.HostedProps(options, learning, onProgress, completion, hosting), $"advantage-run-{run}-learner");
        var supervisor = system.ActorOf(Props.Create(() => new RunSupervisor(options, spec, learner, workers)), $"advantage-run-{run}");
        return new TrainingRun(supervisor, learner, completion.Task, spec);
    }

    /// <summary>Refuses a <see cref="TrainingOptions.ResumeFrom"/> whose network does not fit the environment, before anything starts.</summary>
    internal static void CheckResumable(TrainingOptions options, NetworkSpec spec)
    {
        if (options.ResumeFrom is { } resume && !resume.Spec.Equals(spec))
            throw new OptionsValidationException(nameof(TrainingOptions),
                [$"{nameof(TrainingOptions.ResumeFrom)} holds a network for {resume.Spec.ObservationSize} observations and {resume.Spec.ActionSize} actions; '{options.EnvironmentId}' needs {spec.ObservationSize} and {spec.ActionSize}."]);
    }

    /// <summary>Starts a run and waits for it to end.</summary>
    public static Task<TrainingResult> RunAsync(ActorSystem system, TrainingOptions options, Action<TrainingProgress>? onProgress = null) =>
        Start(system, options, onProgress).Completion;
}

/// <summary>How every parent of workers (a run's supervisor, a cluster worker node) supervises them.</summary>
internal static class WorkerSupervision
{
    /// <summary>Restart every failure, without a limit of Akka's and without Akka's log line: the learner counts and logs.</summary>
    public static SupervisorStrategy Strategy { get; } =
        new OneForOneStrategy(-1, -1, _ => Directive.Restart, false); // no retry limit, no time window, no logging
}

/// <summary>
/// Parent of one run's workers. Restarts a failed worker (its environment threw or produced a non-finite value; the worker
/// tells the learner, which ends the run once the restarts allowed run out), so an environment crash costs one rollout, not the run. Watches the learner and stops itself,
/// and so every worker, when the learner ends.
/// </summary>
internal sealed class RunSupervisor : ReceiveActor
{
    public RunSupervisor(TrainingOptions options, NetworkSpec spec, IActorRef learner, bool workers)
    {
        Context.Watch(learner);
        for (int w = 0; w < (workers ? options.Algorithm.Workers : 0); w++)
            Context.ActorOf(WorkerActor.Props(RunWiring.Settings(RunWiring.Worker(options, w), options.EnvironmentId, options.Environments, spec), learner), $"worker-{w}");
        Receive<Terminated>(t =>
        {
            if (t.ActorRef.Equals(learner)) Context.Stop(Self);
        });
    }

    /// <summary>
    /// Restart, always and quietly: the learner counts the restarts (a worker tells it in PreRestart, with the cause) and ends
    /// the run when <see cref="TrainingOptions.MaxWorkerRestarts"/> runs out, which also stops this supervisor. Akka's own
    /// retry limit would stop a worker silently, and its logging would print every failure's stack trace.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => WorkerSupervision.Strategy;
}
