using Advantage.Environments;
using Akka.Actor;
using Akka.TestKit.Xunit2;

namespace Advantage.Actors.Tests;

public class WorkerActorTests : ActorTestKit
{
    [Fact]
    public void A_worker_registers_then_answers_parameters_with_one_rollout_of_that_version()
    {
        AdvantageConfig.Install(Sys);
        var learner = CreateTestProbe();
        var settings = new WorkerSettings(3, 11, Fixtures.Steps, 4, "CartPole-v1", () => EnvironmentRegistry.Builtin.Make("CartPole-v1"), Fixtures.Spec);
        var worker = Sys.ActorOf(WorkerActor.Props(settings, learner.Ref));
        var register = learner.ExpectMsg<RegisterWorker>();
        Assert.Equal(new RegisterWorker(3, 4), register);

        var parameters = new float[4 * 8 + 8 + 8 * 2 + 2 + 8 + 1];
        learner.Send(worker, new Parameters(5, parameters));
        var rollout = learner.ExpectMsg<RolloutCollected>().Data;
        Assert.Equal(5, rollout.Version);
        Assert.Equal(3, rollout.WorkerId);
        Assert.Null(rollout.Problem(Fixtures.Steps, 4, 1));
        Assert.All(rollout.Actions, a => Assert.True(a is 0f or 1f));
        Assert.All(rollout.Rewards, r => Assert.Equal(1f, r));
        learner.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_worker_resets_environment_k_with_its_seed_plus_k_so_each_starts_gymnasiums_episode_for_that_seed()
    {
        AdvantageConfig.Install(Sys);
        var learner = CreateTestProbe();
        var settings = new WorkerSettings(0, 11, Fixtures.Steps, 4, "CartPole-v1", () => EnvironmentRegistry.Builtin.Make("CartPole-v1"), Fixtures.Spec);
        var worker = Sys.ActorOf(WorkerActor.Props(settings, learner.Ref));
        learner.ExpectMsg<RegisterWorker>();
        learner.Send(worker, new Parameters(0, new float[4 * 8 + 8 + 8 * 2 + 2 + 8 + 1]));
        var rollout = learner.ExpectMsg<RolloutCollected>().Data;

        // The worker's vector seed is derived from its settings' seed (no restart yet: stream 0).
        int seed = Seeds.Derive(settings.Seed, 0);
        for (int k = 0; k < 4; k++)
        {
            var expected = new float[4];
            new CartPole().Reset(seed + k, expected);
            Assert.Equal(expected, rollout.Observations.AsSpan(k * 4, 4).ToArray());
        }
    }

    [Fact]
    public void An_environment_that_throws_restarts_its_worker_which_registers_again()
    {
        AdvantageConfig.Install(Sys);
        var learner = CreateTestProbe();
        int made = 0;
        // Only the very first environment fails, on its second step; after the restart all are healthy.
        var settings = new WorkerSettings(0, 1, Fixtures.Steps, 2, "faulty",
            () => Interlocked.Increment(ref made) == 1 ? new FaultyEnvironment(2) : new FaultyEnvironment(-1), Fixtures.Spec);
        var worker = Sys.ActorOf(WorkerActor.Props(settings, learner.Ref));
        learner.ExpectMsg<RegisterWorker>();
        var parameters = new Parameters(0, new float[4 * 8 + 8 + 8 * 2 + 2 + 8 + 1]);
        learner.Send(worker, parameters);

        var restarted = learner.ExpectMsg<WorkerRestarted>();
        Assert.Contains("boom", restarted.Reason);
        learner.ExpectMsg<RegisterWorker>();
        learner.Send(worker, parameters);
        Assert.Null(learner.ExpectMsg<RolloutCollected>().Data.Problem(Fixtures.Steps, 4, 1));
    }

    [Fact]
    public void A_user_environment_with_the_wrong_observation_length_is_refused_naming_it_and_the_expected_shape()
    {
        AdvantageConfig.Install(Sys);
        var learner = CreateTestProbe();
        var settings = new WorkerSettings(0, 1, Fixtures.Steps, 2, "MyEnv-v0", () => new WrongShapeEnvironment(), Fixtures.Spec);
        var worker = Sys.ActorOf(WorkerActor.Props(settings, learner.Ref));
        // It never registers; it fails, tells the learner why (which counts it against the run's restarts), and restarts.
        var restarted = learner.ExpectMsg<WorkerRestarted>();
        Assert.Contains("Worker 0 (environment 'MyEnv-v0'): InvalidOperationException: Environment 'MyEnv-v0' produces observations of 3 floats", restarted.Reason);
        Sys.Stop(worker);
    }

    private sealed class WrongShapeEnvironment : IEnvironment
    {
        public Space ObservationSpace { get; } = Box.Uniform([3], -1f, 1f);

        public Space ActionSpace { get; } = new Discrete(2);

        public void Reset(int? seed, Span<float> observation) => observation.Clear();

        public StepResult Step(ReadOnlySpan<float> action, Span<float> observation) => new(0, false, false);
    }
}
