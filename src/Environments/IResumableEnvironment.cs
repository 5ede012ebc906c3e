namespace Advantage.Environments;

/// <summary>
/// An environment that can save everything its future depends on (its physical state, its random stream, its
/// counters) and restore it into another instance of the same environment, so the restored copy continues exactly
/// as the saved one would have: the same observations, rewards and episode ends for the same actions.
/// </summary>
/// <remarks>
/// It exists so a training run can be checkpointed without cutting the episodes in progress: workers save their
/// environments with the checkpoint, and a resumed run restores them and continues mid-episode. The built-in
/// environments and wrappers implement it; an environment that does not is still trained, and a resumed run then
/// starts it on a fresh episode. Unlike <see cref="IStatefulEnvironment"/> (Gymnasium's <c>state</c>, for tests),
/// the saved bytes are opaque and include the random stream.
/// </remarks>
public interface IResumableEnvironment : IEnvironment
{
    /// <summary>
    /// Whether <see cref="Save"/> works: true for an environment that implements it; a wrapper answers for what it
    /// wraps (a time limit around an environment that cannot save cannot either).
    /// </summary>
    bool CanSave { get; }

    /// <summary>Everything the environment's future depends on, as bytes only <see cref="Restore"/> of the same kind of environment reads.</summary>
    /// <exception cref="NotSupportedException"><see cref="CanSave"/> is false.</exception>
    byte[] Save();

    /// <summary>Continues from what <see cref="Save"/> returned (of this or another instance of the same environment and settings).</summary>
    /// <exception cref="ArgumentException">The bytes are not a saved state of this kind of environment.</exception>
    void Restore(ReadOnlySpan<byte> saved);
}

/// <summary>Reading and writing saved environment states: a kind name first, so a state restored into another kind of environment is refused.</summary>
internal static class SavedState
{
    public static byte[] Write(string kind, Action<BinaryWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(kind);
            body(writer);
        }
        return stream.ToArray();
    }

    public static void Read(ReadOnlySpan<byte> saved, string kind, Action<BinaryReader> body)
    {
        using var stream = new MemoryStream(saved.ToArray(), writable: false);
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8);
        try
        {
            string actual = reader.ReadString();
            if (actual != kind) throw new ArgumentException($"These bytes are a saved state of {actual}, not of {kind}.", nameof(saved));
            body(reader);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or FormatException)
        {
            throw new ArgumentException($"These bytes are not a whole saved state of {kind}: {e.Message}", nameof(saved), e);
        }
        if (stream.Position != stream.Length)
            throw new ArgumentException($"These bytes hold {stream.Length - stream.Position} bytes more than a saved state of {kind}.", nameof(saved));
    }

    public static void WriteDoubles(this BinaryWriter writer, double[] values)
    {
        writer.Write(values.Length);
        foreach (double v in values) writer.Write(v);
    }

    public static double[] ReadDoubles(this BinaryReader reader)
    {
        int n = reader.ReadInt32();
        if (n < 0 || n > (reader.BaseStream.Length - reader.BaseStream.Position) / 8) throw new FormatException($"a length of {n} doubles does not fit");
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = reader.ReadDouble();
        return values;
    }

    public static void WriteFloats(this BinaryWriter writer, ReadOnlySpan<float> values)
    {
        writer.Write(values.Length);
        foreach (float v in values) writer.Write(v);
    }

    public static void ReadFloats(this BinaryReader reader, Span<float> into)
    {
        int n = reader.ReadInt32();
        if (n != into.Length) throw new FormatException($"{n} floats where {into.Length} belong");
        for (int i = 0; i < n; i++) into[i] = reader.ReadSingle();
    }

    public static void WriteRandom(this BinaryWriter writer, NumPyRandom random)
    {
        writer.Write((ulong)(random.State >> 64));
        writer.Write((ulong)random.State);
        writer.Write((ulong)(random.Increment >> 64));
        writer.Write((ulong)random.Increment);
    }

    public static void ReadRandom(this BinaryReader reader, NumPyRandom random)
    {
        var state = new UInt128(reader.ReadUInt64(), reader.ReadUInt64());
        var increment = new UInt128(reader.ReadUInt64(), reader.ReadUInt64());
        random.Restore(state, increment);
    }
}
