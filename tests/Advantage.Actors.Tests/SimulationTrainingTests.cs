using Advantage.Actors.Simulation;
using Advantage.Environments;
using Advantage.Learning;
using Akka.Actor;
using Akka.TestKit;

namespace Advantage.Actors.Tests;

/// <summary>
/// An entity of a user's simulation, as an actor: it owns one CartPole, asks its gateway for each action and reports what
/// followed. Nothing in it blocks; the gateway's replies drive it.
/// </summary>
internal sealed class CartPoleStream : ReceiveActor
{
    private readonly IEnvironment env = EnvironmentRegistry.Builtin.Make("CartPole-v1");
    private readonly float[] observation = new float[4];

    public CartPoleStream(IActorRef gateway, int stream, int seed)
    {
        env.Reset(seed, observation);
        gateway.Tell(new Decide(stream, (float[])observation.Clone()));
        Receive<Decision>(decision =>
        {
            var result = env.Step(decision.Action, observation);
            float[]? final = result.Truncated && !result.Terminated ? (float[])observation.Clone() : null;
            gateway.Tell(new Outcome(stream, result.Reward, result.Terminated, result.Truncated, final));
            if (result.IsFinished) env.Reset(null, observation);
            gateway.Tell(new Decide(stream, (float[])observation.Clone()));
        });
    }
}

public sealed class SimulationTrainingTests : ActorTestKit
{
    private static readonly Learning.Networks.NetworkSpec Spec = Fixtures.Spec; // 4 observations, 2 actions

    private IActorRef Collector(IActorRef learner, int streams, int steps = 3, TimeSpan? timeout = null, int ahead = 0, bool runAhead = false)
    {
        AdvantageConfig.Install(Sys);
        return Sys.ActorOf(SimulationCollector.Props(new CollectorSettings(0, streams, steps, Spec, 5, timeout ?? TimeSpan.Zero, ahead, null, runAhead), learner));
    }

    private static float[] Obs(float v) => [v, v, v, v];

    private static Parameters Initial()
    {
        using var policy = new Policy(Spec, 1, 0);
        return new Parameters(0, new float[policy.ParameterCount]);
    }

    private async Task<TrainingResult> SolveCartPole(AlgorithmOptions algorithm)
    {
        var options = new TrainingOptions { Algorithm = algorithm, MaxSteps = 1_000_000, TargetMeanReturn = 475 };
        var run = SimulationTraining.Start(Sys, options, new SimulationOptions { Simulations = 2, StreamsPerSimulation = 16 });
        for (int g = 0; g < run.Gateways.Count; g++)
            for (int s = 0; s < 16; s++)
            {
                int gateway = g, stream = s;
                Sys.ActorOf(Props.Create(() => new CartPoleStream(run.Gateways[gateway], stream, 1000 * gateway + stream)));
            }
        return await run.Completion.WaitAsync(TimeSpan.FromMinutes(5));
    }

    [Fact]
    public async Task CartPole_driven_by_32_stream_actors_solves_with_A2C_within_1M_steps()
    {
        var result = await SolveCartPole(A2CPresets.For("CartPole-v1").WithSeed(1));
        Assert.True(result.Solved, $"Not solved: {result.Reason} after {result.Progress.Steps} steps, mean return {result.Progress.MeanReturn:F1}");
        Assert.True(result.Progress.MeanReturn >= 475);
        Assert.Equal(0, result.Progress.RejectedRollouts);
    }

    [Fact]
    public async Task CartPole_driven_by_32_stream_actors_solves_with_IMPALA_within_1M_steps()
    {
        var result = await SolveCartPole(ImpalaPresets.For("CartPole-v1").WithSeed(1));
        Assert.True(result.Solved, $"Not solved: {result.Reason} after {result.Progress.Steps} steps, mean return {result.Progress.MeanReturn:F1}");
        Assert.Contains("lag_mean", result.Progress.LastUpdate!.Extra.Keys);
    }

