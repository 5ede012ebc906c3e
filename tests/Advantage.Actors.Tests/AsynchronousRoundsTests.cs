using Advantage.Environments;
using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Actors.Tests;

/// <summary>
/// Asynchronous rounds (IMPALA): the learner updates on whatever B rollouts arrived, drops the too old, and
/// acknowledges each worker's rollouts so it may run ahead by a bounded number; workers collect without waiting.
/// </summary>
public sealed class AsynchronousRoundsTests : ActorTestKit
{
    private static ImpalaOptions Impala => new ImpalaOptions().WithRolloutLength(Fixtures.Steps).WithHiddenSizes([8]).WithSeed(7).WithWorkers(2);

    private static Rollout Behaved(int workerId, long version) =>
        Fixtures.Rollout(workerId, version) with { BehaviourLogProbs = Enumerable.Repeat(-0.69f, Fixtures.Steps * 2).ToArray() };

    private (IActorRef Learner, Task<TrainingResult> Completion) StartLearner(ImpalaOptions algorithm)
    {
        var options = Fixtures.Training.WithAlgorithm(algorithm);
        var completion = new TaskCompletionSource<TrainingResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        AdvantageConfig.Install(Sys);
        var learner = Sys.ActorOf(LearnerActor.Props(options, Learners.Create(options.Algorithm, Fixtures.Spec), null, completion));
        return (learner, completion.Task);
    }

    private static string? Offer(IRoundPolicy round, IActorRef worker, Rollout rollout, long version) =>
        round.Offer(worker, new RolloutCollected(rollout), version, started: false).Problem;

    private static AsynchronousRoundPolicy Policy(Func<Rollout, string?> validate) =>
        new(new WorkerRoster(), new AsynchronousRounds(BatchRollouts: 2, MaxLag: 3, InFlight: 2), validate);

    [Fact]
    public void The_policy_queues_recent_rollouts_in_arrival_order_and_acknowledges_what_it_takes()
    {
        string? contents = null;
        var round = Policy(_ => contents);
        IActorRef a = CreateTestProbe().Ref, b = CreateTestProbe().Ref, stranger = CreateTestProbe().Ref;
        round.Register(a, new RegisterWorker(0, 2));
        round.Register(b, new RegisterWorker(1, 2));

        Assert.Contains("unregistered", Offer(round, stranger, Behaved(5, 10), 10));
        Assert.Contains("ahead of the learner's 10", Offer(round, a, Behaved(0, 11), 10));
        Assert.Contains("4 versions old, more than MaxLag = 3", Offer(round, a, Behaved(0, 6), 10));
        Assert.Contains("worker id 1 differs", Offer(round, a, Behaved(1, 10), 10));
        Assert.Contains("no BehaviourLogProbs", Offer(round, a, Fixtures.Rollout(0, 10), 10));
        contents = "bad";
        Assert.Equal("bad", Offer(round, a, Behaved(0, 10), 10));
        contents = null;

        // One worker may have several queued; the batch is the first B in arrival order, whoever sent them.
        Assert.Null(Offer(round, a, Behaved(0, 7), 10));
        Assert.Null(Offer(round, a, Behaved(0, 9), 10));
        Assert.Null(Offer(round, b, Behaved(1, 10), 10));
        Assert.Equal(3, round.Arrived);
        var batch = round.TakeBatch();
        Assert.Equal([7L, 9L], batch!.Select(r => r.Version));
        var parameters = new Parameters(10, [1f]);
        Assert.Equal(2, round.For(a, parameters).Acknowledged);
        Assert.Same(parameters, round.For(a, parameters));
        Assert.Same(parameters, round.For(b, parameters));
        Assert.Equal(1, round.Arrived);
        Assert.Null(round.TakeBatch());
    }

    [Fact]
    public void A_dropped_rollout_is_acknowledged_once_rounds_run_a_late_one_quietly_and_its_lag_is_reported()
    {
        var round = Policy(r => r.Rewards.Length > 0 && float.IsInfinity(r.Rewards[0]) ? "non-finite" : null);
        IActorRef a = CreateTestProbe().Ref;
        round.Register(a, new RegisterWorker(0, 2));

        Assert.Equal(new RolloutVerdict("it is 4 versions old, more than MaxLag = 3", Late: true), round.Offer(a, new RolloutCollected(Behaved(0, 6)), 10, started: false));
        Assert.Equal(new RolloutVerdict("it is 5 versions old, more than MaxLag = 3", Late: true, Resend: true), round.Offer(a, new RolloutCollected(Behaved(0, 5)), 10, started: true));
        var bad = Behaved(0, 10) with { Rewards = Enumerable.Repeat(float.PositiveInfinity, Fixtures.Steps * 2).ToArray() };
        Assert.Equal(new RolloutVerdict("non-finite", Resend: true, Refusal: "non-finite"), round.Offer(a, new RolloutCollected(bad), 10, started: true));
        Assert.Equal(2, round.For(a, new Parameters(10, [1f])).Acknowledged);

        round.Offer(a, new RolloutCollected(Behaved(0, 8)) { WorkerState = [1] }, 10, started: true);
        round.Offer(a, new RolloutCollected(Behaved(0, 10)), 10, started: true);
        var batch = round.TakeBatch()!;
        var extra = round.Describe(new UpdateMetrics(0, 0, 0, 0, 0, 1), batch, 10).Extra;
        Assert.Equal((1.0, 2.0, 2.0), (extra["lag_mean"], extra["lag_max"], extra["stale_dropped"]));
        Assert.Null(round.SavedWorkerStates(11));
    }

