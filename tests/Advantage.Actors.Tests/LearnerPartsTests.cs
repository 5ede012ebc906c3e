using Advantage.Learning;
using Akka.Actor;
using Akka.TestKit;

namespace Advantage.Actors.Tests;

/// <summary>The learner's parts, each alone: the synchronous round policy, the return window, the stop policy, the checkpoint writer.</summary>
public sealed class LearnerPartsTests : ActorTestKit
{
    private static string? Offer(IRoundPolicy round, IActorRef worker, Rollout rollout, long version) =>
        round.Offer(worker, new RolloutCollected(rollout), version, started: false).Problem;

    [Fact]
    public void A_round_completes_when_every_live_worker_sent_one_valid_rollout_and_is_ordered_by_worker_id()
    {
        string? contents = null;
        var round = new SynchronousRoundPolicy(new WorkerRoster(), _ => contents);
        IActorRef a = CreateTestProbe().Ref, b = CreateTestProbe().Ref, stranger = CreateTestProbe().Ref;
        Assert.True(round.Register(a, new RegisterWorker(1, 2)));
        Assert.True(round.Register(b, new RegisterWorker(0, 2)));
        Assert.False(round.Register(b, new RegisterWorker(0, 2)));
        Assert.Equal([b, a], round.Workers.InIdOrder);

        Assert.Contains("unregistered", Offer(round, stranger, Fixtures.Rollout(5, 0), 0));
        Assert.Contains("version 3", Offer(round, a, Fixtures.Rollout(1, 3), 0));
        Assert.Contains("worker id 0 differs", Offer(round, a, Fixtures.Rollout(0, 0), 0));
        contents = "bad";
        Assert.Equal("bad", Offer(round, a, Fixtures.Rollout(1, 0), 0));
        contents = null;
        Assert.Null(Offer(round, a, Fixtures.Rollout(1, 0), 0));
        Assert.Contains("already sent", Offer(round, a, Fixtures.Rollout(1, 0), 0));
        Assert.Null(round.TakeBatch());

        Assert.Null(Offer(round, b, Fixtures.Rollout(0, 0), 0));
        var batch = round.TakeBatch();
        Assert.Equal([0, 1], batch!.Select(r => r.WorkerId));
        Assert.Null(round.TakeBatch());
    }

    [Fact]
    public void A_worker_that_leaves_or_registers_again_takes_its_rollout_out_of_the_round()
    {
        var round = new SynchronousRoundPolicy(new WorkerRoster(), _ => null);
        IActorRef a = CreateTestProbe().Ref, b = CreateTestProbe().Ref;
        round.Register(a, new RegisterWorker(0, 2));
        round.Register(b, new RegisterWorker(1, 2));
        Offer(round, a, Fixtures.Rollout(0, 0), 0);
        round.Register(a, new RegisterWorker(0, 2));
        Assert.False(round.HasSent(a));
        Offer(round, b, Fixtures.Rollout(1, 0), 0);
        Assert.Equal(1, round.Remove(b)!.WorkerId);
        Assert.Null(round.Remove(b));
        Assert.Null(round.TakeBatch());
        Offer(round, a, Fixtures.Rollout(0, 0), 0);
        Assert.Single(round.TakeBatch()!);
    }

