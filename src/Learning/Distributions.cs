using Advantage.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Advantage.Learning;

/// <summary>
/// The action distribution a policy head parameterises, as one abstraction (Stable-Baselines3's <c>Distribution</c>:
/// log-prob, entropy, sample, mode): <see cref="CategoricalDistribution"/> over logits, <see cref="DiagonalGaussianDistribution"/>
/// over means with a learned state-independent log std. Every place that samples an action or computes a log-probability
/// or an entropy (the workers' <see cref="Policy"/>, every learner, <see cref="TrainedPolicy"/>, the policy server) goes
/// through it, so no formula is written twice.
/// </summary>
/// <remarks>
/// Each distribution has a CPU side over spans (workers sample with their own seeded generator, one forward call per
/// step, so a run is reproducible from its seed whatever torch's global generator does) and a torch side over tensors
/// (learners, with gradient). Both live in the same type and a test checks they agree. One row on the CPU side is
/// described by three spans: the head's output (logits or means), the log-std parameter (empty for a categorical head),
/// and the policy's latent features of that row (used only by distributions whose spread depends on the state; empty otherwise).
/// </remarks>
internal abstract class ActionDistribution
{
    /// <summary>The distribution a network of <paramref name="spec"/> acts with.</summary>
    public static ActionDistribution For(NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!spec.Continuous) return CategoricalDistribution.Instance;
        return spec.StateDependentNoise ? StateDependentNoiseDistribution.Instance : DiagonalGaussianDistribution.Instance;
    }

    /// <summary>Draws one action into <paramref name="action"/> (ActionWidth floats) with <paramref name="random"/>.</summary>
    public abstract void Sample(ReadOnlySpan<float> head, ReadOnlySpan<float> logStd, ReadOnlySpan<float> latent, Random random, Span<float> action);

    /// <summary>The most likely action: the argmax (first of equal logits) or the mean. Draws nothing.</summary>
    public abstract void Mode(ReadOnlySpan<float> head, Span<float> action);

    /// <summary>Log-probability (or log-density) of <paramref name="action"/>, in double.</summary>
    public abstract double LogProb(ReadOnlySpan<float> head, ReadOnlySpan<float> logStd, ReadOnlySpan<float> latent, ReadOnlySpan<float> action);

    /// <summary>Entropy of the row's distribution, in double.</summary>
    public abstract double Entropy(ReadOnlySpan<float> head, ReadOnlySpan<float> logStd, ReadOnlySpan<float> latent);

    /// <summary>
    /// Actions as the torch side takes them, from a float tensor [n, ActionWidth] as rollouts store them: gather
    /// indices for a categorical head (made once per update, not once per step), the floats themselves for a Gaussian one.
    /// </summary>
    public abstract Tensor Actions(Tensor actions);

    /// <summary>
    /// Log-probabilities [n] of <paramref name="actions"/> (from <see cref="Actions"/>) under the distribution
    /// <paramref name="network"/>'s policy head gives for <paramref name="features"/> ([n, ...], from
    /// <see cref="ActorCriticNetwork.Features"/>), and per-row entropies [n] when asked for; with gradient.
    /// </summary>
    public abstract (Tensor LogProb, Tensor? Entropy) LogProbAndEntropy(ActorCriticNetwork network, Tensor features, Tensor actions, bool withEntropy = true);

    /// <summary>Per-row entropies [n] for <paramref name="features"/>.</summary>
    public abstract Tensor Entropy(ActorCriticNetwork network, Tensor features);
}

/// <summary>A categorical distribution over <c>n</c> actions given by a row of logits.</summary>
internal sealed class CategoricalDistribution : ActionDistribution
{
    /// <summary>The one instance (the distribution holds no state).</summary>
    public static readonly CategoricalDistribution Instance = new();

    private CategoricalDistribution()
    {
    }

