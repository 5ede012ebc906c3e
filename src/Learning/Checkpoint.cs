using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Advantage.Environments;
using Advantage.Learning.Networks;

namespace Advantage.Learning;

/// <summary>Where a run stood when a checkpoint was taken: what a resumed learner needs besides the weights.</summary>
/// <param name="Version">Parameter version (updates applied).</param>
/// <param name="Steps">Environment steps applied.</param>
/// <param name="Episodes">Episodes finished.</param>
/// <param name="RecentReturns">The returns in the mean-return window, oldest first, so a resumed run's mean return and target check continue exactly.</param>
public sealed record CheckpointProgress(long Version, long Steps, long Episodes, IReadOnlyList<double> RecentReturns);

/// <summary>
/// One worker's saved state (its environments with their episodes in progress, its action sampling, its reward scaling)
/// as of a checkpoint's version: what lets a resumed worker continue its episodes instead of starting fresh ones.
/// </summary>
/// <param name="WorkerId">The worker it belongs to.</param>
/// <param name="State">Opaque bytes only that worker's code reads.</param>
public sealed record WorkerSavedState(int WorkerId, byte[] State);

/// <summary>
/// Everything needed to use or continue a run, in a small self-describing binary file: magic, format
/// version, a JSON header (spec with its body kind and observation shape, parameter layout sizes, progress counters, options, observation statistics, action bounds,
/// free-form metadata), little-endian float32 parameters, the optimizer's serialized state, then a CRC-32 of
/// all preceding bytes. Written to a temporary file and renamed, so a crash never leaves a half-written
/// checkpoint; a corrupt, truncated or foreign file is refused with a clear error instead of loading garbage.
/// </summary>
/// <remarks>
/// Format 3 adds the <c>algorithm</c> that trained the parameters ("a2c", "ppo", "impala", or a registered algorithm's name), in the header and as the options'
/// discriminator, so a run refuses to continue another algorithm's optimizer state. Older formats are refused. The
/// workers' saved states (<see cref="WorkerStates"/>) are an optional header field, so a format-3 file without them still
/// loads (its resume starts fresh episodes).
/// F# callers: construct with the three positional values and add the optional parts with the <c>WithX</c> methods.
/// </remarks>
/// <param name="Spec">Network sizes.</param>
/// <param name="Parameters">Flat parameter vector in the network's named order.</param>
/// <param name="Metadata">Anything else worth keeping, as strings.</param>
public sealed record Checkpoint(NetworkSpec Spec, float[] Parameters, IReadOnlyDictionary<string, string> Metadata)
{
    private static readonly byte[] Magic = "ADVCKPT\0"u8.ToArray();

    /// <summary>The format version this code writes and reads.</summary>
    public const int FormatVersion = 3;

    /// <summary>The optimizer's serialized state (TorchSharp's <c>save_state_dict</c> bytes); null when not kept.</summary>
    public byte[]? OptimizerState { get; init; }

    /// <summary>Running observation statistics of a run that normalised observations; null otherwise.</summary>
    public NormalizerState? ObservationStatistics { get; init; }

    /// <summary>Counters and the return window; null for a bare model.</summary>
    public CheckpointProgress? Progress { get; init; }

    /// <summary>The algorithm's options the run used (their concrete type names the algorithm); null for a bare model.</summary>
    public AlgorithmOptions? Options { get; init; }

    /// <summary>
    /// The algorithm that trained the parameters ("a2c", "ppo", "impala", ...): <see cref="Options"/>' when they are kept, else the
    /// header's; null when unknown. Resuming refuses a checkpoint of another algorithm.
    /// </summary>
    public string? Algorithm
    {
        get => Options?.Algorithm ?? algorithm;
        init => algorithm = value;
    }

    private readonly string? algorithm;

    /// <summary>The environment id the run trained on; null when unknown.</summary>
    public string? EnvironmentId { get; init; }

    /// <summary>
    /// The workers' saved states as of <see cref="Progress"/>' version, so a resumed run continues every episode in
    /// progress; null or partial when the run could not save them (a checkpoint written at the end of a run between
    /// checkpoint intervals, an asynchronous run, environments that cannot save), and workers without one start fresh
    /// episodes on resume.
    /// </summary>
    public IReadOnlyList<WorkerSavedState>? WorkerStates { get; init; }