    [Fact]
    public void Taking_the_rollout_of_a_departed_worker_does_not_bring_its_acknowledgements_back()
    {
        var round = Policy(_ => null);
        IActorRef gone = CreateTestProbe().Ref, live = CreateTestProbe().Ref;
        round.Register(gone, new RegisterWorker(0, 2));
        round.Register(live, new RegisterWorker(1, 2));
        Assert.Null(Offer(round, gone, Behaved(0, 10), 10));
        Assert.Null(Offer(round, live, Behaved(1, 10), 10));
        round.Remove(gone);

        // The departed worker's rollout is still experience of the current policy and goes into the batch, but the
        // policy keeps nothing for the dead actor: no acknowledgement entry that nobody would ever take.
        Assert.Equal(2, round.TakeBatch()!.Length);
        Assert.Equal(1, round.AcknowledgementEntries);
        var parameters = new Parameters(11, [1f]);
        Assert.Same(parameters, round.For(gone, parameters));
        Assert.Equal(1, round.For(live, parameters).Acknowledged);
        Assert.Equal(0, round.AcknowledgementEntries);
    }

    [Fact]
    public void The_algorithms_options_choose_the_round_policy()
    {
        Assert.IsType<AsynchronousRoundPolicy>(RoundPolicy.For(Impala, _ => null));
        Assert.IsType<SynchronousRoundPolicy>(RoundPolicy.For(Fixtures.Options, _ => null));
        Assert.IsType<SynchronousRoundPolicy>(RoundPolicy.For(new PpoOptions(), _ => null));
    }

