using System.Text;
using System.Text.Json;
using Advantage.Learning.Networks;

namespace Advantage.Learning;

/// <summary>
/// A network's parameters with the spec that gives them meaning, in a small self-describing binary file:
/// magic, format version, a JSON header (spec, parameter layout, free-form metadata), then little-endian
/// float32 values. Written to a temporary file and renamed, so a crash never leaves a half-written checkpoint;
/// a corrupt or foreign file is refused with a clear error instead of loading garbage.
/// </summary>
/// <param name="Spec">Network sizes.</param>
/// <param name="Parameters">Flat parameter vector in the network's named order.</param>
/// <param name="Metadata">Anything else worth keeping (steps, version, options), as strings.</param>
public sealed record Checkpoint(NetworkSpec Spec, float[] Parameters, IReadOnlyDictionary<string, string> Metadata)
{
    private static readonly byte[] Magic = "ADVCKPT\0"u8.ToArray();

    /// <summary>The format version this code writes and reads.</summary>
    public const int FormatVersion = 1;

    private sealed record Header(int ObservationSize, int[] HiddenSizes, int ActionSize, bool Continuous, double InitialLogStd,
        int ParameterCount, Dictionary<string, string> Metadata);

    /// <summary>Writes the checkpoint atomically (temporary file, then rename).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var header = new Header(Spec.ObservationSize, Spec.HiddenSizes.ToArray(), Spec.ActionSize, Spec.Continuous, Spec.InitialLogStd,
            Parameters.Length, new Dictionary<string, string>(Metadata));
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
        string temp = path + ".tmp-" + Environment.ProcessId;
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        using (var writer = new BinaryWriter(stream, Encoding.UTF8))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(json.Length);
            writer.Write(json);
            foreach (float f in Parameters) writer.Write(f);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads a checkpoint, refusing anything that is not a complete one of a known format.</summary>
    /// <exception cref="InvalidDataException">The file is corrupt, truncated, foreign or of another format version.</exception>
    public static Checkpoint Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            byte[] magic = reader.ReadBytes(Magic.Length);
            if (!magic.AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"'{path}' is not an Advantage checkpoint (bad magic).");
            int version = reader.ReadInt32();
            if (version != FormatVersion) throw new InvalidDataException($"'{path}' has checkpoint format {version}; this build reads {FormatVersion}.");
            int length = reader.ReadInt32();
            if (length <= 0 || length > 16 << 20) throw new InvalidDataException($"'{path}' has a header length of {length} bytes, outside (0, 16 MiB].");
            var header = JsonSerializer.Deserialize<Header>(reader.ReadBytes(length))
                ?? throw new InvalidDataException($"'{path}' has an empty header.");
            var spec = new NetworkSpec(header.ObservationSize, header.HiddenSizes, header.ActionSize, header.Continuous, header.InitialLogStd);
            if (header.ParameterCount < 0 || stream.Length - stream.Position != header.ParameterCount * 4L)
                throw new InvalidDataException($"'{path}' is truncated or padded: expected {header.ParameterCount} floats after the header.");
            var values = new float[header.ParameterCount];
            for (int i = 0; i < values.Length; i++) values[i] = reader.ReadSingle();
            return new Checkpoint(spec, values, header.Metadata);
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException)
        {
            throw new InvalidDataException($"'{path}' is corrupt: {e.Message}", e);
        }
    }
}