    /// <summary>Samples (or, with <paramref name="deterministic"/>, takes the argmax of) the distribution given by <paramref name="logits"/>.</summary>
    public static int Sample(ReadOnlySpan<float> logits, Random random, bool deterministic)
    {
        int best = Argmax(logits);
        if (deterministic) return best;
        float max = logits[best];
        double u = random.NextDouble() * SumExp(logits, max);
        double cumulative = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            cumulative += Math.Exp(logits[i] - max);
            if (u < cumulative) return i;
        }
        return logits.Length - 1;
    }

    /// <summary>The index of the largest logit, the first of equal ones.</summary>
    public static int Argmax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        float max = logits[0];
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > max) { max = logits[i]; best = i; }
        }
        return best;
    }

    /// <summary>log softmax(logits)[action], stable for large logits.</summary>
    public static double LogProb(ReadOnlySpan<float> logits, int action)
    {
        float max = logits[Argmax(logits)];
        return logits[action] - max - Math.Log(SumExp(logits, max));
    }

    /// <summary>
    /// log softmax(logits)[action] in float, as the hand-written PPO kernel (<c>PpoLearner.Dense.cs</c>) needs it to match
    /// its float gradients; <paramref name="logSum"/> is log sum exp(logits), so log p_a = logit_a - logSum.
    /// </summary>
    public static float LogProbFloat(ReadOnlySpan<float> logits, int action, out float logSum)
    {
        float max = logits[0];
        for (int a = 1; a < logits.Length; a++) max = Math.Max(max, logits[a]);
        float total = 0;
        for (int a = 0; a < logits.Length; a++) total += MathF.Exp(logits[a] - max);
        logSum = max + MathF.Log(total);
        return logits[action] - logSum;
    }

    /// <summary>-sum p log p, with p = softmax(logits), computed from the stable log-softmax.</summary>
    public static double Entropy(ReadOnlySpan<float> logits)
    {
        float max = logits[Argmax(logits)];
        double logTotal = max + Math.Log(SumExp(logits, max));
        double entropy = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double logP = logits[i] - logTotal;
            entropy -= Math.Exp(logP) * logP;
        }
        return entropy;
    }

    /// <summary>softmax(logits), computed in double and rounded to float: the probability of each action.</summary>
    public static float[] Probabilities(ReadOnlySpan<float> logits)
    {
        float max = logits[Argmax(logits)];
        double total = SumExp(logits, max);
        var probabilities = new float[logits.Length];
        for (int a = 0; a < logits.Length; a++) probabilities[a] = (float)(Math.Exp(logits[a] - max) / total);
        return probabilities;
    }

    /// <summary>sum exp(logit - max), in double and in index order (every caller's sums round alike).</summary>
    private static double SumExp(ReadOnlySpan<float> logits, float max)
    {
        double total = 0;
        for (int i = 0; i < logits.Length; i++) total += Math.Exp(logits[i] - max);
        return total;
    }

    /// <inheritdoc />
    public override void Sample(ReadOnlySpan<float> head, ReadOnlySpan<float> logStd, ReadOnlySpan<float> latent, Random random, Span<float> action) =>
        action[0] = Sample(head, random, deterministic: false);

    /// <inheritdoc />
    public override void Mode(ReadOnlySpan<float> head, Span<float> action) => action[0] = Argmax(head);

    /// <inheritdoc />
    public override double LogProb(ReadOnlySpan<float> head, ReadOnlySpan<float> logStd, ReadOnlySpan<float> latent, ReadOnlySpan<float> action) =>
        LogProb(head, (int)action[0]);

    /// <inheritdoc />
    public override double Entropy(ReadOnlySpan<float> head, ReadOnlySpan<float> logStd, ReadOnlySpan<float> latent) => Entropy(head);

    /// <inheritdoc />
    public override Tensor Actions(Tensor actions) => actions.to(ScalarType.Int64);

    /// <inheritdoc />
    public override (Tensor LogProb, Tensor? Entropy) LogProbAndEntropy(ActorCriticNetwork network, Tensor features, Tensor actions, bool withEntropy = true)
    {
        var logits = nn.functional.log_softmax(network.Policy(features), 1);
        var logProb = logits.gather(1, actions).squeeze(1);
        return (logProb, withEntropy ? Entropy(logits) : null);
    }

    /// <inheritdoc />
    public override Tensor Entropy(ActorCriticNetwork network, Tensor features) => Entropy(nn.functional.log_softmax(network.Policy(features), 1));

    /// <summary>-sum p log p per row from log-probabilities [n, actions].</summary>
    private static Tensor Entropy(Tensor logProbabilities) => -(logProbabilities.exp() * logProbabilities).sum(1);
}

