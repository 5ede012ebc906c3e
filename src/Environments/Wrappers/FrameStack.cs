namespace Advantage.Environments;

/// <summary>
/// Stacks the last k observations along a new leading axis, as Gymnasium's <c>FrameStack</c>
/// (<c>FrameStackObservation</c> with reset padding): observation shape <c>[k, ...inner]</c>, oldest
/// first. It gives a memoryless policy a short history, for example the velocity of a ball in a game.
/// </summary>
/// <remarks>
/// A reset fills all k slots with the first observation. Frames are kept in a ring buffer inside the
/// wrapper, not read back from the caller's buffer, so a caller may normalise the observation in place.
/// Buffers are allocated once; a step allocates nothing besides the inner step's own work.
/// </remarks>
public sealed class FrameStack : IResumableEnvironment
{
    private readonly float[] frames;
    private readonly int frameSize;
    private int newest;

    /// <summary>Wraps <paramref name="inner"/>, whose observation space must be a <see cref="Box"/>.</summary>
    /// <param name="inner">The environment whose observations are stacked.</param>
    /// <param name="k">How many observations to stack; at least 1.</param>
    /// <exception cref="ArgumentException">The inner observation space is not a box.</exception>
    public FrameStack(IEnvironment inner, int k)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (inner.ObservationSpace is not Box box)
            throw new ArgumentException($"FrameStack needs a Box observation space; the inner environment observes {inner.ObservationSpace}.", nameof(inner));
        Inner = inner;
        K = k;
        frameSize = box.FlatSize;
        frames = new float[k * frameSize];
        int[] shape = [k, .. box.Shape];
        var low = new float[k * frameSize];
        var high = new float[k * frameSize];
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < frameSize; j++)
            {
                low[i * frameSize + j] = box.Low[j];
                high[i * frameSize + j] = box.High[j];
            }
        }
        ObservationSpace = new Box(shape, low, high);
    }

    /// <summary>The wrapped environment.</summary>
    public IEnvironment Inner { get; }

    /// <summary>How many observations are stacked.</summary>
    public int K { get; }

    /// <inheritdoc />
    /// <remarks>The inner box with a leading axis of length k; bounds repeated per frame.</remarks>
    public Space ObservationSpace { get; }

    /// <inheritdoc />
    public Space ActionSpace => Inner.ActionSpace;

    /// <inheritdoc />
    public void Reset(int? seed, Span<float> observation)
    {
        Guard.Observation(observation, ObservationSpace);
        newest = 0;
        Span<float> first = frames.AsSpan(0, frameSize);
        Inner.Reset(seed, first);
        for (int i = 1; i < K; i++) first.CopyTo(frames.AsSpan(i * frameSize, frameSize));
        Write(observation);
    }

    /// <inheritdoc />
    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        Guard.Observation(observation, ObservationSpace);
        int slot = newest + 1 == K ? 0 : newest + 1;
        StepResult result = Inner.Step(action, frames.AsSpan(slot * frameSize, frameSize));
        newest = slot;
        Write(observation);
        return result;
    }

    /// <summary>Copies the ring buffer out oldest first: slots newest+1 .. K-1, then 0 .. newest.</summary>
    private void Write(Span<float> observation)
    {
        int oldest = newest + 1 == K ? 0 : newest + 1;
        int tail = (K - oldest) * frameSize;
        frames.AsSpan(oldest * frameSize, tail).CopyTo(observation);
        frames.AsSpan(0, oldest * frameSize).CopyTo(observation[tail..]);
    }

    /// <inheritdoc />
    public bool CanSave => Inner is IResumableEnvironment { CanSave: true };

    /// <inheritdoc />
    public byte[] Save() => SavedState.Write(nameof(FrameStack), w =>
    {
        w.Write(newest);
        w.WriteFloats(frames);
        byte[] inner = (Inner as IResumableEnvironment)?.Save() ?? throw new NotSupportedException($"The wrapped {Inner.GetType().Name} cannot save its state.");
        w.Write(inner.Length);
        w.Write(inner);
    });

    /// <inheritdoc />
    public void Restore(ReadOnlySpan<byte> saved)
    {
        var inner = Inner as IResumableEnvironment ?? throw new ArgumentException($"The wrapped {Inner.GetType().Name} cannot restore a state.", nameof(saved));
        SavedState.Read(saved, nameof(FrameStack), r =>
        {
            int slot = r.ReadInt32();
            if (slot < 0 || slot >= K) throw new FormatException($"newest frame {slot} outside [0, {K})");
            r.ReadFloats(frames);
            int length = r.ReadInt32();
            if (length < 0) throw new FormatException("negative length");
            inner.Restore(r.ReadBytes(length));
            newest = slot;
        });
    }
}