    /// <summary>Whether every one of <paramref name="workers"/> workers (ids 0..workers-1) has a saved state: a resume then continues every episode.</summary>
    public bool HoldsWorkerStates(int workers) =>
        WorkerStates is { } states && Enumerable.Range(0, workers).All(id => states.Any(s => s.WorkerId == id));

    /// <summary>
    /// The action space a Gaussian policy's actions were clipped to when the run stepped its environments; null for a
    /// categorical policy or when unknown. Kept so that whoever uses the policy (<see cref="TrainedPolicy"/>, an ONNX
    /// export) clips exactly as the run's workers did, without having to construct the environment.
    /// </summary>
    public Box? ActionBounds { get; init; }

    /// <summary>True when the checkpoint holds what exact continuation needs: optimizer state, counters and options.</summary>
    public bool CanResume => OptimizerState is not null && Progress is not null && Options is not null;

    /// <summary>Returns a copy with <see cref="OptimizerState"/> changed.</summary>
    public Checkpoint WithOptimizerState(byte[]? value) => this with { OptimizerState = value };

    /// <summary>Returns a copy with <see cref="ObservationStatistics"/> changed.</summary>
    public Checkpoint WithObservationStatistics(NormalizerState? value) => this with { ObservationStatistics = value };

    /// <summary>Returns a copy with <see cref="Progress"/> changed.</summary>
    public Checkpoint WithProgress(CheckpointProgress? value) => this with { Progress = value };

    /// <summary>Returns a copy with <see cref="Options"/> changed.</summary>
    public Checkpoint WithOptions(AlgorithmOptions? value) => this with { Options = value };

    /// <summary>Returns a copy with <see cref="EnvironmentId"/> changed.</summary>
    public Checkpoint WithEnvironmentId(string? value) => this with { EnvironmentId = value };

    /// <summary>Returns a copy with <see cref="WorkerStates"/> changed.</summary>
    public Checkpoint WithWorkerStates(IReadOnlyList<WorkerSavedState>? value) => this with { WorkerStates = value };

    /// <summary>Returns a copy with <see cref="ActionBounds"/> changed.</summary>
    public Checkpoint WithActionBounds(Box? value) => this with { ActionBounds = value };

    private sealed record Statistics(double[] Mean, double[] Var, double Count);

    private sealed record Header(int ObservationSize, int[] HiddenSizes, int ActionSize, bool Continuous, double InitialLogStd,
        int ParameterCount, Dictionary<string, string> Metadata)
    {
        public int OptimizerBytes { get; init; } = -1;
        public BodyKind Body { get; init; } = BodyKind.FullyConnected;
        public int[]? ObservationShape { get; init; }
        public bool SeparateNetworks { get; init; }
        public bool StateDependentNoise { get; init; }
        public int SdeSampleFrequency { get; init; } = -1;
        public CheckpointProgress? Progress { get; init; }
        public string? Algorithm { get; init; }
        public AlgorithmOptions? Options { get; init; }
        public string? EnvironmentId { get; init; }
        public Statistics? ObservationStatistics { get; init; }
        public Bounds? ActionBounds { get; init; }
        public WorkerSavedState[]? WorkerStates { get; init; }
    }

    private sealed record Bounds(int[] Shape, float[] Low, float[] High);

    private sealed record JsonCache(int Generation, JsonSerializerOptions Options);

    private static JsonCache? json;

