namespace Advantage.Environments;

/// <summary>
/// A frozen copy of <see cref="RunningMeanStd"/> statistics. It is what a learner that owns the
/// statistics sends to its workers (and what a checkpoint stores), so workers normalise with the same
/// numbers without sharing a mutable object across actors or machines.
/// </summary>
/// <remarks>
/// The arrays are copied on construction and must not be changed through the properties afterwards:
/// a state may be read by several workers at once. Equality compares the contents, so a state that
/// went through a serializer compares equal to the original.
/// </remarks>
public sealed record NormalizerState
{
    /// <summary>Creates a state, copying the arrays so the caller's buffers can be reused.</summary>
    /// <param name="Mean">The per-dimension mean.</param>
    /// <param name="Var">The per-dimension (population) variance; each element non-negative.</param>
    /// <param name="Count">How many samples (plus the initial epsilon) the statistics summarise; non-negative.</param>
    /// <exception cref="ArgumentException">The arrays differ in length, are empty, or hold a negative or non-finite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="Count"/> is negative or not finite.</exception>
    public NormalizerState(double[] Mean, double[] Var, double Count)
    {
        ArgumentNullException.ThrowIfNull(Mean);
        ArgumentNullException.ThrowIfNull(Var);
        if (Mean.Length == 0)
            throw new ArgumentException("A normalizer state needs at least one dimension.", nameof(Mean));
        if (Mean.Length != Var.Length)
            throw new ArgumentException($"Mean has {Mean.Length} elements but Var has {Var.Length}; they must match.", nameof(Var));
        for (int i = 0; i < Mean.Length; i++)
        {
            if (!double.IsFinite(Mean[i]))
                throw new ArgumentException($"Mean[{i}] = {Mean[i]} is not finite.", nameof(Mean));
            if (!(Var[i] >= 0) || !double.IsFinite(Var[i]))
                throw new ArgumentException($"Var[{i}] = {Var[i]} must be finite and non-negative.", nameof(Var));
        }
        if (!(Count >= 0) || !double.IsFinite(Count))
            throw new ArgumentOutOfRangeException(nameof(Count), Count, "Count must be finite and non-negative.");
        this.Mean = (double[])Mean.Clone();
        this.Var = (double[])Var.Clone();
        this.Count = Count;
    }

    /// <summary>The per-dimension mean.</summary>
    public double[] Mean { get; }

    /// <summary>The per-dimension population variance.</summary>
    public double[] Var { get; }

    /// <summary>How many samples the statistics summarise, including the initial epsilon.</summary>
    public double Count { get; }

    /// <summary>The number of dimensions.</summary>
    public int Size => Mean.Length;

    /// <summary>
    /// The statistics of nothing yet seen (mean 0, variance 1, count <paramref name="epsilon"/>), as a fresh
    /// <see cref="RunningMeanStd"/>: what workers use before the learner has sent anything.
    /// </summary>
    public static NormalizerState Initial(int size, double epsilon = RunningMeanStd.DefaultEpsilon)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        var var = new double[size];
        Array.Fill(var, 1.0);
        return new NormalizerState(new double[size], var, epsilon);
    }

    /// <summary>Compares contents, so serialised and original states are equal.</summary>
    public bool Equals(NormalizerState? other) =>
        other is not null && Count.Equals(other.Count)
        && Mean.AsSpan().SequenceEqual(other.Mean) && Var.AsSpan().SequenceEqual(other.Var);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Count, Mean.Length, Mean[0], Var[0]);

    /// <inheritdoc />
    public override string ToString() => $"NormalizerState(size {Size}, count {Count})";
}