    [Fact]
    public void A_synchronous_round_answers_a_refused_worker_so_it_never_waits_and_keeps_the_states_saved_for_the_next_checkpoint()
    {
        string? contents = null;
        var round = new SynchronousRoundPolicy(new WorkerRoster(), _ => contents);
        IActorRef a = CreateTestProbe().Ref, b = CreateTestProbe().Ref, stranger = CreateTestProbe().Ref;
        round.Register(a, new RegisterWorker(0, 2));
        round.Register(b, new RegisterWorker(1, 2));

        // Before rounds start, and to a stranger, nothing is sent back.
        Assert.Equal(new RolloutVerdict("it is of version 3, the round is at 0"), round.Offer(a, new RolloutCollected(Fixtures.Rollout(0, 3)), 0, started: false));
        Assert.Equal(new RolloutVerdict("it comes from an unregistered worker"), round.Offer(stranger, new RolloutCollected(Fixtures.Rollout(5, 0)), 0, started: true));
        // Another version: the current parameters again. A bad rollout of this round: refused, so the worker restarts.
        Assert.True(round.Offer(a, new RolloutCollected(Fixtures.Rollout(0, 3)), 0, started: true) is { Resend: true, Refusal: null, Late: false });
        contents = "bad";
        Assert.Equal(new RolloutVerdict("bad", Refusal: "bad"), round.Offer(a, new RolloutCollected(Fixtures.Rollout(0, 0)), 0, started: true));
        contents = null;

        byte[] stateA = [1, 2], stateB = [3];
        Assert.Equal(RolloutVerdict.Accepted, round.Offer(a, new RolloutCollected(Fixtures.Rollout(0, 0)) { WorkerState = stateA }, 0, started: true));
        // A worker that already sent its rollout of this round waits for the update: nothing to send it now.
        Assert.True(round.Offer(a, new RolloutCollected(Fixtures.Rollout(0, 0)), 0, started: true) is { Resend: false, Refusal: null, Problem: not null });
        round.Offer(b, new RolloutCollected(Fixtures.Rollout(1, 0)) { WorkerState = stateB }, 0, started: true);
        Assert.NotNull(round.TakeBatch());
        Assert.Equal([(0, stateA), (1, stateB)], round.SavedWorkerStates(1)!.Select(s => (s.WorkerId, s.State)));
        Assert.Null(round.SavedWorkerStates(2));

        var parameters = new Parameters(1, [1f]);
        Assert.Same(parameters, round.For(a, parameters));
    }

    [Fact]
    public void A_round_closed_short_goes_with_the_rollouts_it_has_in_id_order_and_a_late_rollout_of_it_is_dropped_quietly_and_answered()
    {
        var round = new SynchronousRoundPolicy(new WorkerRoster(), _ => null);
        IActorRef a = CreateTestProbe().Ref, b = CreateTestProbe().Ref, c = CreateTestProbe().Ref;
        round.Register(c, new RegisterWorker(2, 2));
        round.Register(a, new RegisterWorker(0, 2));
        round.Register(b, new RegisterWorker(1, 2));
        Assert.Null(round.CloseShort(0)); // nothing to close with: a round without a rollout is no round
        Assert.Equal(RolloutVerdict.Accepted, round.Offer(c, new RolloutCollected(Fixtures.Rollout(2, 0)), 0, started: true));
        Assert.Equal(RolloutVerdict.Accepted, round.Offer(a, new RolloutCollected(Fixtures.Rollout(0, 0)), 0, started: true));
        Assert.Equal(2, round.Pending);
        Assert.Null(round.TakeBatch());

        var closed = round.CloseShort(0)!.Value;
        Assert.Equal([0, 2], closed.Batch.Select(r => r.WorkerId));
        Assert.Equal([1], closed.Missing);
        Assert.Equal(0, round.Pending);
        // The missing worker's rollout of the closed round comes after it: expected, so dropped quietly (counted by the learner)
        // and answered with the current parameters; another stale rollout is still a rejection with a warning.
        Assert.True(round.Offer(b, new RolloutCollected(Fixtures.Rollout(1, 0)), 1, started: true) is { Late: true, Resend: true, Problem: not null });
        Assert.True(round.Offer(a, new RolloutCollected(Fixtures.Rollout(0, 0)), 1, started: true) is { Late: false, Resend: true, Problem: not null });
        // The next round is an ordinary one.
        foreach (var (worker, id) in new[] { (a, 0), (b, 1), (c, 2) })
            Assert.Equal(RolloutVerdict.Accepted, round.Offer(worker, new RolloutCollected(Fixtures.Rollout(id, 1)), 1, started: true));
        Assert.Equal([0, 1, 2], round.TakeBatch()!.Select(r => r.WorkerId));
    }

    [Fact]
    public void The_return_window_keeps_the_last_returns_counts_every_episode_and_restores()
    {
        var window = new ReturnWindow(3);
        Assert.True(double.IsNaN(window.Mean));
        foreach (double r in new[] { 1.0, 2.0, 3.0, 10.0 }) window.Add(r);
        Assert.Equal((4L, 3, 5.0), (window.Episodes, window.Count, window.Mean));
        Assert.Equal([2.0, 3.0, 10.0], window.Recent());

        var resumed = new ReturnWindow(2);
        resumed.Restore(40, [1.0, 2.0, 3.0]);
        Assert.Equal(40L, resumed.Episodes);
        Assert.Equal([2.0, 3.0], resumed.Recent());
        resumed.Add(5.0);
        Assert.Equal((41L, 4.0), (resumed.Episodes, resumed.Mean));
    }

