using Advantage.Learning;
using Akka.Actor;
using Akka.TestKit.Xunit2;

namespace Advantage.Actors.Tests;

public class LearnerActorTests : ActorTestKit
{
    private (IActorRef Learner, Task<TrainingResult> Completion) StartLearner(TrainingOptions? options = null)
    {
        var o = options ?? Fixtures.Training;
        var completion = new TaskCompletionSource<TrainingResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var algorithm = Learners.Create(o.Algorithm, Fixtures.Spec);
        AdvantageConfig.Install(Sys);
        var learner = Sys.ActorOf(LearnerActor.Props(o, algorithm, null, completion));
        return (learner, completion.Task);
    }

    [Fact]
    public void A_registered_worker_receives_the_current_parameters()
    {
        var (learner, _) = StartLearner();
        var worker = CreateTestProbe();
        worker.Send(learner, new RegisterWorker(0, 2));
        var parameters = worker.ExpectMsg<Parameters>();
        Assert.Equal(0, parameters.Version);
        Assert.Equal(4 * 8 + 8 + 8 * 2 + 2 + 8 + 1, parameters.Values.Length);
    }

    [Fact]
    public async Task A_round_waits_for_every_worker_then_sends_version_plus_one_to_all()
    {
        var (learner, _) = StartLearner();
        var w0 = CreateTestProbe();
        var w1 = CreateTestProbe();
        w0.Send(learner, new RegisterWorker(0, 2));
        w1.Send(learner, new RegisterWorker(1, 2));
        var initial = w0.ExpectMsg<Parameters>();
        w1.ExpectMsg<Parameters>();

        w0.Send(learner, new RolloutCollected(Fixtures.Rollout(0, 0)));
        w0.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        w1.Send(learner, new RolloutCollected(Fixtures.Rollout(1, 0)));

        var next0 = w0.ExpectMsg<Parameters>();
        var next1 = w1.ExpectMsg<Parameters>();
        Assert.Equal(1, next0.Version);
        Assert.Equal(1, next1.Version);
        Assert.NotEqual(initial.Values, next0.Values);
        var progress = await learner.Ask<TrainingProgress>(GetProgress.Instance, TimeSpan.FromSeconds(30));
        Assert.Equal(2 * Fixtures.Steps * 2, progress.Steps);
        Assert.Equal(2, progress.Episodes);
        Assert.Equal(1, progress.Version);
    }

    [Fact]
    public async Task A_worker_that_dies_mid_round_shrinks_the_round_instead_of_stalling_it()
    {
        var (learner, _) = StartLearner();
        var w0 = CreateTestProbe();
        var w1 = CreateTestProbe();
        w0.Send(learner, new RegisterWorker(0, 2));
        w1.Send(learner, new RegisterWorker(1, 2));
        w0.ExpectMsg<Parameters>();
        w1.ExpectMsg<Parameters>();

        w0.Send(learner, new RolloutCollected(Fixtures.Rollout(0, 0)));
        Watch(w1.Ref);
        Sys.Stop(w1.Ref);
        ExpectTerminated(w1.Ref);

        Assert.Equal(1, w0.ExpectMsg<Parameters>().Version);
        var progress = await learner.Ask<TrainingProgress>(GetProgress.Instance, TimeSpan.FromSeconds(30));
        Assert.Equal(1, progress.Workers);
    }

