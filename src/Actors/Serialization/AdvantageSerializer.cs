using System.Runtime.Serialization;
using Advantage.Actors.Cluster;
using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Actor;
using Akka.Serialization;

namespace Advantage.Actors.Serialization;

/// <summary>
/// Binary serializer for every <see cref="IAdvantageMessage"/>: rollouts and parameter vectors are raw
/// little-endian arrays behind a short header, so the hot path costs a copy per array instead of JSON
/// text. Bound to the marker interface in the library's embedded HOCON.
/// </summary>
/// <remarks>
/// <para>Each payload starts with a 4-byte header: "AD", a format version, and the message's tag, which
/// must agree with the manifest. Manifests are short stable strings ending in their format version
/// (<c>"P2"</c> is version 2 of <see cref="Parameters"/>); a change to a layout adds a new manifest.</para>
/// <para>Nodes of one cluster must run the same Advantage version: a node reads only the layouts it writes
/// (<see cref="Wire"/>). Reading older layouts too would mean keeping, testing and fuzzing every old reader for a
/// mixed cluster nobody needs, since every node of a run trains the same network from the same code. What is kept
/// stable instead is the handshake: <see cref="JoinRun"/> (manifest <c>"JR"</c>) leads with the node's version and
/// wire, and <see cref="JoinRefused"/> (<c>"JX"</c>) carries the learner's answer, so a node of another version is refused
/// with one line on both sides instead of failing on its first rollout. The previous handshake (<c>"JR2"</c>) is still
/// read, only to refuse the node that sends it.</para>
/// <para>Anything that is not a complete message of the named manifest (an unknown manifest, truncated
/// bytes, lengths that do not fit, trailing bytes, invalid values) throws
/// <see cref="SerializationException"/>: Akka.Remote then drops that one message and keeps the connection.</para>
/// </remarks>
internal sealed class AdvantageSerializer : SerializerWithStringManifest
{
    /// <summary>The serializer identifier registered in HOCON; stable across releases.</summary>
    public const int Id = 417;

    private const byte FormatVersion = 1;

    /// <summary>Manifests (stable; never reuse one for another layout).</summary>
    internal const string RegisterWorkerManifest = "RW1", ParametersManifest = "P2", RolloutManifest = "RC3",
        WorkerRestartedManifest = "WR1", StopManifest = "ST1", GetProgressManifest = "GP1", ProgressManifest = "TP2",
        JoinRunManifest = "JR", RunJoinedManifest = "RJ8", JoinRefusedManifest = "JX", RunEndedManifest = "RE1", RolloutRefusedManifest = "RR1", RestoreWorkerManifest = "RS1",
        ActManifest = "AQ1", ActedManifest = "AA1", ActRejectedManifest = "AE1", FollowParametersManifest = "FP1",
        GetPolicyServerStatsManifest = "GS1", PolicyServerStatsManifest = "SS1";

    /// <summary>The handshake of versions before <see cref="JoinRunManifest"/> was frozen: read only to refuse its sender.</summary>
    internal const string PreviousJoinRunManifest = "JR2";

    private static readonly Dictionary<string, byte> Tags = new()
    {
        [RegisterWorkerManifest] = 1, [ParametersManifest] = 2, [RolloutManifest] = 3, [WorkerRestartedManifest] = 4,
        [StopManifest] = 5, [GetProgressManifest] = 6, [ProgressManifest] = 7, [PreviousJoinRunManifest] = 8, [RunJoinedManifest] = 15,
        [RolloutRefusedManifest] = 10, [JoinRunManifest] = 11, [JoinRefusedManifest] = 12, [RunEndedManifest] = 13, [RestoreWorkerManifest] = 14,
        // The policy server's messages start at 20, leaving room for the training messages' next layouts.
        [ActManifest] = 20, [ActedManifest] = 21, [ActRejectedManifest] = 22, [FollowParametersManifest] = 23,
        [GetPolicyServerStatsManifest] = 24, [PolicyServerStatsManifest] = 25,
    };

