namespace Advantage.Environments;

/// <summary>
/// Normalises observations with frozen statistics: <c>clip((x - mean) / sqrt(var + epsilon), -clip, clip)</c>,
/// as Stable-Baselines3's <c>VecNormalize</c> (Gymnasium's <c>NormalizeObservation</c> without the clip).
/// It holds no running state, so every worker that received the same <see cref="NormalizerState"/>
/// normalises identically, and the learner decides when statistics change.
/// </summary>
/// <remarks>
/// It is a function, not an <see cref="IEnvironment"/> wrapper, because whoever updates the statistics
/// needs the raw observations (a wrapper would hide them) and the statistics change between rollouts,
/// not between steps. The arithmetic is in double and rounded to float at the end, as SB3 does. <see cref="Normalize(Span{float})"/>
/// allocates nothing; the instance is immutable and safe to share between threads.
/// </remarks>
public sealed class ObservationNormalizer
{
    /// <summary>The variance floor of Gymnasium and SB3, 1e-8: keeps constant dimensions finite.</summary>
    public const double DefaultEpsilon = 1e-8;

    /// <summary>SB3's default clip, 10: keeps rare outliers from saturating the network.</summary>
    public const double DefaultClip = 10.0;

    private readonly double[] mean;
    private readonly double[] std;

    /// <summary>Creates a normaliser for the statistics in <paramref name="state"/>.</summary>
    /// <param name="state">The statistics to normalise with; copied.</param>
    /// <param name="epsilon">Added to the variance before the square root; non-negative.</param>
    /// <param name="clip">Normalised values are clipped to [-clip, clip]; positive (infinity disables clipping).</param>
    public ObservationNormalizer(NormalizerState state, double epsilon = DefaultEpsilon, double clip = DefaultClip)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!(epsilon >= 0) || !double.IsFinite(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and non-negative.");
        if (!(clip > 0))
            throw new ArgumentOutOfRangeException(nameof(clip), clip, "clip must be positive.");
        State = state;
        Epsilon = epsilon;
        Clip = clip;
        mean = (double[])state.Mean.Clone();
        std = new double[state.Size];
        for (int i = 0; i < std.Length; i++) std[i] = Math.Sqrt(state.Var[i] + epsilon);
    }

    /// <summary>The statistics in use, so a caller can tell which version it normalises with.</summary>
    public NormalizerState State { get; }

    /// <summary>The variance floor.</summary>
    public double Epsilon { get; }

    /// <summary>The clip bound.</summary>
    public double Clip { get; }

    /// <summary>Floats per observation.</summary>
    public int Size => mean.Length;

    /// <summary>
    /// Normalises, in place, one observation or a batch of them stored row-major (for example a vector
    /// environment's [K * obs] buffer copied out, or a rollout's observations).
    /// </summary>
    /// <exception cref="ArgumentException">The length is not a multiple of <see cref="Size"/>.</exception>
    public void Normalize(Span<float> observations)
    {
        int size = mean.Length;
        if (observations.Length % size != 0)
            throw new ArgumentException($"Expected a multiple of {size} floats; got {observations.Length}.", nameof(observations));
        double clip = Clip;
        for (int start = 0; start < observations.Length; start += size)
        {
            Span<float> row = observations.Slice(start, size);
            for (int i = 0; i < size; i++)
                row[i] = (float)Math.Clamp((row[i] - mean[i]) / std[i], -clip, clip);
        }
    }

    /// <summary>
    /// Writes the normalised <paramref name="source"/> into <paramref name="destination"/>, for callers
    /// that must keep the raw observations (to update statistics with them later).
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ or are not a multiple of <see cref="Size"/>.</exception>
    public void Normalize(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (source.Length != destination.Length)
            throw new ArgumentException($"The destination holds {destination.Length} floats; the source {source.Length}.", nameof(destination));
        source.CopyTo(destination);
        Normalize(destination);
    }
}