/// <summary>
/// A Gaussian with a diagonal covariance: the head gives the means, a learned parameter the log standard deviations,
/// the same for every state. Actions are not squashed (they are clipped to the bounds when stepping, never in the log-probability).
/// </summary>
internal sealed class DiagonalGaussianDistribution : ActionDistribution
{
    /// <summary>The one instance (the distribution holds no state).</summary>
    public static readonly DiagonalGaussianDistribution Instance = new();

    private DiagonalGaussianDistribution()
    {
    }

    /// <summary>0.5 log 2 pi: the log of a standard normal density's normalising constant.</summary>
    private static readonly double HalfLogTwoPiValue = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>A Gaussian's entropy per dimension less its log std, 0.5 + 0.5 log 2 pi.</summary>
    private static readonly double EntropyConstantValue = 0.5 + HalfLogTwoPiValue;

    // Scalars held for the process (see KeptScalars): a plain number in a tensor expression is a temporary native scalar.
    private static readonly Scalar MinusHalf = (-0.5).ToScalar();
    private static readonly Scalar HalfLogTwoPi = HalfLogTwoPiValue.ToScalar();
    private static readonly Scalar EntropyConstant = EntropyConstantValue.ToScalar();

    /// <summary>A standard normal draw (Box-Muller; one of the pair is discarded to stay stateless).</summary>
    public static double StandardNormal(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>mean + exp(logStd) * N(0, 1) per dimension, drawn in dimension order.</summary>
    public static void Sample(ReadOnlySpan<float> mean, ReadOnlySpan<float> logStd, Random random, Span<float> action)
    {
        for (int d = 0; d < mean.Length; d++) action[d] = (float)(mean[d] + Math.Exp(logStd[d]) * StandardNormal(random));
    }

    /// <summary>Log-density of <paramref name="action"/> under a diagonal Gaussian with the given means and log standard deviations.</summary>
    public static double LogProb(ReadOnlySpan<float> action, ReadOnlySpan<float> mean, ReadOnlySpan<float> logStd)
    {
        double sum = 0;
        for (int d = 0; d < action.Length; d++)
        {
            double z = (action[d] - mean[d]) * Math.Exp(-logStd[d]);
            sum += -0.5 * z * z - logStd[d] - HalfLogTwoPiValue;
        }
        return sum;
    }

    /// <summary>sum over dimensions of 0.5 + 0.5 log 2 pi + log std.</summary>
    public static double Entropy(ReadOnlySpan<float> logStd)
    {
        double sum = 0;
        for (int d = 0; d < logStd.Length; d++) sum += EntropyConstantValue + logStd[d];
        return sum;
    }

    /// <summary>
    /// Log-densities [n] of <paramref name="actions"/> [n, d] under means [n, d] and log standard deviations [d] (the same
    /// for every row) or [n, d] (one per row).
    /// </summary>
    public static Tensor LogProb(Tensor mean, Tensor logStd, Tensor actions)
    {
        var z = (actions - mean) * torch.exp(-logStd);
        // -0.5 z^2 - log std - 0.5 log 2 pi, with kept scalars (see KeptScalars).
        return (z.pow(KeptScalars.Two).mul(MinusHalf) - logStd).sub(HalfLogTwoPi).sum(1);
    }

    /// <summary>Entropies [n] for log standard deviations [d] (every row alike) or [n, d].</summary>
    public static Tensor Entropy(Tensor logStd, long n) =>
        logStd.dim() == 1
            ? logStd.add(EntropyConstant, KeptScalars.One).sum().expand(n)
            : logStd.add(EntropyConstant, KeptScalars.One).sum(1);

    /// <inheritdoc />
    public override void Sample(ReadOnlySpan<float> head, ReadOnlySpan<float> logStd, ReadOnlySpan<float> latent, Random random, Span<float> action) =>
        Sample(head, logStd, random, action);

    /// <inheritdoc />
    public override void Mode(ReadOnlySpan<float> head, Span<float> action) => head.CopyTo(action);

    /// <inheritdoc />
    public override double LogProb(ReadOnlySpan<float> head, ReadOnlySpan<float> logStd, ReadOnlySpan<float> latent, ReadOnlySpan<float> action) =>
        LogProb(action, head, logStd);

    /// <inheritdoc />
    public override double Entropy(ReadOnlySpan<float> head, ReadOnlySpan<float> logStd, ReadOnlySpan<float> latent) => Entropy(logStd);

    /// <inheritdoc />
    public override Tensor Actions(Tensor actions) => actions;

    /// <inheritdoc />
    public override (Tensor LogProb, Tensor? Entropy) LogProbAndEntropy(ActorCriticNetwork network, Tensor features, Tensor actions, bool withEntropy = true)
    {
        var logStd = network.LogStd()!;
        var logProb = LogProb(network.Policy(features), logStd, actions);
        return (logProb, withEntropy ? Entropy(logStd, features.shape[0]) : null);
    }

    /// <inheritdoc />
    public override Tensor Entropy(ActorCriticNetwork network, Tensor features) => Entropy(network.LogStd()!, features.shape[0]);
}

/// <summary>
/// Generalised state-dependent exploration (gSDE; Raffin et al. 2021, "Smooth Exploration for Robotic Reinforcement
/// Learning", as Stable-Baselines3's <c>StateDependentNoiseDistribution</c> with <c>full_std</c>, no squashing, features
/// not learned through the noise). The action is <c>mean + latent . E</c>: the policy's last hidden layer times an
/// exploration matrix E [latent, actions] drawn from N(0, exp(log_std)^2) and held for several steps, so exploration is
/// smooth in time and scales with the state. For one state, with E drawn afresh, that is a diagonal Gaussian whose
/// variance per action j is <c>sum_i latent_i^2 exp(log_std_ij)^2</c> (plus 1e-6): its log-probability and entropy are
/// the <see cref="DiagonalGaussianDistribution"/>'s with that per-row log std, which is what the learners optimise.
/// </summary>
/// <remarks>
/// The CPU side's stateless <see cref="Sample"/> draws from that per-state Gaussian (a matrix resampled every step):
/// what <see cref="TrainedPolicy"/> and the policy server do. Workers hold a matrix per environment
/// (<see cref="SampleExploration"/>, <see cref="Explore"/>) and draw it with their own seeded generator.
/// </remarks>
internal sealed class StateDependentNoiseDistribution : ActionDistribution
{
    /// <summary>The one instance (the exploration matrices live with whoever samples, not here).</summary>
    public static readonly StateDependentNoiseDistribution Instance = new();

