namespace Advantage.Learning;

/// <summary>What one A2C update measured; the numbers a user watches to tell learning from noise.</summary>
/// <param name="PolicyLoss">-mean(A * log pi(a|s)).</param>
/// <param name="ValueLoss">mean((R - V)^2), before the value coefficient.</param>
/// <param name="Entropy">Mean policy entropy; falling to zero early means premature determinism.</param>
/// <param name="GradNorm">Global gradient norm before clipping.</param>
/// <param name="ExplainedVariance">1 - Var(R - V) / Var(R): 1 is a perfect critic, 0 no better than a constant.</param>
/// <param name="BatchSize">Transitions in the batch (T x N).</param>
public sealed record UpdateMetrics(double PolicyLoss, double ValueLoss, double Entropy, double GradNorm, double ExplainedVariance, int BatchSize);
