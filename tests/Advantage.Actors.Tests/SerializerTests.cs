using System.Runtime.Serialization;
using Advantage.Actors.Cluster;
using Advantage.Actors.Serialization;
using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;

namespace Advantage.Actors.Tests;

public class SerializerTests : TestKit
{
    public SerializerTests() : base(AdvantageConfig.Default) { }

    private AdvantageSerializer Serializer => (AdvantageSerializer)Sys.Serialization.FindSerializerForType(typeof(Parameters));

    private static readonly string[] AllManifests = ["RW1", "P2", "RC3", "WR1", "ST1", "GP1", "TP2", "JR", "RJ8", "JX", "RE1", "RR1", "RS1", "AQ1", "AA1", "AE1", "FP1", "GS1", "SS1"];

    public static TheoryData<string> Manifests => new(AllManifests);

    private object Sample(string manifest) => manifest switch
    {
        "RW1" => new RegisterWorker(3, 16),
        "P2" => new Parameters(42, [1f, -2.5f, float.Epsilon, 3e30f], new NormalizerState([0.5, -1.0], [2.0, 0.25], 1234.5)) { Acknowledged = 3 },
        "RC3" => new RolloutCollected(Truncating()) { WorkerState = [1, 2, 3, 0, 255] },
        "RS1" => new RestoreWorker(2, 500, [9, 8, 7, 6]),
        "WR1" => new WorkerRestarted(7, "boom: the environment failed ü"),
        "RR1" => new RolloutRefused(12, "Rewards contain a non-finite number (NaN) at step 2 of environment slot 3."),
        "ST1" => StopTraining.Instance,
        "GP1" => GetProgress.Instance,
        "TP2" => new TrainingProgress(1000, 1.5, 650.25, 12, 21.5, 9, 2, 1, 3, new UpdateMetrics(0.1, 0.2, 0.69, 1.5, 0.33, 80)
        {
            Extra = new Dictionary<string, double> { ["approx_kl"] = 0.012, ["clip_fraction"] = 0.25 },
        }),
        "JR" => new JoinRun("akka.tcp://advantage@127.0.0.1:1234", 2) { EnvironmentIds = ["CartPole-v1", "Corridor-v0"], Algorithms = ["a2c", "reinforce"] },
        "JX" => new JoinRefused("it does not have the run's environment 'Corridor-v0'"),
        "RE1" => new RunEnded("Solved"),
        "RJ8" => new RunJoined(TestActor, "MinAtar/Breakout-v1", new NetworkSpec(400, [128], 3, false, -0.5, BodyKind.MinAtarConv, [4, 10, 10], SeparateNetworks: true, StateDependentNoise: true, SdeSampleFrequency: 4),
            [new WorkerPlan(4, 11, 5, 16, 500, new RewardScalerOptions(0.95)), new WorkerPlan(5, -7, 5, 16, 0, null) { Ahead = 3 }], "impala"),
        "JR+simulation" => new JoinRun("akka.tcp://advantage@127.0.0.1:1234", 3) { Simulation = true },
        "RJ8+bounds" => new RunJoined(TestActor, "Pendulum-v1", new NetworkSpec(3, [64], 1, true, -0.5), [new WorkerPlan(0, 1, 8, 4, 0, null)], "a2c")
        {
            ActionBounds = new Box([1], [-2f], [2f]),
        },
        "AQ1" => new Act(77, [0.5f, float.NaN, -1f, 3e30f, 1f]) { Deterministic = false, Seed = -3, IncludeValues = true, IncludeProbabilities = true },
        "AA1" => new Acted(77, 12, 2, [0.25f, -1f, 1f, 0.5f]) { Values = [1.5f, -2f], Probabilities = [0.1f, 0.9f, 0.3f, 0.7f] },
        "AE1" => new ActRejected(78, "Observations[2] (observation 0, element 2) is NaN; observations must be finite numbers."),
        "FP1" => FollowParameters.Instance,
        "GS1" => GetPolicyServerStats.Instance,
        "SS1" => new PolicyServerStats(10, 25, 4, 9, 1, 33, 2),
        _ => throw new ArgumentOutOfRangeException(nameof(manifest)),
    };