    [Fact]
    public void A_decision_waits_for_the_first_parameters_then_is_answered()
    {
        var learner = CreateTestProbe();
        var collector = Collector(learner, 1);
        learner.ExpectMsg<RegisterWorker>(r => Assert.Equal(1, r.Environments));
        collector.Tell(new Decide(0, Obs(0.1f)));
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        collector.Tell(Initial(), learner);
        var decision = ExpectMsg<Decision>();
        Assert.Equal(0, decision.Stream);
        Assert.InRange(decision.Index, 0, 1);
    }

    [Fact]
    public void Episodes_that_end_mid_rollout_are_flagged_and_truncation_keeps_its_final_observation()
    {
        var learner = CreateTestProbe();
        var collector = Collector(learner, 1);
        learner.ExpectMsg<RegisterWorker>();
        collector.Tell(Initial(), learner);
        collector.Tell(new Decide(0, Obs(0f)));
        ExpectMsg<Decision>();
        collector.Tell(new Outcome(0, 1.0, Terminated: true));
        collector.Tell(new Decide(0, Obs(1f)));
        ExpectMsg<Decision>();
        collector.Tell(new Outcome(0, 2.0));
        collector.Tell(new Decide(0, Obs(2f)));
        ExpectMsg<Decision>();
        collector.Tell(new Outcome(0, 3.0, Truncated: true, FinalObservation: Obs(9f)));
        collector.Tell(new Decide(0, Obs(3f)));
        var rollout = learner.ExpectMsg<RolloutCollected>().Data;
        Assert.Null(rollout.Problem(3, 4, 1));
        Assert.Equal([true, false, false], rollout.Terminated);
        Assert.Equal([false, false, true], rollout.Truncated);
        Assert.Equal([2], rollout.FinalObservationIndices);
        Assert.Equal(Obs(9f), rollout.FinalObservations);
        Assert.Equal([1.0, 5.0], rollout.EpisodeReturns);
        Assert.Equal([1, 2], rollout.EpisodeLengths);
        Assert.Equal([1f, 2f, 3f], rollout.Rewards);
        Assert.Equal(Obs(3f), rollout.Observations[12..]); // the bootstrap row
        Assert.Empty(rollout.BehaviourLogProbs); // synchronous rounds do not need them
        // The stream whose column is full waits for the next round's parameters; then its observation is row 0.
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        collector.Tell(new Parameters(1, Initial().Values), learner);
        Assert.Equal(1, ExpectMsg<Decision>().Version);
    }

    [Fact]
    public void With_run_ahead_a_full_stream_acts_on_into_the_next_rollout_which_starts_with_those_steps()
    {
        var learner = CreateTestProbe();
        var collector = Collector(learner, 2, steps: 2, runAhead: true);
        learner.ExpectMsg<RegisterWorker>();
        collector.Tell(Initial(), learner);
        var slow = CreateTestProbe();
        collector.Tell(new Decide(1, Obs(-1f)), slow);
        slow.ExpectMsg<Decision>();
        // Stream 0 takes 3 steps (one more than T) while stream 1 is still at its first: nothing waits for the round.
        for (int step = 0; step < 3; step++)
        {
            collector.Tell(new Decide(0, Obs(step)));
            Assert.Equal(0, ExpectMsg<Decision>().Version);
            collector.Tell(new Outcome(0, step + 1.0, Terminated: step == 2));
        }
        collector.Tell(new Decide(0, Obs(3f)));
        ExpectMsg<Decision>();
        learner.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        collector.Tell(new Outcome(1, 10.0), slow);
        collector.Tell(new Decide(1, Obs(-2f)), slow);
        slow.ExpectMsg<Decision>();
        collector.Tell(new Outcome(1, 20.0), slow);
        collector.Tell(new Decide(1, Obs(-3f)), slow);
        var first = learner.ExpectMsg<RolloutCollected>().Data;
        Assert.Equal([1f, 10f, 2f, 20f], first.Rewards);
        Assert.Empty(first.EpisodeReturns); // stream 0's episode ended at its third step: the next rollout's
        Assert.Equal(Obs(2f).Concat(Obs(-3f)), first.Observations[16..]);
        slow.ExpectMsg<Decision>(); // run ahead too, with version 0
        collector.Tell(new Parameters(1, Initial().Values), learner);
        collector.Tell(new Outcome(0, 4.0));
        collector.Tell(new Decide(0, Obs(5f)));
        collector.Tell(new Outcome(1, 30.0), slow);
        collector.Tell(new Decide(1, Obs(-4f)), slow);
        Assert.Equal(1, slow.ExpectMsg<Decision>().Version);
        collector.Tell(new Outcome(1, 40.0), slow);
        collector.Tell(new Decide(1, Obs(-5f)), slow);
        var second = learner.ExpectMsg<RolloutCollected>().Data;
        Assert.Null(second.Problem(2, 4, 1));
        Assert.Equal(1, second.Version);
        Assert.Equal([3f, 30f, 4f, 40f], second.Rewards);
        Assert.Equal([true, false, false, false], second.Terminated);
        Assert.Equal([6.0], second.EpisodeReturns);
    }

