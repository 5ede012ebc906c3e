using System.Buffers.Binary;
using System.Runtime.Serialization;
using Advantage.Actors.Cluster;
using Advantage.Actors.Serialization;
using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Actor;
using Akka.Configuration;

namespace Advantage.Actors.Tests;

/// <summary>
/// Bytes off the network are an attacker's to choose. Every manifest the serializer registers (enumerated at run
/// time, so a new layout is covered without touching this file) gets thousands of random and mutated payloads,
/// from a fixed seed: each must decode to a valid message of that manifest or throw
/// <see cref="SerializationException"/>, and no call may allocate more than its payload justifies (a length
/// field claiming 2 GB must not allocate 2 GB).
/// </summary>
public sealed class SerializerFuzzTests : IDisposable
{
    private const int PayloadsPerManifest = 10_000;

    /// <summary>Allocation a decode may make beyond the arrays its payload holds: exception, message text, actor path, stack trace.</summary>
    private const long FixedAllowance = 64 << 10;

    private readonly ActorSystem system;
    private readonly AdvantageSerializer serializer;

    public SerializerFuzzTests()
    {
        // A remote provider, as on a cluster node: RunJoined resolves the learner's remote path.
        system = ActorSystem.Create("fuzz", ConfigurationFactory.ParseString("""
            akka.loglevel = OFF
            akka.stdout-loglevel = OFF
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
            """).WithFallback(AdvantageConfig.Default));
        serializer = new AdvantageSerializer((ExtendedActorSystem)system);
    }

    public void Dispose() => system.Dispose();

    private IEnumerable<object> Samples()
    {
        var learner = ((ExtendedActorSystem)system).Provider.ResolveActorRef("akka.tcp://advantage@127.0.0.1:4053/user/advantage-learner");
        var rollout = Fixtures.Rollout(workerId: 2, version: 5);
        var truncated = new bool[rollout.Truncated.Length];
        truncated[3] = true;
        yield return new RegisterWorker(3, 16);
        yield return new Parameters(42, [1f, -2.5f, float.Epsilon, 3e30f], new NormalizerState([0.5, -1.0], [2.0, 0.25], 1234.5));
        yield return new Parameters(0, []);
        yield return new RolloutCollected(rollout);
        yield return new RolloutCollected(rollout with { Truncated = truncated, FinalObservationIndices = [3], FinalObservations = [0.1f, 0.2f, 0.3f, 0.4f], EpisodeReturns = [2.0, 9.5], EpisodeLengths = [2, 9] });
        yield return new WorkerRestarted(7, "boom: the environment failed ü");
        yield return new RolloutCollected(rollout) { WorkerState = [4, 3, 2, 1] };
        yield return new RestoreWorker(1, 20, [1, 2, 3]);
        yield return new RolloutRefused(12, "Rewards contain a non-finite number (NaN) at step 2 of environment slot 3.");
        yield return StopTraining.Instance;
        yield return GetProgress.Instance;
        yield return new TrainingProgress(1000, 1.5, 650.25, 12, 21.5, 9, 2, 1, 3, new UpdateMetrics(0.1, 0.2, 0.69, 1.5, 0.33, 80));
        yield return new TrainingProgress(0, 0, 0, 0, double.NaN, 0, 0, 0, 0, null);
        yield return new JoinRun("akka.tcp://advantage@127.0.0.1:1234", 2) { EnvironmentIds = ["CartPole-v1", "Corridor-v0"] };
        yield return new JoinRun("akka.tcp://advantage@127.0.0.1:1234", 0) { Wire = ["P3", "RJ9"], Version = "9.9.9" };
        yield return new JoinRefused("it does not have the run's environment 'Corridor-v0'");
        yield return new RunEnded("StepBudgetExhausted");
        yield return new RunJoined(learner, "MinAtar/Breakout-v1", new NetworkSpec(400, [128], 3, false, -0.5, BodyKind.MinAtarConv, [4, 10, 10]),
            [new WorkerPlan(4, 11, 5, 16, 500, new RewardScalerOptions(0.95)), new WorkerPlan(5, -7, 5, 16, 0, null)], "a2c");
        yield return new RunJoined(learner, "CartPole-v1", new NetworkSpec(4, [64, 64], 2, false), [], "ppo");
        yield return new RunJoined(learner, "Pendulum-v1", new NetworkSpec(3, [64], 1, true), [new WorkerPlan(0, 1, 8, 4, 0, null)], "a2c") { ActionBounds = new Box([1], [-2f], [2f]) };
        yield return new JoinRun("akka.tcp://advantage@127.0.0.1:1234", 3) { Simulation = true };
        yield return new Act(77, [0.5f, float.NaN, -1f, 3e30f]) { Deterministic = false, Seed = -3, IncludeValues = true };
        yield return Act.Many(78, [[1f, 2f], [3f, 4f]]);
        yield return new Acted(77, 12, 2, [0.25f, -1f, 1f, 0.5f]) { Values = [1.5f, -2f], Probabilities = [0.1f, 0.9f, 0.3f, 0.7f] };
        yield return new Acted(79, 0, 1, [2f]);
        yield return new ActRejected(78, "Observations holds 3 floats, not a multiple of 4.");
        yield return FollowParameters.Instance;
        yield return GetPolicyServerStats.Instance;
        yield return new PolicyServerStats(10, 25, 4, 9, 1, 33, 2);
    }