    private StateDependentNoiseDistribution()
    {
    }

    /// <summary>Added to the variance before the square root, as Stable-Baselines3 does, so a zero latent row keeps a finite log-density.</summary>
    public const double VarianceEpsilon = 1e-6;

    private static readonly Scalar Epsilon = VarianceEpsilon.ToScalar();
    private static readonly Scalar Half = 0.5.ToScalar();

    /// <summary>
    /// The per-row log std: 0.5 log(sum_i latent_i^2 exp(2 logStd[i, j]) + 1e-6) for each action j, from the latent row
    /// [latent] and the log-std parameter [latent x actions], row-major.
    /// </summary>
    public static void RowLogStd(ReadOnlySpan<float> latent, ReadOnlySpan<float> logStd, Span<float> rowLogStd)
    {
        int actions = rowLogStd.Length;
        if (logStd.Length != latent.Length * actions)
            throw new ArgumentException($"The log std holds {logStd.Length} floats; a latent of {latent.Length} and {actions} actions need {latent.Length * actions}.", nameof(logStd));
        for (int j = 0; j < actions; j++)
        {
            double variance = 0;
            for (int i = 0; i < latent.Length; i++)
            {
                double l = latent[i];
                variance += l * l * Math.Exp(2.0 * logStd[i * actions + j]);
            }
            rowLogStd[j] = (float)(0.5 * Math.Log(variance + VarianceEpsilon));
        }
    }

