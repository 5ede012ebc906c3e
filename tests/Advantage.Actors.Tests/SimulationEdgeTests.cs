using Advantage.Actors.Simulation;
using Advantage.Environments;
using Advantage.Learning;
using Akka.Actor;
using Akka.TestKit;

namespace Advantage.Actors.Tests;

/// <summary>
/// A simulation whose clock waits for every entity's decision each tick (lockstep), with one entity that decides every tick
/// and one that decides every tenth. Observations and rewards are made up; what matters is who waits for whom.
/// </summary>
internal sealed class LockstepSimulation : ReceiveActor
{
    public LockstepSimulation(IActorRef gateway, int slowEvery, StrongBoxCounter ticks)
        : this(gateway, 0, gateway, 1, slowEvery, ticks)
    {
    }

    /// <summary>The fast entity on one gateway's stream, the slow one on another's (the same gateway or another simulation's).</summary>
    public LockstepSimulation(IActorRef fastGateway, int fastStream, IActorRef slowGateway, int slowStream, int slowEvery, StrongBoxCounter ticks)
    {
        (IActorRef Gateway, int Stream)[] entities = [(fastGateway, fastStream), (slowGateway, slowStream)];
        long tick = 0;
        var deciders = new List<int>();
        int pending = 0;
        void Begin()
        {
            deciders.Clear();
            deciders.Add(0);
            if (tick % slowEvery == 0) deciders.Add(1);
            pending = deciders.Count;
            foreach (int entity in deciders) entities[entity].Gateway.Tell(new Decide(entities[entity].Stream, [tick % 7 / 7f, entity, 0f, 0f]));
        }
        Receive<Decision>(_ =>
        {
            if (--pending > 0) return;
            foreach (int entity in deciders) entities[entity].Gateway.Tell(new Outcome(entities[entity].Stream, 1.0));
            tick++;
            ticks.Increment();
            Begin();
        });
        Begin();
    }
}

/// <summary>A counter shared with an actor (ticks of a simulation).</summary>
internal sealed class StrongBoxCounter
{
    private long value;

    public long Value => Interlocked.Read(ref value);

    public void Increment() => Interlocked.Increment(ref value);
}

public sealed class SimulationEdgeTests : ActorTestKit
{
    private static readonly Learning.Networks.NetworkSpec Spec = Fixtures.Spec; // 4 observations, 2 actions

    private IActorRef Collector(IActorRef learner, CollectorSettings settings)
    {
        AdvantageConfig.Install(Sys);
        return Sys.ActorOf(SimulationCollector.Props(settings, learner));
    }

    private static float[] Obs(float v) => [v, v, v, v];

    private static Parameters Initial()
    {
        using var policy = new Policy(Spec, 1, 0);
        return new Parameters(0, new float[policy.ParameterCount]);
    }

