namespace Advantage.Environments;

/// <summary>
/// The set of valid observations or actions of an environment, as in Gymnasium. Networks read the
/// space to size their inputs and heads, so a new environment only has to describe itself.
/// </summary>
public abstract record Space
{
    /// <summary>How many floats one element of this space occupies when flattened.</summary>
    public abstract int FlatSize { get; }
}

/// <summary>
/// A finite set of actions <c>{0, ..., N-1}</c>. Actions of a discrete space travel as a single float
/// holding the integer index, so every environment shares one zero-allocation step signature.
/// </summary>
/// <param name="N">The number of actions; at least 1.</param>
public sealed record Discrete(int N) : Space
{
    /// <summary>The number of actions; at least 1.</summary>
    public int N { get; } = N >= 1 ? N : throw new ArgumentOutOfRangeException(nameof(N), N, "Discrete.N must be >= 1.");

    /// <inheritdoc />
    public override int FlatSize => 1;

    /// <inheritdoc />
    public override string ToString() => $"Discrete({N})";
}

/// <summary>
/// A box in R^n with per-dimension bounds, as in Gymnasium. Bounds may be infinite.
/// Arrays are copied on construction and exposed read-only, so a space is safe to share.
/// </summary>
public sealed record Box : Space
{
    private readonly float[] low;
    private readonly float[] high;
    private readonly int[] shape;

    /// <summary>Creates a box of the given shape and bounds.</summary>
    /// <param name="shape">Dimensions; each at least 1.</param>
    /// <param name="low">Lower bounds, one per element (row-major).</param>
    /// <param name="high">Upper bounds, one per element; each at least its lower bound.</param>
    public Box(IReadOnlyList<int> shape, IReadOnlyList<float> low, IReadOnlyList<float> high)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(low);
        ArgumentNullException.ThrowIfNull(high);
        if (shape.Count == 0 || shape.Any(d => d < 1))
            throw new ArgumentException($"Box shape must have at least one dimension, each >= 1; got [{string.Join(", ", shape)}].", nameof(shape));
        int size = shape.Aggregate(1, (a, d) => a * d);
        if (low.Count != size) throw new ArgumentException($"Box low must have {size} elements; got {low.Count}.", nameof(low));
        if (high.Count != size) throw new ArgumentException($"Box high must have {size} elements; got {high.Count}.", nameof(high));
        for (int i = 0; i < size; i++)
            if (!(high[i] >= low[i]))
                throw new ArgumentException($"Box high[{i}] = {high[i]} must be >= low[{i}] = {low[i]}.", nameof(high));
        this.shape = shape.ToArray();
        this.low = low.ToArray();
        this.high = high.ToArray();
    }

    /// <summary>Creates a box of the given shape with the same bounds in every dimension.</summary>
    public static Box Uniform(IReadOnlyList<int> shape, float low, float high)
    {
        ArgumentNullException.ThrowIfNull(shape);
        int size = shape.Aggregate(1, (a, d) => a * d);
        return new Box(shape, Enumerable.Repeat(low, size).ToArray(), Enumerable.Repeat(high, size).ToArray());
    }

    /// <summary>Dimensions of one element.</summary>
    public IReadOnlyList<int> Shape => shape;

    /// <summary>Lower bounds, row-major.</summary>
    public IReadOnlyList<float> Low => low;

    /// <summary>Upper bounds, row-major.</summary>
    public IReadOnlyList<float> High => high;

    /// <inheritdoc />
    public override int FlatSize => low.Length;

    /// <inheritdoc />
    public bool Equals(Box? other) =>
        other is not null && shape.AsSpan().SequenceEqual(other.shape) && low.AsSpan().SequenceEqual(other.low) && high.AsSpan().SequenceEqual(other.high);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(shape.Length, low.Length > 0 ? low[0] : 0f, high.Length > 0 ? high[0] : 0f);

    /// <inheritdoc />
    public override string ToString() =>
        $"Box(shape [{string.Join(", ", shape)}], low [{string.Join(", ", low)}], high [{string.Join(", ", high)}])";
}