    /// <summary>Draws an exploration matrix [latent x actions] (row-major, the log std's layout): entry k is exp(logStd[k]) * N(0, 1).</summary>
    public static void SampleExploration(ReadOnlySpan<float> logStd, Random random, Span<float> matrix)
    {
        for (int k = 0; k < logStd.Length; k++) matrix[k] = (float)(Math.Exp(logStd[k]) * DiagonalGaussianDistribution.StandardNormal(random));
    }

    /// <summary>The action mean + latent . E for one row and its exploration matrix.</summary>
    public static void Explore(ReadOnlySpan<float> mean, ReadOnlySpan<float> latent, ReadOnlySpan<float> matrix, Span<float> action)
    {
        int actions = mean.Length;
        for (int j = 0; j < actions; j++)
        {
            double noise = 0;
            for (int i = 0; i < latent.Length; i++) noise += latent[i] * (double)matrix[i * actions + j];
            action[j] = (float)(mean[j] + noise);
        }
    }

    /// <summary>The per-row log std [n, actions] (see <see cref="RowLogStd(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>); the latent is detached, as Stable-Baselines3's default.</summary>
    public static Tensor RowLogStd(ActorCriticNetwork network, Tensor features)
    {
        var latent = network.PolicyLatent(features).detach();
        var variance = latent.pow(KeptScalars.Two).mm(network.LogStd()!.mul(KeptScalars.Two).exp());
        return variance.add(Epsilon, KeptScalars.One).log().mul(Half);
    }

    /// <inheritdoc />
    public override void Sample(ReadOnlySpan<float> head, ReadOnlySpan<float> logStd, ReadOnlySpan<float> latent, Random random, Span<float> action)
    {
        Span<float> rowLogStd = head.Length <= 64 ? stackalloc float[head.Length] : new float[head.Length];
        RowLogStd(latent, logStd, rowLogStd);
        DiagonalGaussianDistribution.Sample(head, rowLogStd, random, action);
    }

    /// <inheritdoc />
    public override void Mode(ReadOnlySpan<float> head, Span<float> action) => head.CopyTo(action);

    /// <inheritdoc />
    public override double LogProb(ReadOnlySpan<float> head, ReadOnlySpan<float> logStd, ReadOnlySpan<float> latent, ReadOnlySpan<float> action)
    {
        Span<float> rowLogStd = head.Length <= 64 ? stackalloc float[head.Length] : new float[head.Length];
        RowLogStd(latent, logStd, rowLogStd);
        return DiagonalGaussianDistribution.LogProb(action, head, rowLogStd);
    }

    /// <inheritdoc />
    public override double Entropy(ReadOnlySpan<float> head, ReadOnlySpan<float> logStd, ReadOnlySpan<float> latent)
    {
        Span<float> rowLogStd = head.Length <= 64 ? stackalloc float[head.Length] : new float[head.Length];
        RowLogStd(latent, logStd, rowLogStd);
        return DiagonalGaussianDistribution.Entropy(rowLogStd);
    }

    /// <inheritdoc />
    public override Tensor Actions(Tensor actions) => actions;

    /// <inheritdoc />
    public override (Tensor LogProb, Tensor? Entropy) LogProbAndEntropy(ActorCriticNetwork network, Tensor features, Tensor actions, bool withEntropy = true)
    {
        var rowLogStd = RowLogStd(network, features);
        var logProb = DiagonalGaussianDistribution.LogProb(network.Policy(features), rowLogStd, actions);
        return (logProb, withEntropy ? DiagonalGaussianDistribution.Entropy(rowLogStd, features.shape[0]) : null);
    }

    /// <inheritdoc />
    public override Tensor Entropy(ActorCriticNetwork network, Tensor features) =>
        DiagonalGaussianDistribution.Entropy(RowLogStd(network, features), features.shape[0]);
}
