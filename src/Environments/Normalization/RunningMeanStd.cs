namespace Advantage.Environments;

/// <summary>
/// Per-dimension running mean and variance of flat vectors, updated batch by batch with the parallel
/// algorithm (Chan et al.), as Gymnasium's and Stable-Baselines3's <c>RunningMeanStd</c>. It exists so
/// one owner (the learner) can accumulate observation or return statistics from every worker's batches
/// and ship a <see cref="NormalizerState"/> snapshot to the workers, and so partial statistics gathered
/// elsewhere can be combined exactly with <see cref="Merge"/>.
/// </summary>
/// <remarks>
/// Sums are in double precision, whatever the input. The count starts at <see cref="DefaultEpsilon"/>
/// (1e-4) with mean 0 and variance 1, as in Gymnasium and SB3, so the first update dominates without
/// dividing by zero. <see cref="Update(ReadOnlySpan{float}, int)"/> and <see cref="Merge"/> allocate nothing. Not thread-safe.
/// </remarks>
public sealed class RunningMeanStd
{
    /// <summary>The initial count of Gymnasium and SB3, 1e-4.</summary>
    public const double DefaultEpsilon = 1e-4;

    private readonly double[] mean;
    private readonly double[] var;
    private readonly double[] batchMean;
    private readonly double[] batchVar;

    /// <summary>Creates statistics of <paramref name="size"/> dimensions with nothing seen yet.</summary>
    /// <param name="size">Floats per vector; at least 1.</param>
    /// <param name="epsilon">The initial count, non-negative; the prior weight of mean 0 and variance 1.</param>
    public RunningMeanStd(int size, double epsilon = DefaultEpsilon)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        if (!(epsilon >= 0) || !double.IsFinite(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "The initial count must be finite and non-negative.");
        mean = new double[size];
        var = new double[size];
        Array.Fill(var, 1.0);
        batchMean = new double[size];
        batchVar = new double[size];
        Count = epsilon;
        Mean = Array.AsReadOnly(mean);
        Var = Array.AsReadOnly(var);
    }

    /// <summary>Creates statistics that continue from a snapshot, for example on a restarted learner.</summary>
    public RunningMeanStd(NormalizerState state)
        : this(RequireState(state).Size, 0.0) => Restore(state);

    /// <summary>Floats per vector.</summary>
    public int Size => mean.Length;

    /// <summary>The per-dimension mean; a live read-only view that changes with every update.</summary>
    public IReadOnlyList<double> Mean { get; }

    /// <summary>The per-dimension population variance; a live read-only view that changes with every update.</summary>
    public IReadOnlyList<double> Var { get; }

    /// <summary>How many vectors have been seen, plus the initial epsilon.</summary>
    public double Count { get; private set; }

    /// <summary>
    /// Folds in a batch of <paramref name="rows"/> vectors stored row-major in <paramref name="batch"/>
    /// (for example a rollout's observations [T * K, obs]); the batch's population variance is computed
    /// in two passes, then combined with the running moments.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="batch"/> does not hold <paramref name="rows"/> * <see cref="Size"/> floats.</exception>
    public void Update(ReadOnlySpan<float> batch, int rows) => UpdateCore(batch, rows);

    /// <summary>
    /// Folds in a batch of double-precision vectors (for example discounted returns, which are kept in
    /// double), exactly as the float overload.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="batch"/> does not hold <paramref name="rows"/> * <see cref="Size"/> values.</exception>
    public void Update(ReadOnlySpan<double> batch, int rows) => UpdateCore(batch, rows);

    private void UpdateCore<T>(ReadOnlySpan<T> batch, int rows)
        where T : unmanaged, System.Numerics.INumberBase<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        int size = Size;
        if ((long)rows * size != batch.Length)
            throw new ArgumentException($"Expected {rows} rows of {size} values ({(long)rows * size}); got {batch.Length}.", nameof(batch));
        if (rows == 0) return;

        Array.Clear(batchMean);
        Array.Clear(batchVar);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> row = batch.Slice(r * size, size);
            for (int i = 0; i < size; i++) batchMean[i] += double.CreateTruncating(row[i]);
        }
        for (int i = 0; i < size; i++) batchMean[i] /= rows;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> row = batch.Slice(r * size, size);
            for (int i = 0; i < size; i++)
            {
                double d = double.CreateTruncating(row[i]) - batchMean[i];
                batchVar[i] += d * d;
            }
        }
        for (int i = 0; i < size; i++) batchVar[i] /= rows;
        Combine(batchMean, batchVar, rows);
    }

    /// <summary>
    /// Folds in statistics gathered elsewhere (another worker's or another run's), as if their samples
    /// had been passed to <see cref="Update(ReadOnlySpan{float}, int)"/> here. Counts add, including both epsilons.
    /// </summary>
    /// <exception cref="ArgumentException">The sizes differ.</exception>
    public void Merge(NormalizerState other)
    {
        ArgumentNullException.ThrowIfNull(other);
        CheckSize(other);
        Combine(other.Mean, other.Var, other.Count);
    }

    /// <summary>An immutable copy of the current statistics, safe to send to other actors.</summary>
    public NormalizerState Snapshot() => new(mean, var, Count);

    /// <summary>Replaces the statistics with a snapshot's, for example after loading a checkpoint.</summary>
    /// <exception cref="ArgumentException">The sizes differ.</exception>
    public void Restore(NormalizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        CheckSize(state);
        state.Mean.CopyTo(mean, 0);
        state.Var.CopyTo(var, 0);
        Count = state.Count;
    }

    private void Combine(ReadOnlySpan<double> otherMean, ReadOnlySpan<double> otherVar, double otherCount)
    {
        if (otherCount == 0) return;
        double total = Count + otherCount;
        for (int i = 0; i < mean.Length; i++)
        {
            double delta = otherMean[i] - mean[i];
            double m2 = var[i] * Count + otherVar[i] * otherCount + delta * delta * Count * otherCount / total;
            mean[i] += delta * otherCount / total;
            var[i] = m2 / total;
        }
        Count = total;
    }

    private void CheckSize(NormalizerState state)
    {
        if (state.Size != Size)
            throw new ArgumentException($"The state has {state.Size} dimensions; these statistics have {Size}.", nameof(state));
    }

    private static NormalizerState RequireState(NormalizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state;
    }
}