    /// <summary>
    /// The header's serializer options. Bounds may be infinite: JSON has no literal for that, so the named ones ("Infinity")
    /// are allowed. <see cref="AlgorithmOptions"/> is written with an <c>algorithm</c> discriminator whose values are the
    /// registered algorithms' names (<see cref="Algorithms"/>), so the options are rebuilt when an algorithm registers.
    /// </summary>
    private static JsonSerializerOptions Json
    {
        get
        {
            if (Volatile.Read(ref json) is { } cached && cached.Generation == Algorithms.Generation) return cached.Options;
            int generation = Algorithms.Generation;
            var resolver = new DefaultJsonTypeInfoResolver();
            resolver.Modifiers.Add(info =>
            {
                if (info.Type != typeof(AlgorithmOptions)) return;
                var polymorphism = new JsonPolymorphismOptions
                {
                    TypeDiscriminatorPropertyName = "algorithm",
                    UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization,
                };
                foreach (var algorithm in Algorithms.All) polymorphism.DerivedTypes.Add(new JsonDerivedType(algorithm.OptionsType, algorithm.Name));
                info.PolymorphismOptions = polymorphism;
            });
            var options = new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, TypeInfoResolver = resolver };
            Volatile.Write(ref json, new JsonCache(generation, options));
            return options;
        }
    }

    /// <summary>The algorithm a header's options name when no registered algorithm has that name; null otherwise.</summary>
    private static string? UnregisteredAlgorithm(byte[] header)
    {
        using var document = JsonDocument.Parse(header);
        if (document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("Options", out var options) || options.ValueKind != JsonValueKind.Object
            || !options.TryGetProperty("algorithm", out var name) || name.ValueKind != JsonValueKind.String) return null;
        string algorithm = name.GetString()!;
        return Algorithms.Find(algorithm) is null ? algorithm : null;
    }

    /// <summary>
    /// Writes the checkpoint atomically (temporary file in the same folder, flushed to disk, then renamed over <paramref name="path"/>).
    /// A failed write (a full disk) removes its temporary file and leaves the previous file at <paramref name="path"/> as it was.
    /// </summary>
    public void Save(string path) => Save(path, temp => new FileStream(temp, FileMode.Create, FileAccess.Write));

    /// <summary>
    /// <see cref="Save(string)"/> through <paramref name="create"/>, which opens the temporary file for writing: the seam
    /// through which tests make the disk fail.
    /// </summary>
    internal void Save(string path, Func<string, Stream> create)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(create);
        if (Options is not null && Algorithms.Of(Options) is null)
            throw new InvalidOperationException($"Cannot save {Options.GetType().Name}: {Algorithms.NotRegistered(Options.Algorithm)}");
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var stats = ObservationStatistics;
        var header = new Header(Spec.ObservationSize, Spec.HiddenSizes.ToArray(), Spec.ActionSize, Spec.Continuous, Spec.InitialLogStd,
            Parameters.Length, new Dictionary<string, string>(Metadata))
        {
            OptimizerBytes = OptimizerState?.Length ?? -1,
            Body = Spec.Body,
            ObservationShape = Spec.ObservationShape?.ToArray(),
            SeparateNetworks = Spec.SeparateNetworks,
            StateDependentNoise = Spec.StateDependentNoise,
            SdeSampleFrequency = Spec.SdeSampleFrequency,
            Progress = Progress is null ? null : Progress with { RecentReturns = Progress.RecentReturns.ToArray() },
            Algorithm = Algorithm,
            Options = Options,
            EnvironmentId = EnvironmentId,
            ObservationStatistics = stats is null ? null : new Statistics(stats.Mean, stats.Var, stats.Count),
            ActionBounds = ActionBounds is { } box ? new Bounds(box.Shape.ToArray(), box.Low.ToArray(), box.High.ToArray()) : null,
            WorkerStates = WorkerStates?.ToArray(),
        };
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header, Json);
        using var body = new MemoryStream();
        using (var writer = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(json.Length);
            writer.Write(json);
            foreach (float f in Parameters) writer.Write(f);
            if (OptimizerState is not null) writer.Write(OptimizerState);
            writer.Write(Crc32.Compute(body.GetBuffer().AsSpan(0, (int)body.Length)));
        }
        string temp = $"{path}.tmp-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}";
        try
        {
            using (var stream = create(temp))
            {
                stream.Write(body.GetBuffer(), 0, (int)body.Length);
                if (stream is FileStream file) file.Flush(flushToDisk: true);
                else stream.Flush();
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            // A half-written temporary file is of no use to anyone and takes the room a smaller file might have had.
            try
            {
                File.Delete(temp);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
            throw;
        }
    }

    /// <summary>Reads a checkpoint, refusing anything that is not a complete one of a known format.</summary>
    /// <exception cref="InvalidDataException">The file is corrupt, truncated, foreign or of an unknown format version.</exception>
    public static Checkpoint Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = File.ReadAllBytes(path);
        using var stream = new MemoryStream(bytes, writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            byte[] magic = reader.ReadBytes(Magic.Length);
            if (!magic.AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"'{path}' is not an Advantage checkpoint (bad magic).");
            int version = reader.ReadInt32();
            if (version != FormatVersion)
                throw new InvalidDataException($"'{path}' has checkpoint format {version}; this build reads {FormatVersion}.");
            if (bytes.Length < Magic.Length + 12) throw new InvalidDataException($"'{path}' is truncated.");
            long payloadEnd = bytes.Length - 4;
            uint stored = BitConverter.ToUInt32(bytes, (int)payloadEnd);
            uint actual = Crc32.Compute(bytes.AsSpan(0, (int)payloadEnd));
            if (stored != actual)
                throw new InvalidDataException($"'{path}' is corrupt or truncated: checksum {actual:x8} does not match the stored {stored:x8}.");
            int length = reader.ReadInt32();
            if (length <= 0 || length > 16 << 20 || length > payloadEnd - stream.Position)
                throw new InvalidDataException($"'{path}' has a header length of {length} bytes, outside the file or (0, 16 MiB].");
            byte[] headerBytes = reader.ReadBytes(length);
            if (UnregisteredAlgorithm(headerBytes) is { } unknown)
                throw new InvalidDataException($"'{path}': {Algorithms.NotRegistered(unknown)}");
            var header = JsonSerializer.Deserialize<Header>(headerBytes, Json)
                ?? throw new InvalidDataException($"'{path}' has an empty header.");
            if (header.HiddenSizes is null || header.Metadata is null) throw new InvalidDataException($"'{path}' has an incomplete header.");
            if (!Enum.IsDefined(header.Body)) throw new InvalidDataException($"'{path}' names an unknown network body {header.Body}.");
            var spec = new NetworkSpec(header.ObservationSize, header.HiddenSizes, header.ActionSize, header.Continuous, header.InitialLogStd,
                header.Body, header.ObservationShape, header.SeparateNetworks, header.StateDependentNoise, header.SdeSampleFrequency);
            long optimizerBytes = Math.Max(header.OptimizerBytes, 0);
            if (header.ParameterCount < 0 || payloadEnd - stream.Position != header.ParameterCount * 4L + optimizerBytes)
                throw new InvalidDataException($"'{path}' is truncated or padded: expected {header.ParameterCount} floats and {optimizerBytes} optimizer bytes after the header.");
            var values = new float[header.ParameterCount];
            for (int i = 0; i < values.Length; i++) values[i] = reader.ReadSingle();
            byte[]? optimizer = header.OptimizerBytes >= 0 ? reader.ReadBytes(header.OptimizerBytes) : null;
            var stats = header.ObservationStatistics;
            if (header.Options is not null && header.Algorithm is not null && header.Algorithm != header.Options.Algorithm)
                throw new InvalidDataException($"'{path}' names algorithm '{header.Algorithm}' but holds {header.Options.Algorithm} options.");
            return new Checkpoint(spec, values, header.Metadata)
            {
                OptimizerState = optimizer,
                Progress = header.Progress,
                Algorithm = header.Algorithm,
                Options = header.Options,
                EnvironmentId = header.EnvironmentId,
                ObservationStatistics = stats is null ? null : new NormalizerState(stats.Mean, stats.Var, stats.Count),
                ActionBounds = header.ActionBounds is { } b ? new Box(b.Shape, b.Low, b.High) : null,
                WorkerStates = header.WorkerStates is not { } workers ? null
                    : Array.TrueForAll(workers, w => w?.State is not null) ? workers
                    : throw new InvalidDataException($"'{path}' has an incomplete worker state."),
            };
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"'{path}' is corrupt: {e.Message}", e);
        }
    }
}

/// <summary>CRC-32 (IEEE 802.3, reflected 0xEDB88320), enough to tell a damaged checkpoint from a good one.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = Build();

    private static uint[] Build()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }
}