    [Theory]
    [InlineData(SilentStreamHandling.Drop)]
    [InlineData(SilentStreamHandling.Bootstrap)]
    public void A_silent_streams_partial_column_is_dropped_or_kept_bootstrapped_from_its_last_observation_and_counted(SilentStreamHandling handling)
    {
        var learner = CreateTestProbe();
        // Generous: a stream the collector waits on is cut after this long, and the test's own steps must never be that slow.
        var collector = Collector(learner, new CollectorSettings(0, 2, 3, Spec, 5, TimeSpan.FromSeconds(3), 0, null) { SilentStreams = handling });
        learner.ExpectMsg<RegisterWorker>();
        collector.Tell(Initial(), learner);
        // Stream 1 takes two steps with stream 0, asks for a third action and goes silent; stream 0 completes its column.
        var slow = CreateTestProbe();
        for (int step = 0; step < 3; step++)
        {
            collector.Tell(new Decide(0, Obs(step)));
            ExpectMsg<Decision>();
            collector.Tell(new Outcome(0, 1.0));
            collector.Tell(new Decide(1, Obs(10 + step)), slow);
            slow.ExpectMsg<Decision>();
            if (step < 2) collector.Tell(new Outcome(1, 10.0 * (step + 1)), slow);
        }
        collector.Tell(new Decide(0, Obs(3f)));
        var first = learner.ExpectMsg<RolloutCollected>(TimeSpan.FromSeconds(10)).Data;
        Assert.Equal(1, first.Environments); // the rollout went on without the silent stream either way
        collector.Tell(GetSimulationStatistics.Instance);
        var statistics = ExpectMsg<SimulationStatistics>();
        Assert.Equal(1, statistics.SilentStreams);
        Assert.Equal(handling == SilentStreamHandling.Drop ? (2, 0) : (0, 2), (statistics.DroppedSteps, statistics.BootstrappedSteps));
        if (handling == SilentStreamHandling.Drop) return;

        // It speaks again (the outcome of its cut action comes late and is let go quietly): its column goes on after the kept steps.
        collector.Tell(new Outcome(1, 99.0), slow);
        slow.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        collector.Tell(new Decide(1, Obs(13f)), slow);
        collector.Tell(new Parameters(1, Initial().Values), learner);
        Assert.Equal(1, slow.ExpectMsg<Decision>().Version);
        collector.Tell(new Outcome(1, 40.0), slow);
        collector.Tell(new Decide(1, Obs(14f)), slow);
        for (int step = 0; step < 3; step++)
        {
            ExpectMsg<Decision>();
            collector.Tell(new Outcome(0, 1.0));
            collector.Tell(new Decide(0, Obs(4 + step)));
        }
        var second = learner.ExpectMsg<RolloutCollected>().Data;
        Assert.Null(second.Problem(3, 4, 1));
        Assert.Equal(2, second.Environments);
        float[] column1 = [second.Rewards[1], second.Rewards[3], second.Rewards[5]];
        Assert.Equal([10f, 20f, 40f], column1);
        Assert.Equal([false, true, false], new[] { second.Truncated[1], second.Truncated[3], second.Truncated[5] });
        // Bootstrapped from its last observation: the one it asked its unreported action for.
        Assert.Equal([3], second.FinalObservationIndices);
        Assert.Equal(Obs(12f), second.FinalObservations);
        int row2column1 = (2 * 2 + 1) * 4;
        Assert.Equal(Obs(13f), second.Observations[row2column1..(row2column1 + 4)]);
        collector.Tell(GetSimulationStatistics.Instance);
        Assert.Equal(0, ExpectMsg<SimulationStatistics>().RefusedOutcomes);
    }

    [Fact]
    public void Rewards_are_scaled_per_stream_by_its_running_discounted_return_and_episode_returns_stay_raw()
    {
        var learner = CreateTestProbe();
        var scaling = new RewardScalerOptions(0.9);
        var collector = Collector(learner, new CollectorSettings(0, 2, 3, Spec, 5, TimeSpan.Zero, 0, null) { RewardScaling = scaling });
        learner.ExpectMsg<RegisterWorker>();
        collector.Tell(Initial(), learner);
        double[][] rewards = [[1.0, 2.0, 5.0], [-3.0, 0.5, 4.0]];
        bool[][] ends = [[false, true, false], [false, false, false]];
        // Streams report one at a time, so each outcome is scaled (and folded into the statistics) as it comes, as a
        // single-environment scaler does: the same as RewardScaler.Scale(stream, ...) in the order of the outcomes.
        var expected = new RewardScaler(2, scaling);
        var scaled = new float[6];
        for (int step = 0; step < 3; step++)
        {
            for (int s = 0; s < 2; s++)
            {
                collector.Tell(new Decide(s, Obs(step)), TestActor);
                ExpectMsg<Decision>();
                collector.Tell(new Outcome(s, rewards[s][step], Terminated: ends[s][step]), TestActor);
                scaled[2 * step + s] = (float)expected.Scale(s, rewards[s][step], ends[s][step], false);
            }
        }
        collector.Tell(new Decide(0, Obs(3f)));
        collector.Tell(new Decide(1, Obs(3f)));
        var rollout = learner.ExpectMsg<RolloutCollected>().Data;
        // The same numbers a worker's scaler gives its environments (one return per column, reset when an episode ends).
        for (int i = 0; i < 6; i++) Assert.Equal(scaled[i], rollout.Rewards[i], 5);
        Assert.NotEqual(2f, rollout.Rewards[2]);
        Assert.Equal([3.0], rollout.EpisodeReturns); // raw: 1 + 2
    }

    [Fact]
    public async Task Simulation_training_normalises_rewards_when_the_algorithm_asks()
    {
        // Refused before this change (NormalizeRewards = true threw OptionsValidationException).
        var options = new TrainingOptions
        {
            Algorithm = new A2COptions().WithHiddenSizes([8]).WithRolloutLength(5).WithNormalizeRewards(true),
            MaxSteps = 1_000,
        };
        var run = SimulationTraining.Start(Sys, options, new SimulationOptions { Simulations = 1, StreamsPerSimulation = 4 });
        for (int s = 0; s < 4; s++)
        {
            int stream = s;
            Sys.ActorOf(Props.Create(() => new CartPoleStream(run.Gateways[0], stream, stream)));
        }
        var result = await run.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(StopReason.StepBudgetExhausted, result.Reason);
        Assert.Equal(0, result.Progress.RejectedRollouts);
        Assert.True(result.Progress.Episodes > 0);
    }

