namespace Advantage.Learning;

/// <summary>
/// Sampling from policy outputs on the CPU side, with the worker's own seeded generator. Sampling here
/// instead of in torch keeps one forward call per time step and makes a run reproducible from one seed
/// regardless of torch's global generator.
/// </summary>
internal static class Distributions
{
    /// <summary>Samples (or takes the argmax of) a categorical distribution given by a row of logits.</summary>
    public static int SampleCategorical(ReadOnlySpan<float> logits, Random random, bool deterministic)
    {
        int best = 0;
        float max = logits[0];
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > max) { max = logits[i]; best = i; }
        }
        if (deterministic) return best;
        double total = 0;
        for (int i = 0; i < logits.Length; i++) total += Math.Exp(logits[i] - max);
        double u = random.NextDouble() * total;
        double cumulative = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            cumulative += Math.Exp(logits[i] - max);
            if (u < cumulative) return i;
        }
        return logits.Length - 1;
    }

    /// <summary>A standard normal draw (Box-Muller; one of the pair is discarded to stay stateless).</summary>
    public static double StandardNormal(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>log softmax(logits)[action], stable for large logits.</summary>
    public static double CategoricalLogProbability(ReadOnlySpan<float> logits, int action)
    {
        float max = logits[0];
        for (int i = 1; i < logits.Length; i++) max = Math.Max(max, logits[i]);
        double total = 0;
        for (int i = 0; i < logits.Length; i++) total += Math.Exp(logits[i] - max);
        return logits[action] - max - Math.Log(total);
    }

    /// <summary>Log-density of <paramref name="action"/> under a diagonal Gaussian with the given mean and log standard deviations.</summary>
    public static double GaussianLogProbability(ReadOnlySpan<float> action, ReadOnlySpan<float> mean, ReadOnlySpan<float> logStd)
    {
        double sum = 0;
        for (int d = 0; d < action.Length; d++)
        {
            double z = (action[d] - mean[d]) * Math.Exp(-logStd[d]);
            sum += -0.5 * z * z - logStd[d] - 0.5 * Math.Log(2 * Math.PI);
        }
        return sum;
    }
}