    private static StopCheck Check(long steps, long episodes, double mean) =>
        new(new TrainingProgress(steps, 1, 1, episodes, mean, 1, 1, 0, 0, null), null, 0, 0, double.NaN);

    [Fact]
    public void The_stop_policy_asks_target_then_budget_then_the_users_conditions_each_with_its_reason()
    {
        var options = Fixtures.Training.WithTargetMeanReturn(100).WithReturnWindow(10).WithMaxSteps(1000)
            .WithStopCondition(StopCondition.When("many episodes", c => c.Progress.Episodes >= 50));
        var policy = new StopPolicy(options);
        Assert.Null(policy.Check(Check(10, 5, 200)));                       // a lucky first few episodes are not a full window
        Assert.Equal(StopReason.TargetReached, policy.Check(Check(2000, 10, 100))!.Value.Reason);
        Assert.True(policy.Solved(Check(10, 10, 100)));
        Assert.Equal(StopReason.StepBudgetExhausted, policy.Check(Check(1000, 10, 99))!.Value.Reason);
        var user = policy.Check(Check(10, 50, 0))!.Value;
        Assert.Equal((StopReason.StopConditionMet, "Stop condition met: many episodes."), (user.Reason, user.Detail));
        Assert.False(new StopPolicy(Fixtures.Training).Solved(Check(10, 1000, 1e9)));
    }

