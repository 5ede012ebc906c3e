using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;

namespace Advantage.Actors.Tests;

/// <summary>The policy actor: batched answers equal the policy API's, live parameter swaps, malformed requests, remote requesters.</summary>
public class PolicyServerTests : ActorTestKit
{
    private static readonly NetworkSpec Discrete = new(4, [16], 3, false);

    /// <summary>A seeded network's weights with observation statistics, so the server must normalise as the policy API does.</summary>
    private static Checkpoint Model(NetworkSpec spec, int seed, long version = 0)
    {
        using var network = ActorCriticNetwork.CreateSeeded(spec, seed);
        var statistics = new NormalizerState(
            Enumerable.Range(0, spec.ObservationSize).Select(i => 0.1 * i).ToArray(),
            Enumerable.Range(0, spec.ObservationSize).Select(i => 0.5 + i).ToArray(), 1000);
        return new Checkpoint(spec, new ParameterVector(network).Read(), new Dictionary<string, string>())
        {
            ObservationStatistics = statistics,
            Progress = new CheckpointProgress(version, 0, 0, []),
        };
    }

    private static float[][] Observations(int count, int size, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, size).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray()).ToArray();
    }

    private static void AssertSameDecisions(PolicyDecision[] expected, Acted acted, int first = 0)
    {
        for (int i = 0; i < acted.Count; i++)
        {
            var decision = expected[first + i];
            Assert.Equal(decision.Action, acted.Action(i));
            Assert.Equal(decision.Value, acted.Values[i], 1e-5f);
            int actions = decision.Probabilities.Length;
            for (int a = 0; a < actions; a++) Assert.Equal(decision.Probabilities[a], acted.Probabilities[i * actions + a], 1e-5f);
        }
    }

    [Fact]
    public void Concurrent_requesters_get_the_policy_APIs_deterministic_answers_from_batches_of_many()
    {
        var model = Model(Discrete, 1, version: 12);
        using var reference = TrainedPolicy.FromCheckpoint(model);
        var server = PolicyServing.Start(Sys, model, new PolicyServerOptions());
        const int requesters = 64, rounds = 3;
        var probes = Enumerable.Range(0, requesters).Select(_ => CreateTestProbe()).ToArray();
        var observations = Observations(requesters * rounds * 2, 4, 7);
        for (int round = 0; round < rounds; round++)
        {
            // Every requester has a request in flight at once: the server answers them in as few passes as its mailbox allows.
            for (int p = 0; p < requesters; p++)
            {
                int at = (round * requesters + p) * 2;
                int count = 1 + p % 2;
                server.Tell(Act.Many(round * 1000 + p, observations.Skip(at).Take(count)).WithValues(true).WithProbabilities(true), probes[p].Ref);
            }
            for (int p = 0; p < requesters; p++)
            {
                int at = (round * requesters + p) * 2;
                var acted = probes[p].ExpectMsg<Acted>();
                Assert.Equal(round * 1000 + p, acted.RequestId);
                Assert.Equal(12, acted.Version);
                Assert.Equal(1 + p % 2, acted.Count);
                AssertSameDecisions(reference.DecideBatch(observations.Skip(at).Take(acted.Count).ToArray(), deterministic: true), acted);
            }
        }
        server.Tell(GetPolicyServerStats.Instance, TestActor);
        var stats = ExpectMsg<PolicyServerStats>();
        Assert.Equal(requesters * rounds, stats.Requests);
        Assert.Equal(rounds * (requesters / 2) * 3, stats.Decisions);
        Assert.True(stats.LargestBatch > 1 && stats.Batches < stats.Requests, $"{stats}");
    }

    [Fact]
    public void Requests_that_wait_for_the_first_parameters_are_answered_in_passes_of_at_most_MaxBatch()
    {
        // A server following a learner (here a probe) answers nothing before the first parameters: every request is in
        // its mailbox when they come, so the batches are exactly MaxBatch-sized.
        var learner = CreateTestProbe();
        AdvantageConfig.Install(Sys);
        var server = Sys.ActorOf(PolicyServer.Following(learner.Ref, Discrete, new PolicyServerOptions().WithMaxBatch(8)));
        learner.ExpectMsg<FollowParameters>();
        var observations = Observations(40, 4, 3);
        for (int i = 0; i < 40; i++) server.Tell(new Act(i, observations[i]), TestActor);
        var model = Model(Discrete, 2);
        server.Tell(new Parameters(5, model.Parameters, model.ObservationStatistics), learner.Ref);
        using var reference = TrainedPolicy.FromCheckpoint(model);
        var expected = reference.DecideBatch(observations, deterministic: true);
        for (int i = 0; i < 40; i++)
        {
            var acted = ExpectMsg<Acted>();
            Assert.Equal(i, acted.RequestId);
            Assert.Equal(5, acted.Version);
            Assert.Equal(expected[i].Action, acted.Action(0));
        }
        server.Tell(GetPolicyServerStats.Instance, TestActor);
        var stats = ExpectMsg<PolicyServerStats>();
        Assert.Equal((40L, 40L, 5L, 8), (stats.Requests, stats.Decisions, stats.Batches, stats.LargestBatch));
    }

    [Fact]
    public void A_followed_learner_that_stops_before_sending_parameters_gets_waiting_and_later_requests_refused_not_left_hanging()
    {
        var learner = CreateTestProbe();
        AdvantageConfig.Install(Sys);
        var server = Sys.ActorOf(PolicyServer.Following(learner.Ref, Discrete, new PolicyServerOptions()));
        learner.ExpectMsg<FollowParameters>();
        server.Tell(new Act(1, [0f, 0f, 0f, 0f]), TestActor);
        Sys.Stop(learner.Ref);
        Assert.Contains("stopped before it sent any", ExpectMsg<ActRejected>(r => r.RequestId == 1).Reason);
        server.Tell(new Act(2, [0f, 0f, 0f, 0f]), TestActor);
        Assert.Contains("No parameters to answer with", ExpectMsg<ActRejected>(r => r.RequestId == 2).Reason);
    }

    [Fact]
    public void A_followed_learners_newer_versions_are_swapped_in_and_older_or_misfit_ones_ignored()
    {
        var learner = CreateTestProbe();
        var first = Model(Discrete, 3);
        var server = PolicyServing.Start(Sys, first, new PolicyServerOptions(), follow: learner.Ref);
        learner.ExpectMsg<FollowParameters>();
        var observations = Observations(30, 4, 11);
        Acted Ask(long id)
        {
            server.Tell(Act.Many(id, observations).WithValues(true).WithProbabilities(true), TestActor);
            return ExpectMsg<Acted>(a => a.RequestId == id);
        }

        using (var reference = TrainedPolicy.FromCheckpoint(first))
        {
            var acted = Ask(1);
            Assert.Equal(0, acted.Version);
            AssertSameDecisions(reference.DecideBatch(observations, true), acted);
        }
        var second = Model(Discrete, 4);
        server.Tell(new Parameters(3, second.Parameters, second.ObservationStatistics), learner.Ref);
        using (var reference = TrainedPolicy.FromCheckpoint(second))
        {
            var acted = Ask(2);
            Assert.Equal(3, acted.Version);
            AssertSameDecisions(reference.DecideBatch(observations, true), acted);
            // The swap changed the answers (the two seeds' networks disagree somewhere on 30 observations).
            using var old = TrainedPolicy.FromCheckpoint(first);
            Assert.NotEqual(old.DecideBatch(observations, true).Select(d => d.Value), acted.Values);
        }
        // Without statistics, the new version acts on raw observations.
        var third = Model(Discrete, 5);
        server.Tell(new Parameters(7, third.Parameters), learner.Ref);
        // Older than the one served, and of the wrong length: both ignored.
        server.Tell(new Parameters(6, second.Parameters, second.ObservationStatistics), learner.Ref);
        server.Tell(new Parameters(9, [1f, 2f]), learner.Ref);
        using (var reference = TrainedPolicy.FromCheckpoint(third.WithObservationStatistics(null)))
        {
            var acted = Ask(3);
            Assert.Equal(7, acted.Version);
            AssertSameDecisions(reference.DecideBatch(observations, true), acted);
        }
        server.Tell(GetPolicyServerStats.Instance, TestActor);
        Assert.Equal((7L, 2L), ExpectMsg<PolicyServerStats>() is var s ? (s.Version, s.Swaps) : default);
    }

    [Fact]
    public async Task A_server_following_a_training_run_serves_the_versions_the_learner_broadcasts()
    {
        var options = new TrainingOptions()
            .WithAlgorithm(new A2COptions { Workers = 1, EnvironmentsPerWorker = 4, RolloutLength = 5, HiddenSizes = [16], Seed = 3 })
            .WithMaxSteps(4_000);
        var run = Training.Start(Sys, options);
        var server = PolicyServing.Start(Sys, run, new PolicyServerOptions());
        var observation = new float[] { 0.01f, -0.02f, 0.03f, 0.01f };
        long seen = -1;
        // Ask until an answer comes from a version past 0: the learner's broadcasts reached the server mid-run.
        for (int i = 0; i < 10_000 && seen < 2; i++)
        {
            var acted = await server.Ask<Acted>(new Act(i, observation), TimeSpan.FromSeconds(30));
            Assert.True(acted.Version >= seen, $"version went back from {seen} to {acted.Version}");
            seen = acted.Version;
        }
        Assert.True(seen >= 2, $"only version {seen} was served");
        var result = await run.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        // After the run, the server answers with the final parameters, as a policy loaded from the result does.
        var final = await server.Ask<Acted>(new Act(-1, observation), TimeSpan.FromSeconds(30));
        Assert.Equal(result.Progress.Version, final.Version);
        using var reference = TrainedPolicy.FromCheckpoint(result.ToCheckpoint());
        Assert.Equal(reference.Act(observation, true), final.Action(0));
    }

    [Fact]
    public void Malformed_requests_get_a_rejection_naming_the_field_and_the_server_keeps_serving()
    {
        var model = Model(Discrete, 6);
        using var reference = TrainedPolicy.FromCheckpoint(model);
        var server = PolicyServing.Start(Sys, model, new PolicyServerOptions().WithMaxBatch(4));
        var good = Observations(1, 4, 1)[0];
        var expected = reference.Act(good, true);
        void Good(long id)
        {
            server.Tell(new Act(id, good), TestActor);
            var acted = ExpectMsg<Acted>();
            Assert.Equal(id, acted.RequestId);
            Assert.Equal(expected, acted.Action(0));
        }
        void Bad(long id, float[] observations, params string[] says)
        {
            server.Tell(new Act(id, observations), TestActor);
            var rejected = ExpectMsg<ActRejected>();
            Assert.Equal(id, rejected.RequestId);
            foreach (string s in says) Assert.Contains(s, rejected.Reason);
        }

        Good(1);
        Bad(2, [1f, 2f, 3f], "Observations holds 3 floats", "multiple of 4");
        Good(3);
        Bad(4, [1f, 2f, float.NaN, 4f], "Observations[2]", "element 2", "NaN", "finite");
        Bad(5, [1f, 2f, 3f, 4f, 5f, 6f, 7f, float.PositiveInfinity], "Observations[7]", "observation 1, element 3", "finite");
        Bad(6, new float[4 * 5], "5 observations", "between 1 and 4 (MaxBatch)");
        Bad(7, [], "Observations is empty", "between 1 and 4");
        Bad(8, null!, "Observations is empty");
        Good(9);
        server.Tell(GetPolicyServerStats.Instance, TestActor);
        var stats = ExpectMsg<PolicyServerStats>();
        Assert.Equal((3L, 6L), (stats.Requests, stats.Rejected));
    }

    [Fact]
    public void Sampled_requests_with_a_seed_draw_what_a_policy_seeded_alike_draws_whatever_shares_their_batch()
    {
        var spec = new NetworkSpec(3, [16], 2, true);
        var model = Model(spec, 8) with { ActionBounds = new Box([2], [-0.5f, -1f], [0.5f, 1f]) };
        var server = PolicyServing.Start(Sys, model, new PolicyServerOptions());
        var observations = Observations(20, 3, 5);
        var probes = Enumerable.Range(0, 4).Select(_ => CreateTestProbe()).ToArray();
        for (int p = 0; p < probes.Length; p++)
            server.Tell(Act.Many(p, observations).WithDeterministic(false).WithSeed(100 + p % 2), probes[p].Ref);
        server.Tell(Act.Many(9, observations), TestActor);
        for (int p = 0; p < probes.Length; p++)
        {
            using var seeded = TrainedPolicy.FromCheckpoint(model, seed: 100 + p % 2);
            var acted = probes[p].ExpectMsg<Acted>();
            Assert.Equal(seeded.ActBatch(observations, deterministic: false).SelectMany(a => a).ToArray(), acted.Actions);
            Assert.All(acted.Actions, a => Assert.InRange(a, -1f, 1f));
        }
        using var deterministic = TrainedPolicy.FromCheckpoint(model);
        Assert.Equal(deterministic.ActBatch(observations, true).SelectMany(a => a).ToArray(), ExpectMsg<Acted>().Actions);
    }

    [Fact]
    public void Options_out_of_range_are_refused_naming_the_field()
    {
        var model = Model(Discrete, 1);
        var error = Assert.Throws<OptionsValidationException>(() => PolicyServing.Start(Sys, model, new PolicyServerOptions().WithMaxBatch(0).WithMaxWait(TimeSpan.FromSeconds(-1))));
        Assert.Contains("MaxBatch = 0 is outside [1, 65536]", error.Message);
        Assert.Contains("MaxWait", error.Message);
    }

    [Fact]
    public void With_a_maximum_wait_a_lone_request_is_answered_when_the_wait_runs_out()
    {
        var model = Model(Discrete, 1);
        var server = PolicyServing.Start(Sys, model, new PolicyServerOptions().WithMaxWait(TimeSpan.FromMilliseconds(20)));
        server.Tell(new Act(1, [0f, 0f, 0f, 0f]), TestActor);
        server.Tell(new Act(2, [1f, 0f, 0f, 0f]), TestActor);
        Assert.Equal(1, ExpectMsg<Acted>().RequestId);
        Assert.Equal(2, ExpectMsg<Acted>().RequestId);
        server.Tell(GetPolicyServerStats.Instance, TestActor);
        Assert.Equal(2, ExpectMsg<PolicyServerStats>().Decisions);
    }
}