    /// <summary>Manifests the samples are written under (the others are older layouts, read only).</summary>
    private HashSet<string> Written => field ??= Samples().Select(serializer.Manifest).ToHashSet();

    /// <summary>Valid payloads of every manifest that has a writer; a read-only (older) manifest gets the others' bodies under its own tag.</summary>
    private Dictionary<string, List<byte[]>> Corpus()
    {
        var corpus = AdvantageSerializer.ManifestTags.Keys.ToDictionary(m => m, _ => new List<byte[]>());
        var all = new List<byte[]>();
        foreach (var sample in Samples())
        {
            byte[] bytes = serializer.ToBinary(sample);
            all.Add(bytes);
            corpus[serializer.Manifest(sample)].Add(bytes);
        }
        foreach (var (manifest, payloads) in corpus)
        {
            if (payloads.Count > 0) continue;
            byte tag = AdvantageSerializer.ManifestTags[manifest];
            foreach (var other in all)
            {
                byte[] retagged = (byte[])other.Clone();
                retagged[3] = tag;
                payloads.Add(retagged);
            }
        }
        return corpus;
    }

    public static TheoryData<string> Manifests => new(AdvantageSerializer.ManifestTags.Keys);

    [Fact]
    public void Every_registered_manifest_is_fuzzed()
    {
        Assert.True(AdvantageSerializer.ManifestTags.Count >= 9);
        Assert.All(Corpus(), entry => Assert.NotEmpty(entry.Value));
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Random_and_mutated_payloads_decode_to_a_valid_message_or_throw_SerializationException_within_their_size(string manifest)
    {
        var corpus = Corpus();
        var seeds = corpus[manifest];
        var others = corpus.Values.SelectMany(p => p).ToArray();
        var random = new Random(unchecked((int)(0x5EED0000u + AdvantageSerializer.ManifestTags[manifest])));
        byte[] header = [(byte)'A', (byte)'D', 1, AdvantageSerializer.ManifestTags[manifest]];
        int decoded = 0, refused = 0;
        var failures = new List<string>();
        for (int i = 0; i < PayloadsPerManifest && failures.Count < 5; i++)
        {
            byte[] payload = Mutate(random, seeds[random.Next(seeds.Count)], others, header);
            long before = GC.GetAllocatedBytesForCurrentThread();
            object? message = null;
            Exception? error = null;
            try
            {
                message = serializer.FromBinary(payload, manifest);
            }
            catch (Exception e)
            {
                error = e;
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            string which = $"payload {i} ({payload.Length} bytes: {Convert.ToHexString(payload.AsSpan(0, Math.Min(payload.Length, 48)))}...)";
            if (allocated > 2L * payload.Length + FixedAllowance)
                failures.Add($"{which} allocated {allocated:N0} bytes");
            if (error is SerializationException) refused++;
            else if (error is not null) failures.Add($"{which} threw {error.GetType().Name}: {error.Message}");
            else if (Valid(message!, manifest) is { } problem) failures.Add($"{which} decoded to an invalid message: {problem}");
            else decoded++;
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        // The corpus and its light mutations keep many payloads valid: the decoder is exercised past its header.
        Assert.True(decoded > 0 && refused > 0, $"{decoded} decoded, {refused} refused");
    }

    /// <summary>Null when the message is one this manifest names and survives another trip through the serializer unchanged.</summary>
    private string? Valid(object message, string manifest)
    {
        string written;
        try
        {
            written = serializer.Manifest(message);
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
        // An older layout (a manifest nothing writes any more) is read into the current message, written under the current manifest.
        if (written != manifest && Written.Contains(manifest)) return $"manifest {manifest} decoded to a {message.GetType().Name}, which is written as {written}";
        // Writing it and reading it back is stable. (Not necessarily the same bytes as the payload: an actor path
        // the sender wrote oddly resolves to an actor whose path is written the canonical way.)
        byte[] again = serializer.ToBinary(message);
        byte[] twice = serializer.ToBinary(serializer.FromBinary(again, written));
        return twice.AsSpan().SequenceEqual(again) ? null : "it does not survive a second round trip";
    }

    private static readonly int[] Interesting = [0, 1, -1, 2, 3, 4, 7, 8, 255, 256, 1 << 16, int.MaxValue, int.MinValue, int.MaxValue / 4, int.MaxValue / 8 + 1, 0x7FFFFFF0, 536_870_912, -4];

    private static byte[] Mutate(Random random, byte[] seed, byte[][] others, byte[] header)
    {
        switch (random.Next(10))
        {
            case 0:
            {
                // Random bytes, half of them behind a valid header.
                var bytes = new byte[random.Next(0, 300)];
                random.NextBytes(bytes);
                if (bytes.Length >= 4 && random.Next(2) == 0) header.CopyTo(bytes, 0);
                return bytes;
            }
            case 1:
            {
                // Flip a few bits.
                byte[] bytes = (byte[])seed.Clone();
                for (int n = random.Next(1, 4); n > 0 && bytes.Length > 0; n--) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
            }
            case 2 or 3:
            {
                // A length or count field made absurd: any 4 bytes past the header become an interesting int.
                byte[] bytes = (byte[])seed.Clone();
                if (bytes.Length >= 8)
                    BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(random.Next(4, bytes.Length - 3)), Interesting[random.Next(Interesting.Length)]);
                return bytes;
            }
            case 4:
                // Truncated.
                return seed[..random.Next(seed.Length + 1)];
            case 5:
            {
                // Bytes inserted in the middle.
                int at = random.Next(seed.Length + 1);
                var extra = new byte[random.Next(1, 16)];
                random.NextBytes(extra);
                return [.. seed[..at], .. extra, .. seed[at..]];
            }
            case 6:
            {
                // Bytes removed from the middle.
                int at = random.Next(seed.Length + 1);
                int count = Math.Min(random.Next(1, 16), seed.Length - at);
                return [.. seed[..at], .. seed[(at + count)..]];
            }
            case 7:
            {
                // Spliced: this message's head, another message's tail.
                var other = others[random.Next(others.Length)];
                return [.. seed[..random.Next(seed.Length + 1)], .. other[random.Next(other.Length + 1)..]];
            }
            case 8:
            {
                // Bytes set to 0xFF or 0x00 (flags out of range, lengths at their extremes, NaN-like doubles).
                byte[] bytes = (byte[])seed.Clone();
                for (int n = random.Next(1, 6); n > 0 && bytes.Length > 0; n--) bytes[random.Next(bytes.Length)] = random.Next(2) == 0 ? (byte)0xFF : (byte)0;
                return bytes;
            }
            default:
            {
                // Invalid UTF-8 or an absurd string where text sits: overwrite a window with random bytes.
                byte[] bytes = (byte[])seed.Clone();
                if (bytes.Length > 8)
                {
                    int at = random.Next(4, bytes.Length);
                    var window = bytes.AsSpan(at, Math.Min(random.Next(1, 12), bytes.Length - at));
                    random.NextBytes(window);
                }
                return bytes;
            }
        }
    }

    [Fact]
    public void A_length_that_claims_two_gigabytes_allocates_nothing_near_it()
    {
        // Parameters: tag, version, acknowledged count, then the float count. 2^29 floats would be 2 GB.
        byte[] payload = serializer.ToBinary(new Parameters(1, [1f, 2f]));
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(4 + 8 + 4), 536_870_912);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<SerializationException>(() => serializer.FromBinary(payload, "P2"));
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, FixedAllowance);
        Assert.Contains("536870912 elements", error.Message);
        // A string that claims int.MaxValue bytes.
        byte[] restarted = serializer.ToBinary(new WorkerRestarted(1, "x"));
        BinaryPrimitives.WriteInt32LittleEndian(restarted.AsSpan(8), int.MaxValue);
        Assert.Throws<SerializationException>(() => serializer.FromBinary(restarted, "WR1"));
    }
}