    [Fact]
    public void An_outcome_for_an_action_never_asked_for_is_refused_and_counted()
    {
        var learner = CreateTestProbe();
        var collector = Collector(learner, 2);
        learner.ExpectMsg<RegisterWorker>();
        collector.Tell(Initial(), learner);
        collector.Tell(new Outcome(1, 1.0));
        Assert.Contains("no action awaiting an outcome", ExpectMsg<OutcomeRefused>().Reason);
        collector.Tell(new Outcome(5, 1.0));
        Assert.Contains("Stream = 5 is outside [0, 1]", ExpectMsg<OutcomeRefused>().Reason);
        collector.Tell(new Decide(0, [1f, 2f]));
        Assert.Contains("Observation has 2 floats; expected 4", ExpectMsg<DecisionRefused>().Reason);
        collector.Tell(new Decide(0, [1f, float.NaN, 0f, 0f]));
        Assert.Contains("non-finite", ExpectMsg<DecisionRefused>().Reason);
        collector.Tell(new Decide(0, Obs(0f)));
        ExpectMsg<Decision>();
        collector.Tell(new Outcome(0, 1.0, Truncated: true));
        Assert.Contains("FinalObservation is null", ExpectMsg<OutcomeRefused>().Reason);
        collector.Tell(GetSimulationStatistics.Instance);
        var statistics = ExpectMsg<SimulationStatistics>();
        Assert.Equal(3, statistics.RefusedOutcomes);
        Assert.Equal(2, statistics.RefusedDecisions);
        Assert.Equal(0, statistics.Steps);
    }

    [Fact]
    public void A_silent_stream_is_dropped_after_the_timeout_counted_and_the_rollout_goes_on_without_it()
    {
        var learner = CreateTestProbe();
        var collector = Collector(learner, 2, timeout: TimeSpan.FromMilliseconds(200));
        learner.ExpectMsg<RegisterWorker>();
        collector.Tell(Initial(), learner);
        var silentOne = CreateTestProbe();
        collector.Tell(new Decide(1, Obs(5f)), silentOne); // asks once, never reports
        silentOne.ExpectMsg<Decision>();
        for (int step = 0; step < 3; step++)
        {
            collector.Tell(new Decide(0, Obs(step)));
            ExpectMsg<Decision>();
            collector.Tell(new Outcome(0, 1.0));
        }
        collector.Tell(new Decide(0, Obs(3f)));
        var rollout = learner.ExpectMsg<RolloutCollected>(TimeSpan.FromSeconds(10)).Data;
        Assert.Equal(1, rollout.Environments);
        Assert.Null(rollout.Problem(3, 4, 1));
        collector.Tell(GetSimulationStatistics.Instance);
        var statistics = ExpectMsg<SimulationStatistics>();
        Assert.Equal(1, statistics.SilentStreams);
        Assert.Equal(0, statistics.DroppedSteps); // it had asked, never reported: no step of it was complete
        // It speaks again: it rejoins at the next rollout.
        collector.Tell(new Decide(1, Obs(6f)), silentOne);
        silentOne.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        collector.Tell(new Parameters(1, Initial().Values), learner);
        Assert.Equal(1, silentOne.ExpectMsg<Decision>().Version);
        Assert.Equal(1, ExpectMsg<Decision>().Version);
    }