    /// <summary>Every manifest this node reads, with the tag its payload header carries (tests enumerate them, so a new layout is fuzzed too).</summary>
    internal static IReadOnlyDictionary<string, byte> ManifestTags => Tags;

    /// <summary>
    /// The manifests this node writes, sorted: its wire protocol. Two nodes talk when their sets are equal; a layout
    /// change adds a new manifest, which changes this set, so the handshake (<see cref="JoinRun.Wire"/>) catches it.
    /// </summary>
    public static IReadOnlyList<string> Wire { get; } = Tags.Keys.Where(m => m != PreviousJoinRunManifest).Order(StringComparer.Ordinal).ToArray();

    /// <summary>This node's Advantage version (the informational version of Advantage.Actors), for handshake messages.</summary>
    public static string ProductVersion { get; } =
        (typeof(AdvantageSerializer).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown").Split('+')[0];

    /// <summary>Created by Akka from HOCON.</summary>
    public AdvantageSerializer(ExtendedActorSystem system) : base(system) { }

    /// <inheritdoc />
    public override int Identifier => Id;

    /// <inheritdoc />
    public override string Manifest(object o) => o switch
    {
        RegisterWorker => RegisterWorkerManifest,
        Parameters => ParametersManifest,
        RolloutCollected => RolloutManifest,
        WorkerRestarted => WorkerRestartedManifest,
        RolloutRefused => RolloutRefusedManifest,
        RestoreWorker => RestoreWorkerManifest,
        StopTraining => StopManifest,
        GetProgress => GetProgressManifest,
        TrainingProgress => ProgressManifest,
        JoinRun => JoinRunManifest,
        RunJoined => RunJoinedManifest,
        JoinRefused => JoinRefusedManifest,
        RunEnded => RunEndedManifest,
        Act => ActManifest,
        Acted => ActedManifest,
        ActRejected => ActRejectedManifest,
        FollowParameters => FollowParametersManifest,
        GetPolicyServerStats => GetPolicyServerStatsManifest,
        PolicyServerStats => PolicyServerStatsManifest,
        _ => throw new ArgumentException($"{nameof(AdvantageSerializer)} cannot serialize {o?.GetType().FullName ?? "null"}.", nameof(o)),
    };

    /// <summary>Bytes a message will take on the wire (payload only); used to size frames and in reports.</summary>
    public static long EstimateSize(Rollout rollout)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        return 64 + 4L * rollout.Observations.Length + 4L * rollout.Actions.Length + 4L * rollout.Rewards.Length
            + rollout.Terminated.Length + rollout.Truncated.Length + 4L * rollout.FinalObservationIndices.Length
            + 4L * rollout.FinalObservations.Length + 8L * rollout.EpisodeReturns.Length + 4L * rollout.EpisodeLengths.Length
            + 4L * rollout.BehaviourLogProbs.Length;
    }