    [Fact]
    public async Task Malformed_non_finite_stale_and_duplicate_rollouts_are_rejected_and_counted_never_applied()
    {
        var (learner, _) = StartLearner();
        var w0 = CreateTestProbe();
        w0.Send(learner, new RegisterWorker(0, 2));
        var initial = w0.ExpectMsg<Parameters>();

        var good = Fixtures.Rollout(0, 0);
        var wrongShape = good with { Observations = new float[3] };
        var nonFinite = good with { Rewards = good.Rewards.Select((r, i) => i == 1 ? float.NaN : r).ToArray() };
        var wrongSteps = Fixtures.Rollout(0, 0) with { Steps = Fixtures.Steps + 1 };
        w0.Send(learner, new RolloutCollected(wrongShape));
        w0.Send(learner, new RolloutCollected(nonFinite));
        w0.Send(learner, new RolloutCollected(wrongSteps));
        // Each bad rollout of the round is refused back to its worker (a WorkerActor restarts on it); none is applied.
        Assert.Contains("Observations has 3 floats", w0.ExpectMsg<RolloutRefused>().Reason);
        Assert.Contains("Rewards contain a non-finite number (NaN) at step 0 of environment slot 1", w0.ExpectMsg<RolloutRefused>().Reason);
        Assert.Contains($"Steps = {Fixtures.Steps + 1}", w0.ExpectMsg<RolloutRefused>().Reason);
        w0.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        var stranger = CreateTestProbe();
        stranger.Send(learner, new RolloutCollected(good));

        var progress = await learner.Ask<TrainingProgress>(GetProgress.Instance, TimeSpan.FromSeconds(30));
        Assert.Equal(4, progress.RejectedRollouts);
        Assert.Equal(0, progress.Version);
        Assert.Equal(0, progress.Steps);

        // The worker's good rollout still completes the round: nothing bad was half-applied.
        w0.Send(learner, new RolloutCollected(good));
        var next = w0.ExpectMsg<Parameters>();
        Assert.Equal(1, next.Version);
        Assert.NotEqual(initial.Values, next.Values);

        // A rollout of the old version is stale now; the worker gets the current parameters back.
        w0.Send(learner, new RolloutCollected(good));
        Assert.Equal(1, w0.ExpectMsg<Parameters>().Version);
        progress = await learner.Ask<TrainingProgress>(GetProgress.Instance, TimeSpan.FromSeconds(30));
        Assert.Equal(5, progress.RejectedRollouts);
        Assert.Equal(1, progress.Version);
    }

    [Fact]
    public async Task The_run_completes_when_the_step_budget_is_spent()
    {
        var (learner, completion) = StartLearner(Fixtures.Training.WithMaxSteps(2 * Fixtures.Steps * 2));
        var w0 = CreateTestProbe();
        w0.Send(learner, new RegisterWorker(0, 2));
        w0.ExpectMsg<Parameters>();
        w0.Send(learner, new RolloutCollected(Fixtures.Rollout(0, 0)));
        w0.ExpectMsg<Parameters>();
        w0.Send(learner, new RolloutCollected(Fixtures.Rollout(0, 1)));
        var result = await completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(StopReason.StepBudgetExhausted, result.Reason);
        Assert.Equal(12, result.Progress.Steps);
        Assert.False(result.Solved);
    }

    [Fact]
    public async Task Stop_ends_the_run_with_the_current_parameters()
    {
        var (learner, completion) = StartLearner();
        learner.Tell(StopTraining.Instance);
        var result = await completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(StopReason.Stopped, result.Reason);
        Assert.Equal(Fixtures.Spec, result.Spec);
    }

    [Fact]
    public void Observation_statistics_learned_by_the_learner_travel_to_workers_with_the_parameters()
    {
        var options = Fixtures.Training.WithAlgorithm(Fixtures.Options.WithNormalizeObservations(true));
        var (learner, _) = StartLearner(options);
        var w0 = CreateTestProbe();
        w0.Send(learner, new RegisterWorker(0, 2));
        var initial = w0.ExpectMsg<Parameters>().ObservationStatistics!;
        Assert.Equal(1e-4, initial.Count);
        w0.Send(learner, new RolloutCollected(Fixtures.Rollout(0, 0)));
        var next = w0.ExpectMsg<Parameters>().ObservationStatistics!;
        Assert.Equal(1e-4 + Fixtures.Steps * 2, next.Count, 9);
        Assert.Equal(Fixtures.ObservationSize, next.Mean.Length);
    }

    [Fact]
    public void In_one_process_the_first_round_waits_for_every_configured_worker()
    {
        var (learner, _) = StartLearner(Fixtures.Training.WithAlgorithm(Fixtures.Options.WithWorkers(2)));
        var w1 = CreateTestProbe();
        var w0 = CreateTestProbe();
        w1.Send(learner, new RegisterWorker(1, 2));
        w1.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        w0.Send(learner, new RegisterWorker(0, 2));
        Assert.Equal(0, w0.ExpectMsg<Parameters>().Version);
        Assert.Equal(0, w1.ExpectMsg<Parameters>().Version);
    }
}