    private async Task<(bool Completed, SimulationStatistics Statistics, long Ticks)> Lockstep(TimeSpan roundTimeout, TimeSpan wait)
    {
        var options = new TrainingOptions { Algorithm = new A2COptions().WithHiddenSizes([8]).WithRolloutLength(5), MaxSteps = 150 };
        var run = SimulationTraining.Start(Sys, options, new SimulationOptions
        {
            Simulations = 1,
            StreamsPerSimulation = 2,
            StreamTimeout = TimeSpan.Zero, // never silent: only the round's own rule may end the wait
            RoundTimeout = roundTimeout,
        });
        var ticks = new StrongBoxCounter();
        Sys.ActorOf(Props.Create(() => new LockstepSimulation(run.Gateways[0], 10, ticks)));
        // The gateway stops with the run, so its counters are read while it runs: the last answer before the end is kept.
        var deadline = DateTime.UtcNow + wait;
        SimulationStatistics? statistics = null;
        while (!run.Completion.IsCompleted && DateTime.UtcNow < deadline)
        {
            try
            {
                statistics = await run.Gateways[0].Ask<SimulationStatistics>(GetSimulationStatistics.Instance, TimeSpan.FromSeconds(5));
            }
            catch (AskTimeoutException) when (run.Completion.IsCompleted)
            {
                break;
            }
            await Task.WhenAny(run.Completion, Task.Delay(100));
        }
        bool completed = run.Completion.IsCompleted;
        Assert.NotNull(statistics);
        if (!completed)
        {
            run.Stop();
            await run.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        }
        return (completed, statistics!, ticks.Value);
    }

    [Fact]
    public async Task Entities_that_decide_at_very_uneven_rates_in_lockstep_stall_a_synchronous_round_unless_the_round_timeout_cuts_the_slow_ones()
    {
        // Without a round timeout (and no stream timeout) this is a deadlock: the fast entity ran 2T steps ahead and waits for
        // the rollout, the rollout waits for the slow entity's column, the slow entity waits for the clock, the clock for the fast one.
        var stuck = await Lockstep(TimeSpan.Zero, TimeSpan.FromSeconds(3));
        Assert.False(stuck.Completed);
        Assert.Equal(0, stuck.Statistics.Rollouts);
        Assert.Equal(10, stuck.Ticks); // the clock stopped where the fast stream ran out of rows (2T = 10)

        // With one, the rollout goes with the column that produced, the slow stream's cut steps are counted, and the run ends.
        var cut = await Lockstep(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(60));
        Assert.True(cut.Completed, $"{cut.Statistics}");
        Assert.True(cut.Statistics.StalledRollouts > 0, $"{cut.Statistics}");
        Assert.True(cut.Statistics.DroppedSteps > 0, $"{cut.Statistics}");
        Assert.Equal(0, cut.Statistics.RefusedOutcomes); // the cut actions' late outcomes were let go, not refused
    }

    private SimulationRun TwoSimulationsSharingALockstepClock(TimeSpan roundTimeout, long maxSteps, StrongBoxCounter ticks, string? output = null)
    {
        var options = new TrainingOptions { Algorithm = new A2COptions().WithHiddenSizes([8]).WithRolloutLength(5), MaxSteps = maxSteps, OutputDirectory = output };
        var run = SimulationTraining.Start(Sys, options, new SimulationOptions
        {
            Simulations = 2,
            StreamsPerSimulation = 1,
            StreamTimeout = TimeSpan.Zero, // never silent: only the round's own rule may end the wait
            RoundTimeout = roundTimeout,
        });
        // The fast entity on simulation 0, the slow one (every tenth tick) on simulation 1, one clock for both.
        Sys.ActorOf(Props.Create(() => new LockstepSimulation(run.Gateways[0], 0, run.Gateways[1], 0, 10, ticks)));
        return run;
    }

