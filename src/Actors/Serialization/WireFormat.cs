using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Serialization;
using System.Text;

namespace Advantage.Actors.Serialization;

/// <summary>
/// Grows a byte buffer for one message. Arrays of numbers are copied as raw little-endian memory, so a
/// parameter vector of millions of floats costs one copy, not one call per element.
/// </summary>
internal sealed class WireWriter(int capacity)
{
    private byte[] buffer = new byte[Math.Max(capacity, 16)];
    private int length;

    public byte[] ToArray() => length == buffer.Length ? buffer : buffer.AsSpan(0, length).ToArray();

    private Span<byte> Take(int count)
    {
        if (length + count > buffer.Length)
            Array.Resize(ref buffer, Math.Max(length + count, buffer.Length * 2));
        var span = buffer.AsSpan(length, count);
        length += count;
        return span;
    }

    public void Byte(byte value) => Take(1)[0] = value;

    public void Bool(bool value) => Byte(value ? (byte)1 : (byte)0);

    public void Int(int value) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), value);

    public void Long(long value) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), value);

    public void Double(double value) => BinaryPrimitives.WriteDoubleLittleEndian(Take(8), value);

    public void String(string value)
    {
        int count = Encoding.UTF8.GetByteCount(value);
        Int(count);
        Encoding.UTF8.GetBytes(value, Take(count));
    }

    public void Floats(float[] values)
    {
        Int(values.Length);
        var target = Take(values.Length * sizeof(float));
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(target);
        else for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(target[(i * 4)..], values[i]);
    }

    public void Doubles(double[] values)
    {
        Int(values.Length);
        var target = Take(values.Length * sizeof(double));
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(target);
        else for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(target[(i * 8)..], values[i]);
    }

    public void Ints(int[] values)
    {
        Int(values.Length);
        var target = Take(values.Length * sizeof(int));
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(target);
        else for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(target[(i * 4)..], values[i]);
    }

    public void Strings(IReadOnlyList<string> values)
    {
        Int(values.Count);
        foreach (string value in values) String(value);
    }

    public void Bools(bool[] values)
    {
        Int(values.Length);
        var target = Take(values.Length);
        for (int i = 0; i < values.Length; i++) target[i] = values[i] ? (byte)1 : (byte)0;
    }

    public void Bytes(byte[] values)
    {
        Int(values.Length);
        values.CopyTo(Take(values.Length));
    }
}

/// <summary>
/// Reads one message back, checking every length against the bytes that are actually there. Anything
/// that does not fit (truncation, an absurd length, a flag that is neither 0 nor 1, bytes left over)
/// throws <see cref="SerializationException"/>, which makes Akka.Remote drop that one message and keep
/// the connection.
/// </summary>
internal ref struct WireReader(ReadOnlySpan<byte> bytes, string manifest)
{
    private readonly ReadOnlySpan<byte> bytes = bytes;
    private int position;

    private ReadOnlySpan<byte> Take(long count)
    {
        if (count < 0 || count > bytes.Length - position)
            throw Fail($"it needs {count} more bytes at offset {position} but only {bytes.Length - position} remain");
        var span = bytes.Slice(position, (int)count);
        position += (int)count;
        return span;
    }

    /// <summary>Bytes not read yet, for bounding a count before anything is allocated for it.</summary>
    public readonly int Remaining => bytes.Length - position;

    public readonly SerializationException Fail(string why) =>
        new($"Cannot read an Advantage message of manifest '{manifest}' ({bytes.Length} bytes): {why}.");

    public byte Byte() => Take(1)[0];

    public bool Bool() => Byte() switch
    {
        0 => false,
        1 => true,
        var b => throw Fail($"a flag byte is {b}, expected 0 or 1"),
    };

    public int Int() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long Long() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public double Double() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    private int Count(int elementSize)
    {
        int count = Int();
        if (count < 0 || (long)count * elementSize > bytes.Length - position)
            throw Fail($"an array claims {count} elements of {elementSize} bytes but only {bytes.Length - position} bytes remain");
        return count;
    }

    public string String()
    {
        int count = Count(1);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take(count));
        }
        catch (DecoderFallbackException)
        {
            throw Fail("a string is not valid UTF-8");
        }
    }

    public float[] Floats()
    {
        var source = Take(Count(sizeof(float)) * (long)sizeof(float));
        var values = new float[source.Length / sizeof(float)];
        if (BitConverter.IsLittleEndian) source.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        else for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
        return values;
    }

    public double[] Doubles()
    {
        var source = Take(Count(sizeof(double)) * (long)sizeof(double));
        var values = new double[source.Length / sizeof(double)];
        if (BitConverter.IsLittleEndian) source.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        else for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadDoubleLittleEndian(source[(i * 8)..]);
        return values;
    }

    public int[] Ints()
    {
        var source = Take(Count(sizeof(int)) * (long)sizeof(int));
        var values = new int[source.Length / sizeof(int)];
        if (BitConverter.IsLittleEndian) source.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        else for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt32LittleEndian(source[(i * 4)..]);
        return values;
    }

    public bool[] Bools()
    {
        var source = Take(Count(1));
        var values = new bool[source.Length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = source[i] switch
            {
                0 => false,
                1 => true,
                var b => throw Fail($"flag {i} of an array is {b}, expected 0 or 1"),
            };
        }
        return values;
    }

    public byte[] Bytes() => Take(Count(1)).ToArray();

    public string[] Strings()
    {
        // Each string takes at least its 4-byte length: a count beyond what is left is a lie, refused before allocating.
        int count = Int();
        if (count < 0 || count > Remaining / 4) throw Fail($"a list claims {count} strings but only {Remaining} bytes remain");
        var values = new string[count];
        for (int i = 0; i < count; i++) values[i] = String();
        return values;
    }

    /// <summary>Leaves the rest unread on purpose (a layout this node does not know follows a part it does).</summary>
    public void SkipRest() => position = bytes.Length;

    public readonly void End()
    {
        if (position != bytes.Length) throw Fail($"{bytes.Length - position} bytes are left over after the message");
    }
}
