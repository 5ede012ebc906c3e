namespace Advantage.Learning;

/// <summary>
/// The stream of <c>new System.Random(seed).NextDouble()</c> (.NET's seeded generator, Knuth's subtractive method),
/// reproduced so its state can be saved and restored: a worker's action sampling continues exactly after a resumed
/// run restores it. <see cref="System.Random"/> keeps that state private, and replacing the generator would change
/// every seeded run's numbers.
/// </summary>
/// <remarks>Only <see cref="NextDouble"/> (and <see cref="Sample"/>) draw from the reproduced stream; the policy uses nothing else.</remarks>
internal sealed class ResumableRandom : Random
{
    private const int Seed0 = 161803398;
    private readonly int[] seeds = new int[56];
    private int next;
    private int nextP;

    public ResumableRandom(int seed)
    {
        int subtraction = seed == int.MinValue ? int.MaxValue : Math.Abs(seed);
        int mj = Seed0 - subtraction;
        seeds[55] = mj;
        int mk = 1, ii = 0;
        for (int i = 1; i < 55; i++)
        {
            if ((ii += 21) >= 55) ii -= 55;
            seeds[ii] = mk;
            mk = mj - mk;
            if (mk < 0) mk += int.MaxValue;
            mj = seeds[ii];
        }
        for (int k = 1; k < 5; k++)
        {
            for (int i = 1; i < 56; i++)
            {
                int n = i + 30;
                if (n >= 55) n -= 55;
                seeds[i] -= seeds[1 + n];
                if (seeds[i] < 0) seeds[i] += int.MaxValue;
            }
        }
        next = 0;
        nextP = 21;
    }

    public override double NextDouble() => Sample();

    protected override double Sample() => Draw() * (1.0 / int.MaxValue);

    private int Draw()
    {
        int i = next + 1 >= 56 ? 1 : next + 1;
        int j = nextP + 1 >= 56 ? 1 : nextP + 1;
        int value = seeds[i] - seeds[j];
        if (value == int.MaxValue) value--;
        if (value < 0) value += int.MaxValue;
        seeds[i] = value;
        next = i;
        nextP = j;
        return value;
    }

    /// <summary>The whole state: 56 words and two indices.</summary>
    public byte[] Save()
    {
        var bytes = new byte[58 * 4];
        for (int i = 0; i < 56; i++) BitConverter.TryWriteBytes(bytes.AsSpan(4 * i), seeds[i]);
        BitConverter.TryWriteBytes(bytes.AsSpan(224), next);
        BitConverter.TryWriteBytes(bytes.AsSpan(228), nextP);
        return bytes;
    }

    /// <summary>Continues from what <see cref="Save"/> returned.</summary>
    /// <exception cref="ArgumentException">The bytes are not a saved state of this generator.</exception>
    public void Restore(ReadOnlySpan<byte> saved)
    {
        if (saved.Length != 58 * 4) throw new ArgumentException($"A saved sampler is {58 * 4} bytes; got {saved.Length}.", nameof(saved));
        int i = BitConverter.ToInt32(saved[224..]), j = BitConverter.ToInt32(saved[228..]);
        if (i is < 0 or > 55 || j is < 1 or > 55) throw new ArgumentException($"Saved sampler indices {i}, {j} are out of range.", nameof(saved));
        for (int k = 0; k < 56; k++) seeds[k] = BitConverter.ToInt32(saved[(4 * k)..]);
        next = i;
        nextP = j;
    }
}
