using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Actors.Tests;

/// <summary>The learner's parts, each alone: who is in a round, the return window, the stop policy, the checkpoint writer.</summary>
public sealed class LearnerPartsTests : ActorTestKit
{
    [Fact]
    public void A_round_completes_when_every_live_worker_sent_one_valid_rollout_and_is_ordered_by_worker_id()
    {
        var round = new RoundCoordinator();
        IActorRef a = CreateTestProbe().Ref, b = CreateTestProbe().Ref, stranger = CreateTestProbe().Ref;
        Assert.True(round.Register(a, new RegisterWorker(1, 2)));
        Assert.True(round.Register(b, new RegisterWorker(0, 2)));
        Assert.False(round.Register(b, new RegisterWorker(0, 2)));
        Assert.Equal([b, a], round.InIdOrder);

        Assert.Contains("unregistered", round.Offer(stranger, Fixtures.Rollout(5, 0), 0, _ => null));
        Assert.Contains("version 3", round.Offer(a, Fixtures.Rollout(1, 3), 0, _ => null));
        Assert.Contains("worker id 0 differs", round.Offer(a, Fixtures.Rollout(0, 0), 0, _ => null));
        Assert.Equal("bad", round.Offer(a, Fixtures.Rollout(1, 0), 0, _ => "bad"));
        Assert.Null(round.Offer(a, Fixtures.Rollout(1, 0), 0, _ => null));
        Assert.Contains("already sent", round.Offer(a, Fixtures.Rollout(1, 0), 0, _ => null));
        Assert.Null(round.TakeBatch());

        Assert.Null(round.Offer(b, Fixtures.Rollout(0, 0), 0, _ => null));
        var batch = round.TakeBatch();
        Assert.Equal([0, 1], batch!.Select(r => r.WorkerId));
        Assert.Null(round.TakeBatch());
    }

    [Fact]
    public void A_worker_that_leaves_or_registers_again_takes_its_rollout_out_of_the_round()
    {
        var round = new RoundCoordinator();
        IActorRef a = CreateTestProbe().Ref, b = CreateTestProbe().Ref;
        round.Register(a, new RegisterWorker(0, 2));
        round.Register(b, new RegisterWorker(1, 2));
        round.Offer(a, Fixtures.Rollout(0, 0), 0, _ => null);
        round.Register(a, new RegisterWorker(0, 2));
        Assert.False(round.HasSent(a));
        round.Offer(b, Fixtures.Rollout(1, 0), 0, _ => null);
        Assert.Equal(1, round.Remove(b)!.WorkerId);
        Assert.Null(round.Remove(b));
        Assert.Null(round.TakeBatch());
        round.Offer(a, Fixtures.Rollout(0, 0), 0, _ => null);
        Assert.Single(round.TakeBatch()!);
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