    [Fact]
    public void A_rollout_with_bad_contents_is_acknowledged_and_refused_so_its_worker_restarts_while_a_late_one_is_only_acknowledged()
    {
        var (learner, _) = StartLearner(Impala.WithWorkers(1));
        var worker = CreateTestProbe();
        worker.Send(learner, new RegisterWorker(0, 2));
        worker.ExpectMsg<Parameters>();

        var bad = Behaved(0, 0) with { Rewards = Enumerable.Repeat(float.PositiveInfinity, Fixtures.Steps * 2).ToArray() };
        worker.Send(learner, new RolloutCollected(bad));
        Assert.Equal(1, worker.ExpectMsg<Parameters>().Acknowledged);
        Assert.Contains("Rewards contain a non-finite number (Infinity) at step 0 of environment slot 0", worker.ExpectMsg<RolloutRefused>().Reason);

        worker.Send(learner, new RolloutCollected(Behaved(0, 5))); // ahead of the learner: not the worker's environments' fault
        Assert.Equal(1, worker.ExpectMsg<Parameters>().Acknowledged);
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task The_learner_updates_on_B_rollouts_from_one_worker_without_waiting_for_the_other()
    {
        var (learner, _) = StartLearner(Impala);
        var fast = CreateTestProbe();
        var slow = CreateTestProbe();
        fast.Send(learner, new RegisterWorker(0, 2));
        slow.Send(learner, new RegisterWorker(1, 2));
        Assert.Equal(0, fast.ExpectMsg<Parameters>().Version);
        slow.ExpectMsg<Parameters>();

        fast.Send(learner, new RolloutCollected(Behaved(0, 0)));
        fast.Send(learner, new RolloutCollected(Behaved(0, 0)));
        // B = 2 (one per worker by default) arrived, both from the fast worker: an update, and version 1 to everyone,
        // with the fast worker told its two rollouts are taken.
        var toFast = fast.ExpectMsg<Parameters>();
        var toSlow = slow.ExpectMsg<Parameters>();
        Assert.Equal((1L, 2), (toFast.Version, toFast.Acknowledged));
        Assert.Equal((1L, 0), (toSlow.Version, toSlow.Acknowledged));

        // The slow worker's rollout of version 0 is one version old: still taken, with the fast worker's next one.
        slow.Send(learner, new RolloutCollected(Behaved(1, 0)));
        fast.Send(learner, new RolloutCollected(Behaved(0, 1)));
        var second = slow.ExpectMsg<Parameters>();
        Assert.Equal((2L, 1), (second.Version, second.Acknowledged));
        var alsoToFast = fast.ExpectMsg<Parameters>();
        Assert.Equal((2L, 1), (alsoToFast.Version, alsoToFast.Acknowledged));
        var progress = await learner.Ask<TrainingProgress>(GetProgress.Instance, TimeSpan.FromSeconds(30));
        Assert.Equal(2, progress.Version);
        Assert.Equal(4 * Fixtures.Steps * 2, progress.Steps);
        Assert.Equal(0, progress.RejectedRollouts);
        // One rollout one version behind, one current.
        Assert.Equal(0.5, progress.LastUpdate!.Extra["lag_mean"], 1e-12);
        Assert.Equal(1.0, progress.LastUpdate.Extra["lag_max"]);
        Assert.Contains("ratio_mean", progress.LastUpdate.Extra.Keys);
    }

    [Fact]
    public async Task Rollouts_older_than_max_lag_or_without_behaviour_log_probabilities_are_dropped_counted_and_acknowledged()
    {
        var (learner, _) = StartLearner(Impala.WithWorkers(1).WithMaxLag(1).WithBatchRollouts(1));
        var worker = CreateTestProbe();
        worker.Send(learner, new RegisterWorker(0, 2));
        worker.ExpectMsg<Parameters>();
        for (long v = 0; v < 3; v++)
        {
            worker.Send(learner, new RolloutCollected(Behaved(0, v)));
            Assert.Equal(v + 1, worker.ExpectMsg<Parameters>().Version);
        }

        // Version 3 now: a rollout of version 1 is two versions old.
        worker.Send(learner, new RolloutCollected(Behaved(0, 1)));
        var answer = worker.ExpectMsg<Parameters>();
        Assert.Equal((3L, 1), (answer.Version, answer.Acknowledged));
        worker.Send(learner, new RolloutCollected(Fixtures.Rollout(0, 3)));
        var refused = worker.ExpectMsg<Parameters>();
        Assert.Equal((3L, 1), (refused.Version, refused.Acknowledged));
        worker.Send(learner, new RolloutCollected(Behaved(0, 2)));
        var progress = await learner.Ask<TrainingProgress>(GetProgress.Instance, TimeSpan.FromSeconds(30));
        Assert.Equal(2, progress.RejectedRollouts);
        Assert.Equal(4, progress.Version);
        Assert.Equal(1.0, progress.LastUpdate!.Extra["stale_dropped"]);
    }

    [Fact]
    public void A_worker_collects_without_waiting_until_its_unacknowledged_rollouts_reach_its_allowance()
    {
        AdvantageConfig.Install(Sys);
        var learner = CreateTestProbe();
        var settings = new WorkerSettings(2, 11, Fixtures.Steps, 4, "CartPole-v1", () => EnvironmentRegistry.Builtin.Make("CartPole-v1"), Fixtures.Spec) { Ahead = 3 };
        var worker = Sys.ActorOf(WorkerActor.Props(settings, learner.Ref));
        learner.ExpectMsg<RegisterWorker>();
        var values = new float[4 * 8 + 8 + 8 * 2 + 2 + 8 + 1];
        learner.Send(worker, new Parameters(4, values));
        for (int i = 0; i < 3; i++)
        {
            var rollout = learner.ExpectMsg<RolloutCollected>().Data;
            Assert.Equal(4, rollout.Version);
            Assert.Null(rollout.Problem(Fixtures.Steps, 4, 1));
            // Zero weights: both actions are equally likely, and the worker says so.
            Assert.All(rollout.BehaviourLogProbs, l => Assert.Equal(Math.Log(0.5), l, 1e-6));
        }
        learner.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        // Two taken: two more, with the newer parameters.
        learner.Send(worker, new Parameters(9, values) { Acknowledged = 2 });
        Assert.Equal(9, learner.ExpectMsg<RolloutCollected>().Data.Version);
        Assert.Equal(9, learner.ExpectMsg<RolloutCollected>().Data.Version);
        learner.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_seeded_IMPALA_run_solves_CartPole_in_one_process()
    {
        var options = new TrainingOptions
        {
            Algorithm = ImpalaPresets.For("CartPole-v1").WithSeed(1),
            MaxSteps = 500_000,
            TargetMeanReturn = 475,
        };
        var run = Training.Start(Sys, options);
        var result = await run.Completion.WaitAsync(TimeSpan.FromMinutes(3));
        Assert.True(result.Solved, $"Not solved: {result.Reason} after {result.Progress.Steps} steps, mean return {result.Progress.MeanReturn:F1}");
        Assert.Equal(StopReason.TargetReached, result.Reason);
        Assert.Contains("lag_mean", result.Progress.LastUpdate!.Extra.Keys);
    }
}