    [Fact]
    public async Task Two_simulations_sharing_one_lockstep_clock_at_uneven_rates_train_on_in_rounds_the_learner_closes_without_the_stuck_one()
    {
        // The fast entity's simulation sends its rollout and runs ahead T steps, then waits for the round's parameters; the
        // round waits for the slow entity's simulation, whose entity waits for the clock, which waits for the fast entity.
        // Without a round timeout that is a hang (before this change it was one with the default too, only warned about):
        var stuckTicks = new StrongBoxCounter();
        var stuck = TwoSimulationsSharingALockstepClock(TimeSpan.Zero, 1_000, stuckTicks);
        await AwaitConditionAsync(() => Task.FromResult(stuckTicks.Value >= 10), TimeSpan.FromSeconds(20));
        await Task.WhenAny(stuck.Completion, Task.Delay(TimeSpan.FromSeconds(2))); // a window to see it is stuck, not pacing
        Assert.False(stuck.Completion.IsCompleted);
        Assert.Equal(10, stuckTicks.Value); // the clock stopped where the fast stream ran out of rows (2T = 10)
        stuck.Stop();
        await stuck.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        // With one, the learner closes each round the slow simulation cannot fill with the rollout it has, says so, counts it,
        // and the parameters it sends free the clock: the run trains to its budget.
        var events = CreateTestProbe();
        Sys.EventStream.Subscribe(events.Ref, typeof(RoundClosedShort));
        var ticks = new StrongBoxCounter();
        string output = Path.Combine(Path.GetTempPath(), "advantage-stall-" + Guid.NewGuid().ToString("N"));
        var run = TwoSimulationsSharingALockstepClock(TimeSpan.FromMilliseconds(300), 50, ticks, output);
        var result = await run.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(StopReason.StepBudgetExhausted, result.Reason);
        Assert.True(result.Progress.Version >= 5, $"{result.Progress}");
        Assert.InRange(result.ShortRounds, 1, result.Progress.Version);
        Assert.True(ticks.Value > 10, $"{ticks.Value} ticks");
        var closed = events.ExpectMsg<RoundClosedShort>(TimeSpan.FromSeconds(10));
        Assert.Equal([1], closed.Missing);
        Assert.Equal(1, closed.Rollouts);
        Assert.Equal(result.ShortRounds, result.Progress.LastUpdate!.Extra["short_rounds"]);
        string summary = File.ReadAllText(Path.Combine(output, "summary.json"));
        Directory.Delete(output, recursive: true);
        Assert.Contains($"\"short_rounds\": {result.ShortRounds}", summary);
    }

    [Theory]
    [InlineData("a2c")]
    [InlineData("ppo")]
    public async Task A_simulation_that_never_speaks_does_not_hold_the_synchronous_round_the_learner_closes_each_round_with_the_others(string algorithm)
    {
        var events = CreateTestProbe();
        Sys.EventStream.Subscribe(events.Ref, typeof(RoundClosedShort));
        AlgorithmOptions chosen = algorithm == "ppo"
            ? new PpoOptions().WithHiddenSizes([8]).WithRolloutLength(5)
            : new A2COptions().WithHiddenSizes([8]).WithRolloutLength(5);
        var options = new TrainingOptions { Algorithm = chosen, MaxSteps = 200 };
        var run = SimulationTraining.Start(Sys, options, new SimulationOptions
        {
            Simulations = 2,
            StreamsPerSimulation = 4,
            RoundTimeout = TimeSpan.FromMilliseconds(200),
        });
        // Simulation 1 never starts its entities (a crashed or hung simulation whose gateway lives on).
        for (int s = 0; s < 4; s++)
        {
            int stream = s;
            Sys.ActorOf(Props.Create(() => new CartPoleStream(run.Gateways[0], stream, stream)));
        }
        var result = await run.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(StopReason.StepBudgetExhausted, result.Reason);
        Assert.Equal(result.Progress.Version, result.ShortRounds); // every round went without it
        Assert.Equal(200, result.Progress.Steps); // 10 rounds of simulation 0's 4 x 5 steps
        var closed = events.ExpectMsg<RoundClosedShort>(TimeSpan.FromSeconds(10));
        Assert.Equal((0L, 1), (closed.Version, closed.Rollouts));
        Assert.Equal([1], closed.Missing);
        Assert.Equal(1, result.Progress.LastUpdate!.Extra["missing_rollouts"]);
    }

