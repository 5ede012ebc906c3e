namespace Advantage.Environments;

/// <summary>
/// Clips continuous actions to the action box before the inner environment sees them, as Gymnasium's
/// <c>ClipAction</c>. A Gaussian policy samples from an unbounded distribution; clipping here keeps the
/// environment's physics inside its bounds while the learner still scores the unclipped sample.
/// </summary>
/// <remarks>
/// The action space stays the inner one (as Gymnasium 0.29; Gymnasium 1.0 widens it to an unbounded
/// box), so a network can still read the bounds. NaN passes through unchanged, as with NumPy's
/// <c>clip</c>; the inner environment decides what to do with it. A step copies the action into a buffer
/// allocated once, so it allocates nothing.
/// </remarks>
public sealed class ClipAction : IResumableEnvironment
{
    private readonly float[] low;
    private readonly float[] high;
    private readonly float[] clipped;

    /// <summary>Wraps <paramref name="inner"/>, whose action space must be a <see cref="Box"/>.</summary>
    /// <exception cref="ArgumentException">The inner action space is not a box.</exception>
    public ClipAction(IEnvironment inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (inner.ActionSpace is not Box box)
            throw new ArgumentException($"ClipAction needs a Box action space; the inner environment acts in {inner.ActionSpace}.", nameof(inner));
        Inner = inner;
        low = [.. box.Low];
        high = [.. box.High];
        clipped = new float[box.FlatSize];
    }

    /// <summary>The wrapped environment.</summary>
    public IEnvironment Inner { get; }

    /// <inheritdoc />
    public Space ObservationSpace => Inner.ObservationSpace;

    /// <inheritdoc />
    public Space ActionSpace => Inner.ActionSpace;

    /// <inheritdoc />
    public void Reset(int? seed, Span<float> observation) => Inner.Reset(seed, observation);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The action does not have the box's flat size.</exception>
    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != clipped.Length)
            throw new ArgumentException($"A {Inner.ActionSpace} action has {clipped.Length} floats; got {action.Length}.", nameof(action));
        for (int i = 0; i < clipped.Length; i++)
        {
            float a = action[i];
            clipped[i] = a < low[i] ? low[i] : a > high[i] ? high[i] : a;
        }
        return Inner.Step(clipped, observation);
    }

    /// <inheritdoc />
    public bool CanSave => Inner is IResumableEnvironment { CanSave: true };

    /// <inheritdoc />
    /// <remarks>Clipping keeps no state: this is the wrapped environment's.</remarks>
    public byte[] Save() => (Inner as IResumableEnvironment)?.Save() ?? throw new NotSupportedException($"The wrapped {Inner.GetType().Name} cannot save its state.");

    /// <inheritdoc />
    public void Restore(ReadOnlySpan<byte> saved) =>
        (Inner as IResumableEnvironment ?? throw new ArgumentException($"The wrapped {Inner.GetType().Name} cannot restore a state.", nameof(saved))).Restore(saved);
}