    [Fact]
    public void A_stream_that_restarts_cuts_its_episode_as_truncated_and_is_counted()
    {
        var learner = CreateTestProbe();
        var collector = Collector(learner, 1);
        learner.ExpectMsg<RegisterWorker>();
        collector.Tell(Initial(), learner);
        collector.Tell(new Decide(0, Obs(0f)));
        ExpectMsg<Decision>();
        collector.Tell(new Outcome(0, 1.0));
        collector.Tell(new Decide(0, Obs(1f)));
        ExpectMsg<Decision>();
        // The simulation restarts: a new episode's first observation, the last action never reported.
        collector.Tell(new Decide(0, Obs(7f)));
        ExpectMsg<Decision>();
        collector.Tell(new Outcome(0, 1.0));
        collector.Tell(new Decide(0, Obs(8f)));
        ExpectMsg<Decision>();
        collector.Tell(new Outcome(0, 1.0, Terminated: true));
        collector.Tell(new Decide(0, Obs(9f)));
        var rollout = learner.ExpectMsg<RolloutCollected>().Data;
        Assert.Null(rollout.Problem(3, 4, 1));
        Assert.Equal([true, false, false], rollout.Truncated);
        Assert.Equal(Obs(1f), rollout.FinalObservations); // bootstrapped from the observation it never acted on
        Assert.Equal(Obs(7f), rollout.Observations[4..8]);
        Assert.Equal([2.0], rollout.EpisodeReturns); // the cut episode is not reported
        collector.Tell(GetSimulationStatistics.Instance);
        Assert.Equal(1, ExpectMsg<SimulationStatistics>().StreamRestarts);
    }

    [Fact]
    public void Asynchronous_rounds_record_behaviour_log_probabilities_and_go_on_without_waiting()
    {
        var learner = CreateTestProbe();
        var collector = Collector(learner, 2, steps: 1, ahead: 2);
        learner.ExpectMsg<RegisterWorker>();
        collector.Tell(Initial(), learner);
        var other = CreateTestProbe();
        collector.Tell(new Decide(0, Obs(0f)));
        collector.Tell(new Decide(1, Obs(0f)), other);
        ExpectMsg<Decision>();
        other.ExpectMsg<Decision>();
        collector.Tell(GetSimulationStatistics.Instance);
        Assert.Equal(1, ExpectMsg<SimulationStatistics>().ForwardPasses); // both pending decisions in one pass
        for (int round = 0; round < 2; round++)
        {
            collector.Tell(new Outcome(0, 1.0));
            collector.Tell(new Outcome(1, 1.0), other);
            collector.Tell(new Decide(0, Obs(1f)));
            collector.Tell(new Decide(1, Obs(1f)), other);
            var rollout = learner.ExpectMsg<RolloutCollected>().Data;
            Assert.Null(rollout.Problem(1, 4, 1));
            Assert.Equal(2, rollout.BehaviourLogProbs.Length);
            Assert.All(rollout.BehaviourLogProbs, p => Assert.InRange(p, -10f, 0f));
            if (round == 0)
            {
                // One rollout in flight of two allowed: the next starts at once.
                ExpectMsg<Decision>();
                other.ExpectMsg<Decision>();
            }
        }
        // Two unacknowledged: the streams wait until the learner acknowledges.
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        collector.Tell(new Parameters(1, Initial().Values) { Acknowledged = 1 }, learner);
        Assert.Equal(1, ExpectMsg<Decision>().Version);
    }
}
