namespace Advantage.Learning;

/// <summary>What one update measured; the numbers a user watches to tell learning from noise.</summary>
/// <param name="PolicyLoss">The policy's loss: -mean(A * log pi(a|s)) for A2C, the clipped surrogate for PPO (mean over its minibatches).</param>
/// <param name="ValueLoss">mean((R - V)^2), before the value coefficient.</param>
/// <param name="Entropy">Mean policy entropy; falling to zero early means premature determinism.</param>
/// <param name="GradNorm">Global gradient norm before clipping (PPO: mean over its optimizer steps).</param>
/// <param name="ExplainedVariance">1 - Var(R - V) / Var(R): 1 is a perfect critic, 0 no better than a constant.</param>
/// <param name="BatchSize">Transitions in the batch (T x N).</param>
/// <remarks>
/// <see cref="Extra"/> carries an algorithm's own scalars (PPO's <c>approx_kl</c>, <c>clip_fraction</c>, ...) by name,
/// so a new algorithm adds numbers without a new wire format or a new field here: the serializer sends them as
/// name/value pairs and TensorBoard writes each under <c>losses/&lt;name&gt;</c>. Equality compares them by content.
/// </remarks>
public sealed record UpdateMetrics(double PolicyLoss, double ValueLoss, double Entropy, double GradNorm, double ExplainedVariance, int BatchSize)
{
    private static readonly IReadOnlyDictionary<string, double> None = new Dictionary<string, double>().AsReadOnly();

    /// <summary>The algorithm's own scalars by name (snake_case, as TensorBoard shows them); every learner reports <c>learning_rate</c> (its schedule's value).</summary>
    public IReadOnlyDictionary<string, double> Extra { get; init; } = None;

    /// <summary>Returns a copy with <see cref="Extra"/> replaced.</summary>
    public UpdateMetrics WithExtra(IReadOnlyDictionary<string, double> value) => this with { Extra = value };

    /// <inheritdoc />
    public bool Equals(UpdateMetrics? other) =>
        other is not null
        && PolicyLoss.Equals(other.PolicyLoss) && ValueLoss.Equals(other.ValueLoss) && Entropy.Equals(other.Entropy)
        && GradNorm.Equals(other.GradNorm) && ExplainedVariance.Equals(other.ExplainedVariance) && BatchSize == other.BatchSize
        && Extra.Count == other.Extra.Count
        && Extra.All(p => other.Extra.TryGetValue(p.Key, out double v) && p.Value.Equals(v));

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(PolicyLoss, ValueLoss, Entropy, GradNorm, ExplainedVariance, BatchSize, Extra.Count);
}