    [Fact]
    public async Task A_run_none_of_whose_simulations_sends_a_rollout_within_the_idle_timeout_fails_naming_them()
    {
        var options = new TrainingOptions { Algorithm = new A2COptions().WithHiddenSizes([8]).WithRolloutLength(5), MaxSteps = 1_000 };
        var run = SimulationTraining.Start(Sys, options, new SimulationOptions
        {
            Simulations = 2,
            StreamsPerSimulation = 2,
            IdleTimeout = TimeSpan.FromSeconds(1),
        });
        // No entity ever asks: no round can even begin to fill. The run ends as Failed with the cause, not a hang.
        var failure = await Assert.ThrowsAsync<TrainingFailedException>(() => run.Completion.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(StopReason.Failed, failure.Result.Reason);
        Assert.Contains("simulations 0, 1", failure.Result.Detail);
        Assert.Contains("IdleTimeout", failure.Result.Detail);
    }

    [Fact]
    public void Negative_timeouts_are_refused_one_line_each_naming_the_field()
    {
        var problems = new SimulationOptions()
            .WithStreamTimeout(TimeSpan.FromSeconds(-1)).WithRoundTimeout(TimeSpan.FromSeconds(-1)).WithIdleTimeout(TimeSpan.FromSeconds(-1))
            .Problems();
        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("IdleTimeout = -00:00:01 is negative", StringComparison.Ordinal));
        var ex = Assert.Throws<OptionsValidationException>(() => SimulationTraining.ForCluster(new TrainingOptions(), new SimulationOptions { IdleTimeout = TimeSpan.FromSeconds(-1) }));
        Assert.Contains("IdleTimeout", ex.Message);
        // Only simulation runs carry the learner's limits: a plain run's rounds wait for every live worker.
        Assert.Null(new TrainingOptions().SimulationRounds);
        Assert.Equal(new SimulationRoundLimits(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(2)),
            SimulationTraining.ForCluster(new TrainingOptions(), new SimulationOptions()).SimulationRounds);
    }

    [Fact]
    public void Newer_parameters_that_come_while_a_rollout_fills_are_acted_with_and_the_rollout_carries_their_version()
    {
        // The learner closed rounds without this simulation (it was slow): it goes on with the newest parameters, so its
        // rollout joins the round the learner is in instead of arriving stale.
        var learner = CreateTestProbe();
        var collector = Collector(learner, new CollectorSettings(0, 1, 2, Spec, 5, TimeSpan.Zero, 0, null));
        learner.ExpectMsg<RegisterWorker>();
        collector.Tell(Initial(), learner);
        collector.Tell(new Decide(0, Obs(0f)));
        Assert.Equal(0, ExpectMsg<Decision>().Version);
        collector.Tell(new Outcome(0, 1.0));
        collector.Tell(new Parameters(3, Initial().Values), learner);
        collector.Tell(new Parameters(2, Initial().Values), learner); // older than what it holds: ignored
        collector.Tell(new Decide(0, Obs(1f)));
        Assert.Equal(3, ExpectMsg<Decision>().Version);
        collector.Tell(new Outcome(0, 1.0));
        collector.Tell(new Decide(0, Obs(2f)));
        Assert.Equal(3, learner.ExpectMsg<RolloutCollected>().Data.Version);
    }

    [Fact]
    public void A_simulation_all_of_whose_streams_went_silent_has_no_rollout_for_the_round_and_says_so()
    {
        var learner = CreateTestProbe();
        // Generous: the streams must speak before this, however loaded the machine.
        var collector = Collector(learner, new CollectorSettings(0, 2, 3, Spec, 5, TimeSpan.FromSeconds(1.5), 0, null));
        learner.ExpectMsg<RegisterWorker>();
        collector.Tell(Initial(), learner);
        EventFilter.Warning(contains: "every one of its 2 streams has been silent").ExpectOne(TimeSpan.FromSeconds(15), () =>
        {
            collector.Tell(new Decide(0, Obs(0f)));
            collector.Tell(new Decide(1, Obs(1f)));
            ExpectMsg<Decision>();
            ExpectMsg<Decision>();
        });
        learner.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // no rollout: the synchronous round waits for it, now with a word
        collector.Tell(GetSimulationStatistics.Instance);
        Assert.Equal(2, ExpectMsg<SimulationStatistics>().SilentStreams);
    }

    [Fact]
    public void A_simulation_whose_rollout_is_in_while_the_round_waits_for_others_says_so_within_the_round_timeout()
    {
        var learner = CreateTestProbe();
        var collector = Collector(learner, new CollectorSettings(0, 1, 2, Spec, 5, TimeSpan.Zero, 0, null) { RoundTimeout = TimeSpan.FromMilliseconds(200) });
        learner.ExpectMsg<RegisterWorker>();
        collector.Tell(Initial(), learner);
        for (int step = 0; step < 2; step++)
        {
            collector.Tell(new Decide(0, Obs(step)));
            ExpectMsg<Decision>();
            collector.Tell(new Outcome(0, 1.0));
        }
        learner.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        EventFilter.Warning(contains: "waits for the other simulations' rollouts").ExpectOne(TimeSpan.FromSeconds(10), () =>
        {
            collector.Tell(new Decide(0, Obs(2f))); // completes the rollout; this decision is owed until the learner's next parameters
            learner.ExpectMsg<RolloutCollected>();
        });
    }
}