    [Fact]
    public void The_checkpoint_writer_writes_every_path_at_its_update_cadence()
    {
        string folder = Directory.CreateTempSubdirectory("advantage-writer-").FullName;
        try
        {
            string a = Path.Combine(folder, "last.ckpt"), b = Path.Combine(folder, "own.ckpt");
            var writer = new CheckpointWriter([a, b, a], 10);
            Assert.Equal([a, b], writer.Paths);
            Assert.Equal([false, true, false, true], new long[] { 5, 10, 15, 20 }.Select(writer.Due));
            Assert.False(new CheckpointWriter([], 10).Due(10));
            Assert.False(new CheckpointWriter([a], 0).Due(10));
            writer.Write(new Checkpoint(Fixtures.Spec, new float[4 * 8 + 8 + 8 * 2 + 2 + 8 + 1], new Dictionary<string, string>()));
            Assert.True(File.Exists(a) && File.Exists(b));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_run_recorder_takes_a_checkpoint_only_when_due_and_keeps_the_best_evaluation_with_its_file()
    {
        string folder = Directory.CreateTempSubdirectory("advantage-recorder-").FullName;
        try
        {
            var options = Fixtures.Training.WithCheckpointDirectory(folder).WithCheckpointInterval(2);
            var recorder = new RunRecorder(options, new LearnerHosting("parts", false, null), Sys.Log, Sys.EventStream, () => 0);
            var events = CreateTestProbe();
            Sys.EventStream.Subscribe(events.Ref, typeof(TrainingEvent));
            var checkpoint = new Checkpoint(Fixtures.Spec, new float[4 * 8 + 8 + 8 * 2 + 2 + 8 + 1], new Dictionary<string, string>())
            {
                Progress = new CheckpointProgress(2, 20, 0, []),
            };
            int taken = 0;
            Checkpoint Take()
            {
                taken++;
                return checkpoint;
            }

            recorder.CheckpointIfDue(1, 10, Take);
            Assert.Equal(0, taken); // not due: not even made
            recorder.CheckpointIfDue(2, 20, Take);
            Assert.Equal(1, taken);
            string last = Path.Combine(folder, "last.ckpt");
            var written = events.ExpectMsg<CheckpointWritten>();
            Assert.Equal((last, CheckpointKind.Latest, 2L, 20L), (written.Path, written.Kind, written.Version, written.Steps));
            Assert.Equal((last, 2L), recorder.NewestCheckpoint());

            recorder.Evaluated(new EvaluatorActor.Evaluated(2, 20, new EvaluationResult([10.0], [5]), checkpoint));
            Assert.True(events.ExpectMsg<EvaluationFinished>().IsBest);
            Assert.Equal(CheckpointKind.Best, events.ExpectMsg<CheckpointWritten>().Kind);
            recorder.Evaluated(new EvaluatorActor.Evaluated(4, 40, new EvaluationResult([1.0], [5]), checkpoint));
            Assert.False(events.ExpectMsg<EvaluationFinished>().IsBest);
            events.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
            var check = recorder.Check(new TrainingProgress(40, 1, 1, 0, double.NaN, 4, 1, 0, 0, null));
            Assert.Equal((2, 1, 10.0, 4L), (check.Evaluations, check.EvaluationsSinceImprovement, check.BestEvaluationReturn, check.LastEvaluation!.Version));
            Assert.Equal("10", Checkpoint.Load(Path.Combine(folder, "best.ckpt")).Metadata["evaluation_mean_return"]);

            recorder.FinalCheckpoint(5, 50, Take);
            Assert.True(recorder.FinalCheckpointWritten);
            Assert.Empty(recorder.OutputProblems);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>An exception anywhere in the learner ends the run as failed, with the cause on the completion, never a restart.</summary>
public sealed class LearnerFailureTests : ActorTestKit
{
    private (IActorRef Learner, Task<TrainingResult> Completion, IPolicyLearner Algorithm) Start(TrainingOptions options, Action<TrainingProgress>? onProgress = null)
    {
        var completion = new TaskCompletionSource<TrainingResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var algorithm = Learners.Create(options.Algorithm, Fixtures.Spec);
        AdvantageConfig.Install(Sys);
        var learner = Sys.ActorOf(LearnerActor.Props(options, algorithm, onProgress, completion));
        return (learner, completion.Task, algorithm);
    }

    private static async Task<TrainingFailedException> Failure(Task<TrainingResult> completion)
    {
        var failure = await Assert.ThrowsAsync<TrainingFailedException>(() => completion.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(StopReason.Failed, failure.Result.Reason);
        Assert.NotNull(failure.InnerException);
        return failure;
    }

    private void PlayOneRound(IActorRef learner)
    {
        var worker = CreateTestProbe();
        worker.Send(learner, new RegisterWorker(0, 2));
        worker.ExpectMsg<Parameters>();
        worker.Send(learner, new RolloutCollected(Fixtures.Rollout(0, 0)));
    }

    [Fact]
    public async Task An_update_that_throws_fails_the_run()
    {
        var (learner, completion, algorithm) = Start(Fixtures.Training);
        Watch(learner);
        var worker = CreateTestProbe();
        worker.Send(learner, new RegisterWorker(0, 2));
        worker.ExpectMsg<Parameters>();
        algorithm.Dispose(); // the next update touches released tensors
        worker.Send(learner, new RolloutCollected(Fixtures.Rollout(0, 0)));
        var failure = await Failure(completion);
        Assert.IsAssignableFrom<Exception>(failure.InnerException);
        ExpectTerminated(learner);
    }

    [Fact]
    public async Task A_stop_condition_that_throws_fails_the_run_with_its_exception()
    {
        var options = Fixtures.Training.WithStopCondition(StopCondition.When("broken", _ => throw new InvalidOperationException("no verdict")));
        var (learner, completion, _) = Start(options);
        PlayOneRound(learner);
        var failure = await Failure(completion);
        Assert.Equal("no verdict", failure.InnerException!.Message);
        Assert.Equal(1, failure.Result.Progress.Version);
    }

    [Fact]
    public async Task A_progress_callback_that_throws_fails_the_run()
    {
        var options = Fixtures.Training with { ProgressInterval = TimeSpan.FromMilliseconds(20) };
        var (learner, completion, _) = Start(options, _ => throw new ArgumentException("callback broke"));
        PlayOneRound(learner);
        Assert.Equal("callback broke", (await Failure(completion)).InnerException!.Message);
    }

    [Fact]
    public async Task A_checkpoint_that_cannot_be_written_fails_the_run_instead_of_training_on_without_a_way_back()
    {
        string folder = Directory.CreateTempSubdirectory("advantage-unwritable-").FullName;
        try
        {
            // A folder where last.ckpt should go: the atomic rename onto it fails, as a full or read-only disk would.
            Directory.CreateDirectory(Path.Combine(folder, "last.ckpt"));
            var (learner, completion, _) = Start(Fixtures.Training.WithCheckpointDirectory(folder).WithCheckpointInterval(1));
            PlayOneRound(learner);
            var failure = await Failure(completion);
            Assert.True(failure.InnerException is IOException or UnauthorizedAccessException, failure.InnerException!.GetType().Name);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>
/// A simulation run's learner with test probes for its two gateways: a round closes short after the round timeout, a late
/// rollout of it is dropped quietly and answered, and a round with no rollout ends the run after the idle timeout. The
/// same learner without the simulation limits (built-in workers) keeps waiting.
/// </summary>
public sealed class SimulationRoundTests : ActorTestKit
{
    private (IActorRef Learner, Task<TrainingResult> Completion) Start(TrainingOptions options)
    {
        var completion = new TaskCompletionSource<TrainingResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        AdvantageConfig.Install(Sys);
        var learner = Sys.ActorOf(LearnerActor.Props(options, Learners.Create(options.Algorithm, Fixtures.Spec), null, completion));
        return (learner, completion.Task);
    }

    private static TrainingOptions TwoWorkers => Fixtures.Training.WithAlgorithm(Fixtures.Options.WithWorkers(2));

    [Fact]
    public async Task A_round_closes_short_after_the_round_timeout_a_late_rollout_is_answered_and_a_round_with_none_fails_after_the_idle_timeout()
    {
        var events = CreateTestProbe();
        Sys.EventStream.Subscribe(events.Ref, typeof(RoundClosedShort));
        var options = TwoWorkers with { SimulationRounds = new Simulation.SimulationRoundLimits(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)) };
        var (learner, completion) = Start(options);
        TestProbe a = CreateTestProbe(), b = CreateTestProbe();
        a.Send(learner, new RegisterWorker(0, 2));
        b.Send(learner, new RegisterWorker(1, 2));
        a.ExpectMsg<Parameters>(p => Assert.Equal(0, p.Version));
        b.ExpectMsg<Parameters>(p => Assert.Equal(0, p.Version));

        // Round 0: only a's rollout comes; the round closes with it and both get version 1.
        a.Send(learner, new RolloutCollected(Fixtures.Rollout(0, 0)));
        var closed = events.ExpectMsg<RoundClosedShort>(TimeSpan.FromSeconds(20));
        Assert.Equal((0L, 1), (closed.Version, closed.Rollouts));
        Assert.Equal([1], closed.Missing);
        a.ExpectMsg<Parameters>(p => Assert.Equal(1, p.Version));
        b.ExpectMsg<Parameters>(p => Assert.Equal(1, p.Version));
        // b's rollout of round 0 comes after the close: answered with the current parameters, no warning.
        b.Send(learner, new RolloutCollected(Fixtures.Rollout(1, 0)));
        b.ExpectMsg<Parameters>(p => Assert.Equal(1, p.Version));

        // Round 1: a's rollout comes, then a registers again (its rollout leaves the round): the round waits for a first
        // rollout anew, none comes, and the run fails naming both simulations.
        a.Send(learner, new RolloutCollected(Fixtures.Rollout(0, 1)));
        a.Send(learner, new RegisterWorker(0, 2));
        a.ExpectMsg<Parameters>(p => Assert.Equal(1, p.Version));
        var failure = await Assert.ThrowsAsync<TrainingFailedException>(() => completion.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("round 1 had no rollout from any simulation", failure.Result.Detail);
        Assert.Contains("simulations 0, 1", failure.Result.Detail);
        Assert.Equal((1L, 1L, 1L), (failure.Result.Progress.Version, failure.Result.ShortRounds, failure.Result.Progress.RejectedRollouts));
    }

    [Fact]
    public void Without_the_simulation_limits_a_round_waits_for_every_live_worker()
    {
        var (learner, _) = Start(TwoWorkers);
        TestProbe a = CreateTestProbe(), b = CreateTestProbe();
        a.Send(learner, new RegisterWorker(0, 2));
        b.Send(learner, new RegisterWorker(1, 2));
        a.ExpectMsg<Parameters>();
        b.ExpectMsg<Parameters>();
        a.Send(learner, new RolloutCollected(Fixtures.Rollout(0, 0)));
        a.ExpectNoMsg(TimeSpan.FromSeconds(1)); // five times the limit the test above closes rounds at: nothing closes this one
        b.Send(learner, new RolloutCollected(Fixtures.Rollout(1, 0)));
        a.ExpectMsg<Parameters>(p => Assert.Equal(1, p.Version));
    }
}