    /// <summary>A rollout with a truncated step (a final observation) and finished episodes.</summary>
    private static Rollout Truncating()
    {
        var r = Fixtures.Rollout(workerId: 2, version: 5);
        var truncated = new bool[r.Truncated.Length];
        truncated[3] = true;
        return r with { Truncated = truncated, FinalObservationIndices = [3], FinalObservations = [0.1f, 0.2f, 0.3f, 0.4f], EpisodeReturns = [2.0, 9.5], EpisodeLengths = [2, 9],
            BehaviourLogProbs = Enumerable.Range(0, r.Rewards.Length).Select(i => -0.1f * i).ToArray() };
    }

    private object RoundTrip(object message)
    {
        var serializer = Serializer;
        byte[] bytes = serializer.ToBinary(message);
        return serializer.FromBinary(bytes, serializer.Manifest(message));
    }

    [Fact]
    public void Every_advantage_message_is_bound_to_the_binary_serializer_with_identifier_417()
    {
        foreach (string manifest in AllManifests)
        {
            var serializer = Sys.Serialization.FindSerializerFor(Sample(manifest));
            Assert.IsType<AdvantageSerializer>(serializer);
            Assert.Equal(417, serializer.Identifier);
        }
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Every_message_round_trips_to_an_equal_message(string manifest)
    {
        var message = Sample(manifest);
        Assert.Equal(manifest, Serializer.Manifest(message));
        Every_message_round_trips_to_an_equal_message_of(message);
    }

    private void Every_message_round_trips_to_an_equal_message_of(object message)
    {
        var back = RoundTrip(message);
        switch (message)
        {
            case Parameters p:
                var q = Assert.IsType<Parameters>(back);
                Assert.Equal(p.Version, q.Version);
                Assert.Equal(p.Values, q.Values);
                Assert.Equal(p.ObservationStatistics, q.ObservationStatistics);
                Assert.Equal(p.Acknowledged, q.Acknowledged);
                break;
            case RolloutCollected r:
                AssertSameRollout(r.Data, Assert.IsType<RolloutCollected>(back).Data);
                Assert.Equal(r.WorkerState, ((RolloutCollected)back).WorkerState);
                break;
            case RestoreWorker w:
                var v = Assert.IsType<RestoreWorker>(back);
                Assert.Equal((w.WorkerId, w.Version), (v.WorkerId, v.Version));
                Assert.Equal(w.State, v.State);
                break;
            case Act a:
                var b = Assert.IsType<Act>(back);
                Assert.Equal(a.Observations, b.Observations);
                Assert.Equal(a with { Observations = b.Observations }, b);
                break;
            case Acted a:
                var c = Assert.IsType<Acted>(back);
                Assert.Equal((a.RequestId, a.Version, a.ActionWidth), (c.RequestId, c.Version, c.ActionWidth));
                Assert.Equal(a.Actions, c.Actions);
                Assert.Equal(a.Values, c.Values);
                Assert.Equal(a.Probabilities, c.Probabilities);
                break;
            case JoinRun j:
                var joined = Assert.IsType<JoinRun>(back);
                Assert.Equal((j.Node, j.Workers, j.Version), (joined.Node, joined.Workers, joined.Version));
                Assert.Equal(j.Wire, joined.Wire);
                Assert.Equal(j.EnvironmentIds, joined.EnvironmentIds);
                Assert.Equal(j.Simulation, joined.Simulation);
                break;
            case RunJoined j:
                var k = Assert.IsType<RunJoined>(back);
                Assert.Equal(j.Learner, k.Learner);
                Assert.Equal(j.Spec, k.Spec);
                Assert.Equal(j.Workers, k.Workers);
                Assert.Equal(j.ActionBounds, k.ActionBounds);
                Assert.Equal(j with { Spec = k.Spec, Workers = k.Workers }, k);
                break;
            default:
                Assert.Equal(message, back);
                break;
        }
    }

    [Fact]
    public void Parameters_without_statistics_and_progress_without_an_update_round_trip()
    {
        var parameters = Assert.IsType<Parameters>(RoundTrip(new Parameters(0, [])));
        Assert.Empty(parameters.Values);
        Assert.Null(parameters.ObservationStatistics);
        var progress = new TrainingProgress(0, 0, 0, 0, double.NaN, 0, 0, 0, 0, null);
        Assert.Equal(progress, RoundTrip(progress));
    }

    private static void AssertSameRollout(Rollout a, Rollout b)
    {
        Assert.Equal((a.WorkerId, a.Version, a.Steps, a.Environments, a.ObservationSize, a.ActionWidth), (b.WorkerId, b.Version, b.Steps, b.Environments, b.ObservationSize, b.ActionWidth));
        Assert.Equal(a.Observations, b.Observations);
        Assert.Equal(a.Actions, b.Actions);
        Assert.Equal(a.Rewards, b.Rewards);
        Assert.Equal(a.Terminated, b.Terminated);
        Assert.Equal(a.Truncated, b.Truncated);
        Assert.Equal(a.FinalObservationIndices, b.FinalObservationIndices);
        Assert.Equal(a.FinalObservations, b.FinalObservations);
        Assert.Equal(a.EpisodeReturns, b.EpisodeReturns);
        Assert.Equal(a.EpisodeLengths, b.EpisodeLengths);
        Assert.Equal(a.BehaviourLogProbs, b.BehaviourLogProbs);
        Assert.Null(b.Problem(a.Steps, a.ObservationSize, a.ActionWidth));
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Every_truncation_of_a_message_is_rejected_with_SerializationException(string manifest)
    {
        byte[] bytes = Serializer.ToBinary(Sample(manifest));
        for (int length = 0; length < bytes.Length; length++)
        {
            var error = Assert.Throws<SerializationException>(() => Serializer.FromBinary(bytes[..length], manifest));
            Assert.Contains(manifest, error.Message);
        }
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Random_bytes_and_trailing_bytes_are_rejected_with_SerializationException(string manifest)
    {
        var random = new Random(manifest.GetHashCode(StringComparison.Ordinal) & 0xFFFF);
        for (int trial = 0; trial < 300; trial++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            Assert.Throws<SerializationException>(() => Serializer.FromBinary(bytes, manifest));
        }
        // A valid header followed by random bytes: lengths and flags are checked, not trusted.
        byte[] valid = Serializer.ToBinary(Sample(manifest));
        for (int trial = 0; trial < 300; trial++)
        {
            var bytes = new byte[random.Next(5, 200)];
            random.NextBytes(bytes);
            valid.AsSpan(0, 4).CopyTo(bytes);
            try
            {
                // Rarely random bytes form a valid small message; it must then be a message of this manifest.
                Assert.Equal(manifest, Serializer.Manifest(Serializer.FromBinary(bytes, manifest)));
            }
            catch (SerializationException)
            {
            }
        }
        Assert.Throws<SerializationException>(() => Serializer.FromBinary([.. valid, 0], manifest));
    }

    [Fact]
    public void Unknown_manifests_and_a_manifest_that_disagrees_with_the_payload_are_rejected()
    {
        byte[] register = Serializer.ToBinary(new RegisterWorker(1, 2));
        Assert.Contains("Unknown Advantage manifest 'X9'", Assert.Throws<SerializationException>(() => Serializer.FromBinary(register, "X9")).Message);
        Assert.Contains("tag", Assert.Throws<SerializationException>(() => Serializer.FromBinary(register, "WR1")).Message);
        // A terminated flag that is neither 0 nor 1.
        var rollout = Fixtures.Rollout(0, 0);
        var flags = Serializer.ToBinary(new RolloutCollected(rollout));
        int terminatedAt = 4 + 4 + 8 + 4 * 4 + (4 + 4 * rollout.Observations.Length) + (4 + 4 * rollout.Actions.Length) + (4 + 4 * rollout.Rewards.Length) + 4;
        Assert.Equal(0, flags[terminatedAt]);
        flags[terminatedAt] = 2;
        Assert.Contains("expected 0 or 1", Assert.Throws<SerializationException>(() => Serializer.FromBinary(flags, "RC3")).Message);
        // Corrupt a normaliser variance into a negative number: the constructor refuses, the serializer reports it.
        var statistics = Serializer.ToBinary(new Parameters(1, [1f], new NormalizerState([0.0], [1.0], 1)));
        BitConverter.GetBytes(-1.0).CopyTo(statistics, statistics.Length - 16);
        Assert.Throws<SerializationException>(() => Serializer.FromBinary(statistics, "P2"));
    }

    [Fact]
    public void A_run_joined_that_claims_more_workers_than_its_bytes_hold_is_refused_before_allocating()
    {
        byte[] bytes = Serializer.ToBinary(Sample("RJ8"));
        // The worker count sits just before the two plans (2 x 25 bytes and 16 bytes of scaling) and the bounds flag: claim a billion.
        int countAt = bytes.Length - 1 - (4 * 6 + 1 + 16) - (4 * 6 + 1) - 4;
        Assert.Equal(2, BitConverter.ToInt32(bytes, countAt));
        BitConverter.GetBytes(1_000_000_000).CopyTo(bytes, countAt);
        Assert.Contains("worker count", Assert.Throws<SerializationException>(() => Serializer.FromBinary(bytes, "RJ8")).Message);
    }

    /// <summary>The handshake's frozen part: version, wire and node, as a node of any version writes them.</summary>
    private static byte[] Handshake(string version, string[] wire, string node, byte[] rest)
    {
        var bytes = new List<byte> { (byte)'A', (byte)'D', 1, AdvantageSerializer.ManifestTags["JR"] };
        void String(string value)
        {
            byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(value);
            bytes.AddRange(BitConverter.GetBytes(utf8.Length));
            bytes.AddRange(utf8);
        }
        String(version);
        bytes.AddRange(BitConverter.GetBytes(wire.Length));
        foreach (string m in wire) String(m);
        String(node);
        bytes.AddRange(rest);
        return [.. bytes];
    }

    [Fact]
    public void A_handshake_of_another_wire_is_read_as_far_as_its_frozen_part_and_refused_in_one_line()
    {
        // A later version: one manifest changed, and whatever it puts after the node is a layout this node does not know.
        string[] later = [.. AdvantageSerializer.Wire.Where(m => m != "P2"), "P3"];
        var join = Assert.IsType<JoinRun>(Serializer.FromBinary(Handshake("9.9.9", later, "akka.tcp://advantage@10.0.0.2:4100", [1, 2, 3, 4, 5, 6, 7]), "JR"));
        Assert.Equal(("akka.tcp://advantage@10.0.0.2:4100", "9.9.9"), (join.Node, join.Version));
        Assert.Equal(later, join.Wire);
        string reason = LearnerEndpoint.Refusal(join, "CartPole-v1", "a2c")!;
        Assert.Equal($"it runs Advantage 9.9.9, whose messages differ from this learner's ({AdvantageSerializer.ProductVersion}): it speaks P3 where this learner speaks P2; " +
            "every node of a cluster must run the same Advantage version.", reason);

        // The previous handshake (before it was frozen) is still read, only to refuse its sender with the same kind of line.
        var old = new List<byte> { (byte)'A', (byte)'D', 1, AdvantageSerializer.ManifestTags["JR2"] };
        byte[] node = System.Text.Encoding.UTF8.GetBytes("akka.tcp://advantage@10.0.0.3:4100");
        old.AddRange(BitConverter.GetBytes(node.Length));
        old.AddRange(node);
        old.AddRange(BitConverter.GetBytes(2));
        var previous = Assert.IsType<JoinRun>(Serializer.FromBinary([.. old], "JR2"));
        Assert.StartsWith("it runs Advantage an earlier version, whose messages differ", LearnerEndpoint.Refusal(previous, "CartPole-v1", "a2c"));

        // The same wire: read in full, trailing bytes refused as for every message; accepted only with the run's environment.
        var same = Assert.IsType<JoinRun>(RoundTrip(new JoinRun("n", 1) { EnvironmentIds = ["CartPole-v1"] }));
        Assert.Null(LearnerEndpoint.Refusal(same, "CartPole-v1", "a2c"));
        Assert.Equal("it does not have the run's environment 'Corridor-v0' (it has CartPole-v1); give that node the assembly that registers it " +
            "(worker --environments, or ClusterWorkerOptions.Environments).", LearnerEndpoint.Refusal(same, "Corridor-v0", "a2c"));

        // ... and only with the run's algorithm registered: a node that has not registered a user's algorithm is refused by name.
        Assert.Equal(["a2c", "ppo", "impala"], same.Algorithms.Take(3));
        Assert.Equal("it has not registered the run's algorithm 'reinforce' (it has a2c, ppo, impala); register it on that node too " +
            "(Algorithms.Register before the node starts).", LearnerEndpoint.Refusal(same with { Algorithms = ["a2c", "ppo", "impala"] }, "CartPole-v1", "reinforce"));
        Assert.Null(LearnerEndpoint.Refusal(same with { Algorithms = ["a2c", "reinforce"] }, "CartPole-v1", "reinforce"));

        // A simulation node needs no environment: its user's actors are the environment.
        var simulation = Assert.IsType<JoinRun>(RoundTrip(new JoinRun("n", 2) { Simulation = true }));
        Assert.Null(LearnerEndpoint.Refusal(simulation, "Corridor-v0", "a2c"));
    }

    [Theory]
    [InlineData("RJ8+bounds")]
    [InlineData("JR+simulation")]
    public void The_simulation_nodes_handshake_round_trips(string sample)
    {
        var message = Sample(sample);
        Every_message_round_trips_to_an_equal_message_of(message);
    }

    [Fact]
    public void Action_bounds_that_do_not_fit_the_network_are_refused()
    {
        var joined = (RunJoined)Sample("RJ8+bounds");
        byte[] bytes = Serializer.ToBinary(joined with { ActionBounds = new Box([2], [-1f, -1f], [1f, 1f]) });
        Assert.Contains("action bounds", Assert.Throws<SerializationException>(() => Serializer.FromBinary(bytes, "RJ8")).Message);
    }

    [Fact]
    public void The_wire_is_every_written_manifest_and_only_those()
    {
        Assert.Equal(AllManifests.Order(StringComparer.Ordinal), AdvantageSerializer.Wire);
        // Read, not written: the previous handshake, kept only to refuse a node that still sends it.
        Assert.Equal(AllManifests.Append("JR2").Order(StringComparer.Ordinal), AdvantageSerializer.ManifestTags.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Unknown_types_are_refused_when_serializing()
    {
        Assert.Throws<ArgumentException>(() => Serializer.Manifest("not a message"));
    }

    [Fact]
    public void A_parameter_vector_of_the_Nature_conv_size_costs_four_bytes_a_parameter()
    {
        var values = new float[1_700_000];
        for (int i = 0; i < values.Length; i++) values[i] = i * 1e-3f;
        byte[] bytes = Serializer.ToBinary(new Parameters(9, values));
        Assert.InRange(bytes.Length, 4 * values.Length, 4 * values.Length + 32);
        Assert.Equal(values, Assert.IsType<Parameters>(Serializer.FromBinary(bytes, "P2")).Values);
    }
}

/// <summary>With <c>serialize-messages = on</c> every local message goes through its serializer, as if it crossed the wire.</summary>
public class SerializeMessagesTrainingTests : TestKit
{
    public SerializeMessagesTrainingTests()
        : base(ConfigurationFactory.ParseString("akka.actor.serialize-messages = on\nakka.loglevel = WARNING").WithFallback(AdvantageConfig.Default))
    {
    }

    [Fact]
    public async Task A_run_with_every_message_serialized_still_trains()
    {
        var options = Fixtures.Training.WithAlgorithm(Fixtures.Options.WithWorkers(2).WithEnvironmentsPerWorker(4).WithRolloutLength(5)).WithMaxSteps(2_000);
        var result = await Training.RunAsync(Sys, options).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(StopReason.StepBudgetExhausted, result.Reason);
        Assert.True(result.Progress.Version >= 2_000 / 40);
        Assert.Equal(0, result.Progress.RejectedRollouts);
        Assert.True(Sys.Settings.SerializeAllMessages);
    }
}