    /// <inheritdoc />
    public override byte[] ToBinary(object obj)
    {
        string manifest = Manifest(obj);
        var w = new WireWriter(obj switch
        {
            Parameters p => 64 + 4 * p.Values.Length + 16 * (p.ObservationStatistics?.Size ?? 0),
            RolloutCollected r => (int)Math.Min(int.MaxValue, EstimateSize(r.Data) + 5 + (r.WorkerState?.Length ?? 0)),
            RestoreWorker m => 64 + m.State.Length,
            Act a => 32 + 4 * a.Observations.Length,
            Acted a => 40 + 4 * (a.Actions.Length + a.Values.Length + a.Probabilities.Length),
            _ => 64,
        });
        w.Byte((byte)'A');
        w.Byte((byte)'D');
        w.Byte(FormatVersion);
        w.Byte(Tags[manifest]);
        switch (obj)
        {
            case RegisterWorker m:
                w.Int(m.WorkerId);
                w.Int(m.Environments);
                break;
            case Parameters m:
                w.Long(m.Version);
                w.Int(m.Acknowledged);
                w.Floats(m.Values);
                w.Bool(m.ObservationStatistics is not null);
                if (m.ObservationStatistics is { } s)
                {
                    w.Doubles(s.Mean);
                    w.Doubles(s.Var);
                    w.Double(s.Count);
                }
                break;
            case RolloutCollected { Data: var r } m:
                w.Int(r.WorkerId);
                w.Long(r.Version);
                w.Int(r.Steps);
                w.Int(r.Environments);
                w.Int(r.ObservationSize);
                w.Int(r.ActionWidth);
                w.Floats(r.Observations);
                w.Floats(r.Actions);
                w.Floats(r.Rewards);
                w.Bools(r.Terminated);
                w.Bools(r.Truncated);
                w.Ints(r.FinalObservationIndices);
                w.Floats(r.FinalObservations);
                w.Doubles(r.EpisodeReturns);
                w.Ints(r.EpisodeLengths);
                w.Floats(r.BehaviourLogProbs);
                w.Bool(m.WorkerState is not null);
                if (m.WorkerState is { } state) w.Bytes(state);
                break;
            case RestoreWorker m:
                w.Int(m.WorkerId);
                w.Long(m.Version);
                w.Bytes(m.State);
                break;
            case WorkerRestarted m:
                w.Int(m.WorkerId);
                w.String(m.Reason);
                break;
            case RolloutRefused m:
                w.Long(m.Version);
                w.String(m.Reason);
                break;
            case StopTraining or GetProgress or FollowParameters or GetPolicyServerStats:
                break;
            case Act m:
                w.Long(m.RequestId);
                w.Bool(m.Deterministic);
                w.Bool(m.Seed is not null);
                if (m.Seed is { } seed) w.Int(seed);
                w.Bool(m.IncludeValues);
                w.Bool(m.IncludeProbabilities);
                w.Floats(m.Observations);
                break;
            case Acted m:
                w.Long(m.RequestId);
                w.Long(m.Version);
                w.Int(m.ActionWidth);
                w.Floats(m.Actions);
                w.Floats(m.Values);
                w.Floats(m.Probabilities);
                break;
            case ActRejected m:
                w.Long(m.RequestId);
                w.String(m.Reason);
                break;
            case PolicyServerStats m:
                w.Long(m.Requests);
                w.Long(m.Decisions);
                w.Long(m.Batches);
                w.Int(m.LargestBatch);
                w.Long(m.Rejected);
                w.Long(m.Version);
                w.Long(m.Swaps);
                break;
            case TrainingProgress m:
                w.Long(m.Steps);
                w.Double(m.Seconds);
                w.Double(m.StepsPerSecond);
                w.Long(m.Episodes);
                w.Double(m.MeanReturn);
                w.Long(m.Version);
                w.Int(m.Workers);
                w.Long(m.RejectedRollouts);
                w.Long(m.WorkerRestarts);
                w.Bool(m.LastUpdate is not null);
                if (m.LastUpdate is { } u)
                {
                    w.Double(u.PolicyLoss);
                    w.Double(u.ValueLoss);
                    w.Double(u.Entropy);
                    w.Double(u.GradNorm);
                    w.Double(u.ExplainedVariance);
                    w.Int(u.BatchSize);
                    // An algorithm's own scalars as name/value pairs: a new algorithm adds names, not a wire format.
                    w.Int(u.Extra.Count);
                    foreach (var (name, value) in u.Extra)
                    {
                        w.String(name);
                        w.Double(value);
                    }
                }
                break;
            case JoinRun m:
                // Frozen layout: version, wire and node first, readable by every later version; the rest only by the same wire.
                w.String(m.Version);
                w.Strings(m.Wire);
                w.String(m.Node);
                w.Int(m.Workers);
                w.Strings(m.EnvironmentIds);
                w.Strings(m.Algorithms);
                w.Bool(m.Simulation);
                break;
            case JoinRefused m:
                w.String(m.Reason);
                break;
            case RunEnded m:
                w.String(m.Detail);
                break;
            case RunJoined m:
                w.String(Akka.Serialization.Serialization.SerializedActorPath(m.Learner));
                w.String(m.EnvironmentId);
                w.String(m.Algorithm);
                w.Int(m.Spec.ObservationSize);
                w.Ints(m.Spec.HiddenSizes.ToArray());
                w.Int(m.Spec.ActionSize);
                w.Bool(m.Spec.Continuous);
                w.Double(m.Spec.InitialLogStd);
                w.Int((int)m.Spec.Body);
                w.Bool(m.Spec.ObservationShape is not null);
                if (m.Spec.ObservationShape is { } shape) w.Ints(shape.ToArray());
                w.Bool(m.Spec.SeparateNetworks);
                w.Bool(m.Spec.StateDependentNoise);
                w.Int(m.Spec.SdeSampleFrequency);
                w.Int(m.Workers.Count);
                foreach (var plan in m.Workers)
                {
                    w.Int(plan.WorkerId);
                    w.Int(plan.Seed);
                    w.Int(plan.RolloutLength);
                    w.Int(plan.Environments);
                    w.Int(plan.CheckpointInterval);
                    w.Int(plan.Ahead);
                    w.Bool(plan.RewardScaling is not null);
                    if (plan.RewardScaling is { } scaling)
                    {
                        w.Double(scaling.Gamma);
                        w.Double(scaling.Epsilon);
                    }
                }
                w.Bool(m.ActionBounds is not null);
                if (m.ActionBounds is { } box)
                {
                    w.Ints(box.Shape.ToArray());
                    w.Floats(box.Low.ToArray());
                    w.Floats(box.High.ToArray());
                }
                break;
        }
        return w.ToArray();
    }

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (bytes is null) throw new SerializationException("Cannot read an Advantage message from null bytes.");
        if (manifest is null || !Tags.TryGetValue(manifest, out byte tag))
            throw new SerializationException($"Unknown Advantage manifest '{manifest}'; this node reads {string.Join(", ", Tags.Keys)}.");
        var r = new WireReader(bytes, manifest);
        if (r.Byte() != 'A' || r.Byte() != 'D') throw r.Fail("it does not start with the Advantage header");
        byte version = r.Byte();
        if (version != FormatVersion) throw r.Fail($"its format version is {version}, this node reads {FormatVersion}");
        byte actualTag = r.Byte();
        if (actualTag != tag) throw r.Fail($"its tag {actualTag} does not match the manifest's {tag}");
        try
        {
            object message = manifest switch
            {
                RegisterWorkerManifest => new RegisterWorker(r.Int(), r.Int()),
                ParametersManifest => ReadParameters(ref r),
                RolloutManifest => new RolloutCollected(new Rollout(
                    r.Int(), r.Long(), r.Int(), r.Int(), r.Int(), r.Int(),
                    r.Floats(), r.Floats(), r.Floats(), r.Bools(), r.Bools(), r.Ints(), r.Floats(), r.Doubles(), r.Ints()) { BehaviourLogProbs = r.Floats() })
                    { WorkerState = r.Bool() ? r.Bytes() : null },
                RestoreWorkerManifest => new RestoreWorker(r.Int(), r.Long(), r.Bytes()),
                WorkerRestartedManifest => new WorkerRestarted(r.Int(), r.String()),
                RolloutRefusedManifest => new RolloutRefused(r.Long(), r.String()),
                StopManifest => StopTraining.Instance,
                GetProgressManifest => GetProgress.Instance,
                ProgressManifest => new TrainingProgress(r.Long(), r.Double(), r.Double(), r.Long(), r.Double(), r.Long(), r.Int(), r.Long(), r.Long(),
                    r.Bool() ? ReadUpdateMetrics(ref r) : null),
                JoinRunManifest => ReadJoinRun(ref r),
                PreviousJoinRunManifest => ReadPreviousJoinRun(ref r),
                JoinRefusedManifest => new JoinRefused(r.String()),
                RunEndedManifest => new RunEnded(r.String()),
                RunJoinedManifest => ReadRunJoined(ref r),
                ActManifest => ReadAct(ref r),
                ActedManifest => ReadActed(ref r),
                ActRejectedManifest => new ActRejected(r.Long(), r.String()),
                FollowParametersManifest => FollowParameters.Instance,
                GetPolicyServerStatsManifest => GetPolicyServerStats.Instance,
                PolicyServerStatsManifest => ReadStats(ref r),
                _ => throw r.Fail("no reader"),
            };
            r.End();
            return message;
        }
        catch (ArgumentException e)
        {
            // A constructor refused the values (e.g. negative variances): the bytes are not a valid message.
            throw r.Fail(e.Message);
        }
    }

    private static JoinRun ReadJoinRun(ref WireReader r)
    {
        string version = r.String();
        string[] wire = r.Strings();
        string node = r.String();
        if (!wire.SequenceEqual(Wire, StringComparer.Ordinal))
        {
            // Another protocol: what follows may have another layout. The node is refused for its wire alone.
            r.SkipRest();
            return new JoinRun(node, 0) { Wire = wire, Version = version };
        }
        int workers = r.Int();
        var environments = r.Strings();
        return new JoinRun(node, workers) { Wire = Wire, Version = version, EnvironmentIds = environments, Algorithms = r.Strings(), Simulation = r.Bool() };
    }

    /// <summary>The previous handshake: a node that will be refused, so, as for another wire, only its address matters.</summary>
    private static JoinRun ReadPreviousJoinRun(ref WireReader r)
    {
        string node = r.String();
        _ = r.Int();
        return new JoinRun(node, 0) { Wire = [PreviousJoinRunManifest], Version = "an earlier version" };
    }

    private RunJoined ReadRunJoined(ref WireReader r)
    {
        var learner = ResolveLearner(ref r, r.String());
        string environmentId = r.String();
        string algorithm = r.String();
        int observationSize = r.Int();
        int[] hidden = r.Ints();
        int actionSize = r.Int();
        bool continuous = r.Bool();
        double logStd = r.Double();
        int body = r.Int();
        if (!Enum.IsDefined((BodyKind)body)) throw r.Fail($"network body {body} is unknown");
        int[]? shape = r.Bool() ? r.Ints() : null;
        bool separate = r.Bool();
        bool stateDependentNoise = r.Bool();
        int sdeSampleFrequency = r.Int();
        var spec = new NetworkSpec(observationSize, hidden, actionSize, continuous, logStd, (BodyKind)body, shape, separate, stateDependentNoise, sdeSampleFrequency);
        int count = r.Int();
        // Each plan takes at least 25 bytes: a count beyond what is left is a lie, refused before allocating.
        if (count < 0 || count > r.Remaining / 25) throw r.Fail($"worker count {count} does not fit the {r.Remaining} bytes left");
        var workers = new WorkerPlan[count];
        for (int i = 0; i < count; i++)
        {
            int id = r.Int(), seed = r.Int(), rolloutLength = r.Int(), environments = r.Int(), checkpointInterval = r.Int(), ahead = r.Int();
            var scaling = r.Bool() ? new RewardScalerOptions(r.Double(), r.Double()) : null;
            if (id < 0 || rolloutLength < 1 || environments < 1 || checkpointInterval < 0 || ahead < 0) throw r.Fail($"worker plan {i} has invalid sizes");
            workers[i] = new WorkerPlan(id, seed, rolloutLength, environments, checkpointInterval, scaling) { Ahead = ahead };
        }
        // Box checks its own shape and bounds (an ArgumentException, refused as an invalid message).
        var bounds = r.Bool() ? new Box(r.Ints(), r.Floats(), r.Floats()) : null;
        if (bounds is not null && (!spec.Continuous || bounds.FlatSize != spec.ActionSize || bounds.Shape.Any(d => d > bounds.FlatSize)))
            throw r.Fail($"action bounds of {bounds.FlatSize} elements do not fit the network's {(spec.Continuous ? spec.ActionSize : 0)} continuous actions");
        return new RunJoined(learner, environmentId, spec, workers, algorithm) { ActionBounds = bounds };
    }

    private static UpdateMetrics ReadUpdateMetrics(ref WireReader r)
    {
        var metrics = new UpdateMetrics(r.Double(), r.Double(), r.Double(), r.Double(), r.Double(), r.Int());
        int count = r.Int();
        // Each pair takes at least 12 bytes (an empty name's length and the value): a count beyond what is left is a lie.
        if (count < 0 || count > r.Remaining / 12) throw r.Fail($"extra metric count {count} does not fit the {r.Remaining} bytes left");
        var extra = new Dictionary<string, double>(count, StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            string name = r.String();
            if (!extra.TryAdd(name, r.Double())) throw r.Fail($"extra metric '{name}' appears twice");
        }
        return metrics with { Extra = extra };
    }

    /// <summary>
    /// The learner's actor from its serialized path. Akka's resolver throws <see cref="FormatException"/> on
    /// some malformed paths (a port that is not a number); the path is the sender's to choose, so every way it
    /// can be wrong is a <see cref="SerializationException"/> here, never an exception Akka.Remote does not expect.
    /// </summary>
    private IActorRef ResolveLearner(ref WireReader r, string path)
    {
        IActorRef learner;
        try
        {
            if (!ActorPath.TryParse(path, out var parsed) || parsed is null || parsed.Elements.Count == 0) throw r.Fail("the learner's path is not an actor path");
            learner = system.Provider.ResolveActorRef(path);
            // A path Akka parses but cannot place resolves to dead letters or to a root: no learner a worker could register with.
            if (!learner.Path.Elements.SequenceEqual(parsed.Elements)) throw r.Fail("the learner's path does not name an actor");
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw r.Fail($"the learner's path is not an actor path ({e.GetType().Name})");
        }
        return learner;
    }

    /// <summary>
    /// A request's observations travel as sent, even malformed (wrong length, NaN): the server answers those with an
    /// <see cref="ActRejected"/> that says what is wrong, which a refusal here would turn into silence.
    /// </summary>
    private static Act ReadAct(ref WireReader r)
    {
        long id = r.Long();
        bool deterministic = r.Bool();
        int? seed = r.Bool() ? r.Int() : null;
        bool values = r.Bool(), probabilities = r.Bool();
        return new Act(id, r.Floats()) { Deterministic = deterministic, Seed = seed, IncludeValues = values, IncludeProbabilities = probabilities };
    }

    private static Acted ReadActed(ref WireReader r)
    {
        long id = r.Long(), version = r.Long();
        int width = r.Int();
        float[] actions = r.Floats(), values = r.Floats(), probabilities = r.Floats();
        if (width < 1 || actions.Length % width != 0) throw r.Fail($"{actions.Length} action floats do not make whole actions of width {width}");
        int count = actions.Length / width;
        if (values.Length != 0 && values.Length != count) throw r.Fail($"{values.Length} values for {count} actions");
        if (probabilities.Length != 0 && (count == 0 || probabilities.Length % count != 0)) throw r.Fail($"{probabilities.Length} probabilities do not make {count} rows");
        return new Acted(id, version, width, actions) { Values = values, Probabilities = probabilities };
    }

    private static PolicyServerStats ReadStats(ref WireReader r)
    {
        var stats = new PolicyServerStats(r.Long(), r.Long(), r.Long(), r.Int(), r.Long(), r.Long(), r.Long());
        if (stats.Requests < 0 || stats.Decisions < 0 || stats.Batches < 0 || stats.LargestBatch < 0 || stats.Rejected < 0 || stats.Swaps < 0)
            throw r.Fail("a counter is negative");
        return stats;
    }

    private static Parameters ReadParameters(ref WireReader r)
    {
        long version = r.Long();
        int acknowledged = r.Int();
        if (acknowledged < 0) throw r.Fail($"acknowledged count {acknowledged} is negative");
        float[] values = r.Floats();
        NormalizerState? statistics = r.Bool() ? new NormalizerState(r.Doubles(), r.Doubles(), r.Double()) : null;
        return new Parameters(version, values, statistics) { Acknowledged = acknowledged };
    }
}
