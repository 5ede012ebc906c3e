namespace Advantage.Environments;

/// <summary>
/// Cuts episodes after a fixed number of steps, as Gymnasium's <c>TimeLimit</c> wrapper: the step whose
/// count reaches the limit reports <see cref="StepResult.Truncated"/>. Truncation is an outside cut, not
/// an MDP end, so the learner still bootstraps from that state; keeping it in a wrapper (rather than in
/// each environment) keeps the two flags honest.
/// </summary>
/// <remarks>
/// As in Gymnasium, <c>Truncated</c> is set on the limit step even when the inner environment also
/// terminated there; consumers that care should test <c>Terminated</c> first.
/// </remarks>
public sealed class TimeLimit : IResumableEnvironment
{
    /// <summary>Wraps <paramref name="inner"/> so its episodes last at most <paramref name="maxEpisodeSteps"/> steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxEpisodeSteps"/> is less than 1.</exception>
    public TimeLimit(IEnvironment inner, int maxEpisodeSteps)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEpisodeSteps, 1);
        Inner = inner;
        MaxEpisodeSteps = maxEpisodeSteps;
    }

    /// <summary>The wrapped environment, for callers that need its own members (state access in tests).</summary>
    public IEnvironment Inner { get; }

    /// <summary>The step count at which episodes are truncated.</summary>
    public int MaxEpisodeSteps { get; }

    /// <summary>Steps taken since the last reset; lets callers see how close the cut is.</summary>
    public int ElapsedSteps { get; private set; }

    /// <inheritdoc />
    public Space ObservationSpace => Inner.ObservationSpace;

    /// <inheritdoc />
    public Space ActionSpace => Inner.ActionSpace;

    /// <inheritdoc />
    public void Reset(int? seed, Span<float> observation)
    {
        Inner.Reset(seed, observation);
        ElapsedSteps = 0;
    }

    /// <inheritdoc />
    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        StepResult result = Inner.Step(action, observation);
        ElapsedSteps++;
        return ElapsedSteps >= MaxEpisodeSteps ? result with { Truncated = true } : result;
    }

    /// <inheritdoc />
    public bool CanSave => Inner is IResumableEnvironment { CanSave: true };

    /// <inheritdoc />
    public byte[] Save() => SavedState.Write(nameof(TimeLimit), w =>
    {
        w.Write(ElapsedSteps);
        byte[] inner = (Inner as IResumableEnvironment)?.Save() ?? throw new NotSupportedException($"The wrapped {Inner.GetType().Name} cannot save its state.");
        w.Write(inner.Length);
        w.Write(inner);
    });

    /// <inheritdoc />
    public void Restore(ReadOnlySpan<byte> saved)
    {
        var inner = Inner as IResumableEnvironment ?? throw new ArgumentException($"The wrapped {Inner.GetType().Name} cannot restore a state.", nameof(saved));
        SavedState.Read(saved, nameof(TimeLimit), r =>
        {
            int elapsed = r.ReadInt32();
            int length = r.ReadInt32();
            if (elapsed < 0 || length < 0) throw new FormatException("negative counts");
            inner.Restore(r.ReadBytes(length));
            ElapsedSteps = elapsed;
        });
    }
}