/// <summary>A requester on another node: requests and replies cross Akka.Remote on loopback through the binary serializer.</summary>
public sealed class RemotePolicyServerTests : IDisposable
{
    private static Config Remote() => ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        """).WithFallback(AdvantageConfig.Default);

    private readonly ActorSystem serving = ActorSystem.Create("serving", Remote());
    private readonly ActorSystem asking = ActorSystem.Create("asking", Remote());

    public void Dispose()
    {
        asking.Dispose();
        serving.Dispose();
    }

    [Fact]
    public async Task A_requester_on_another_node_gets_answers_rejections_and_statistics()
    {
        var spec = new NetworkSpec(4, [16], 2, false);
        Checkpoint model;
        using (var network = ActorCriticNetwork.CreateSeeded(spec, 9))
            model = new Checkpoint(spec, new ParameterVector(network).Read(), new Dictionary<string, string>());
        PolicyServing.Start(serving, model, new PolicyServerOptions(), name: "policy");
        var address = ((ExtendedActorSystem)serving).Provider.DefaultAddress;
        var server = await asking.ActorSelection($"{address}/user/policy").ResolveOne(TimeSpan.FromSeconds(30));
        Assert.Equal(address, server.Path.Address);

        var probe = new TestProbe(asking, new Akka.TestKit.Xunit2.XunitAssertions());
        var observations = new[] { new[] { 0.1f, 0.2f, -0.1f, 0.0f }, new[] { -1f, 0.5f, 0.25f, 2f } };
        server.Tell(Act.Many(41, observations).WithValues(true).WithProbabilities(true), probe.Ref);
        var acted = probe.ExpectMsg<Acted>(TimeSpan.FromSeconds(30));
        using var reference = TrainedPolicy.FromCheckpoint(model);
        var expected = reference.DecideBatch(observations, deterministic: true);
        Assert.Equal(41, acted.RequestId);
        Assert.Equal(2, acted.Count);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(expected[i].ActionIndex, acted.ActionIndex(i));
            Assert.Equal(expected[i].Value, acted.Values[i], 1e-5f);
            Assert.Equal(expected[i].Probabilities[1], acted.Probabilities[i * 2 + 1], 1e-5f);
        }
        server.Tell(new Act(42, [1f, float.NaN, 0f, 0f]), probe.Ref);
        Assert.Contains("Observations[1]", probe.ExpectMsg<ActRejected>(TimeSpan.FromSeconds(30)).Reason);
        var stats = await server.Ask<PolicyServerStats>(GetPolicyServerStats.Instance, TimeSpan.FromSeconds(30));
        Assert.Equal((1L, 2L, 1L), (stats.Requests, stats.Decisions, stats.Rejected));
    }
}
