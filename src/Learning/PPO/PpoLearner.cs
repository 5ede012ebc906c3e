using Advantage.Environments;
using Advantage.Learning.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Advantage.Learning;

/// <summary>
/// The PPO update (Schulman et al. 2017, clipped surrogate) on one round's batch: advantages by the one
/// <see cref="Returns"/> implementation from the collecting network's values, then <see cref="PpoOptions.Epochs"/>
/// passes over seeded shuffles of the batch in <see cref="PpoOptions.Minibatches"/> minibatches, each one clipped
/// optimizer step on min(r A, clip(r, 1 - c, 1 + c) A), the (optionally clipped) value error and the entropy bonus;
/// an optional approximate-KL limit ends the update early.
/// </summary>
/// <remarks>
/// <para>
/// Workers send no log-probabilities: the learner holds exactly the parameters they acted with, so it recomputes
/// pi_old itself, on the observations normalised with the statistics snapshot sent with those parameters (not with
/// statistics updated by this batch, as A2C does). pi_old is computed on the first epoch's own minibatches, so the first
/// minibatch step sees a ratio of exactly 1 (reported as <c>initial_ratio_error</c>, which is 0 unless learner and workers disagree).
/// </para>
/// <para>
/// The shuffles derive from <see cref="AlgorithmOptions.Seed"/> and the batch's parameter version alone, so a seeded run
/// and a run resumed from its checkpoint take the same minibatches.
/// </para>
/// </remarks>
public sealed partial class PpoLearner : ActorCriticLearner
{
    private readonly PpoOptions options;

    // Native scalars made once (see ActorCriticLearner: a double in a tensor expression becomes a finalizer-freed Scalar).
    private readonly Scalar? valueClipLow;
    private readonly Scalar? valueClipHigh;
    private readonly Scalar one = 1.0.ToScalar();
    private long[] order = [];

    /// <summary>Creates the network (seeded) and optimizer.</summary>
    public PpoLearner(PpoOptions options, NetworkSpec spec)
        : base(options, spec)
    {
        this.options = options;
        if (options.ClipRangeValue is double cv)
        {
            valueClipLow = (-cv).ToScalar();
            valueClipHigh = cv.ToScalar();
        }
        HandWritten = true;
    }

    /// <summary>The validated options this learner was built with.</summary>
    public PpoOptions Options => options;

    /// <summary>
    /// One PPO update from one round's rollouts, all collected with the current parameters and observation statistics.
    /// <see cref="UpdateMetrics.Extra"/> holds <c>approx_kl</c> and <c>clip_fraction</c> (means over the minibatches
    /// evaluated: every one with <see cref="PpoOptions.TargetKl"/>, which needs them, else the last epoch's, as
    /// Stable-Baselines3 reports approx_kl, because measuring costs a fifth of a small network's step), <c>epochs</c>
    /// (epochs started; fewer than <see cref="PpoOptions.Epochs"/> after a KL stop), <c>initial_ratio_error</c>
    /// (max |ratio - 1| before the first step), <c>learning_rate</c> and <c>clip_range</c> (the scheduled values this
    /// update used). Without an entropy bonus the entropy is not part of the loss and <see cref="UpdateMetrics.Entropy"/>
    /// is the collecting policy's, on the batch.
    /// </summary>
    public override UpdateMetrics Update(IReadOnlyList<Rollout> rollouts)
    {
        if (dense is { } kernel) return UpdateHandWritten(rollouts, kernel);
        double learningRate = ApplyLearningRate();
        double clip = Scheduled(options.ClipRangeSchedule, options.ClipRange, nameof(PpoOptions.ClipRangeSchedule));
        using var clipLow = (1 - clip).ToScalar();
        using var clipHigh = (1 + clip).ToScalar();
        using var clipRange = clip.ToScalar();
        Batch.Fill(rollouts, Spec);
        int obsSize = Spec.ObservationSize;
        int width = Spec.ActionWidth;
        int tn = Batch.Transitions;
        int rows = Batch.Rows;
        int minibatches = MinibatchesFor(tn);
        float[] observations = Batch.Observations;

        NormalizeAsActed();

        using var scope = torch.NewDisposeScope();
        var obs = torch.tensor(observations, [rows, obsSize]).to(TorchDevice);
        var act = torch.tensor(Batch.Actions, [tn, width]).to(TorchDevice);
        // Categorical actions as gather indices, made once per update instead of once per step.
        var actions = Distribution.Actions(act);
        int[] sizes = MinibatchSizes(tn, minibatches);
        bool whole = minibatches == 1;
        // With TargetKl the KL estimate gates every step; without it the diagnostics are measured on the last epoch only,
        // as Stable-Baselines3 reports its approx_kl, which saves a quarter of a small network's step.
        bool diagnoseEveryStep = options.TargetKl is not null;
        var obsBatch = obs.narrow(0, 0, tn);

        Tensor oldValues, oldLogProb;
        Tensor? firstFeatures = null, firstValues = null, firstLogProb = null, firstEntropy = null;
        double explainedVariance;
        Random? random = null;
        if (whole)
        {
            // One minibatch: every epoch uses the whole batch, in its own order (a shuffle would change only the summation
            // order of the mean). The first epoch's forward pass over every row gives the values for the targets and, as it
            // precedes any step, pi_old: both detached from the same pass, so the first ratio is exactly 1 by construction.
            firstFeatures = Network.Features(obs);
            var allValues = Network.Value(firstFeatures);
            explainedVariance = Batch.Estimate(allValues, options);
            firstValues = allValues.narrow(0, 0, tn);
            oldValues = firstValues.detach();
            (firstLogProb, firstEntropy) = Distribution.LogProbAndEntropy(Network, firstFeatures.narrow(0, 0, tn), actions, options.EntropyCoefficient != 0);
            oldLogProb = firstLogProb.detach();
        }
        else
        {
            random = new Random(ShuffleSeed(options.Seed, rollouts[0].Version));
            Ensure(ref order, tn);
            Shuffle(random, order);
            using (torch.no_grad())
            {
                var allValues = Network.Value(Network.Features(obs));
                explainedVariance = Batch.Estimate(allValues, options);
                oldValues = allValues.narrow(0, 0, tn);
                // pi_old on the first epoch's own minibatches: the first step's forward pass is then the same computation.
                oldLogProb = torch.empty(tn, device: TorchDevice);
                var firstOrder = torch.tensor(order, [tn]).to(TorchDevice);
                int start = 0;
                foreach (int size in sizes)
                {
                    var index = firstOrder.narrow(0, start, size);
                    var (logProb, _) = Distribution.LogProbAndEntropy(Network, Network.Features(obs.index_select(0, index)), actions.index_select(0, index), withEntropy: false);
                    oldLogProb.index_copy_(0, index, logProb);
                    start += size;
                }
            }
        }
        var adv = torch.tensor(Batch.Advantages, [tn]).to(TorchDevice);
        var ret = torch.tensor(Batch.Returns, [tn]).to(TorchDevice);
        // -A, normalised once when every step sees the whole batch (per minibatch otherwise).
        Tensor? negWholeAdvantage = null;
        if (whole)
            negWholeAdvantage = options.NormalizeAdvantages && tn > 1 ? (adv.mean() - adv) / adv.std().add_(NormalizeEpsilon, KeptScalars.One) : -adv;
        bool useEntropy = options.EntropyCoefficient != 0;
        double entropyReported = double.NaN;

        double policySum = 0, valueSum = 0, entropySum = 0, gradSum = 0, klSum = 0, clipSum = 0, initialRatioError = double.NaN;
        int optimizerSteps = 0, evaluated = 0, epochs = 0;
        bool stop = false;
        for (int epoch = 0; epoch < options.Epochs && !stop; epoch++)
        {
            if (epoch > 0 && !whole) Shuffle(random!, order);
            epochs++;
            bool measure = diagnoseEveryStep || epoch == options.Epochs - 1;
            using var epochScope = torch.NewDisposeScope();
            var shuffled = whole ? null : torch.tensor(order, [tn]).to(TorchDevice);
            int start = 0;
            foreach (int size in sizes)
            {
                using var step = torch.NewDisposeScope();
                var index = shuffled?.narrow(0, start, size);
                start += size;
                Tensor features, value, logProb;
                Tensor? entropy;
                if (whole && epoch == 0)
                {
                    (features, value, logProb, entropy) = (firstFeatures!.narrow(0, 0, tn), firstValues!, firstLogProb!, firstEntropy);
                }
                else
                {
                    features = Network.Features(index is null ? obsBatch : obsBatch.index_select(0, index));
                    value = Network.Value(features);
                    (logProb, entropy) = Distribution.LogProbAndEntropy(Network, features, index is null ? actions : actions.index_select(0, index), useEntropy);
                }
                var logRatio = logProb - (index is null ? oldLogProb : oldLogProb.index_select(0, index));
                var ratio = logRatio.exp();
                if (optimizerSteps == 0 && double.IsNaN(initialRatioError))
                {
                    using (torch.no_grad())
                        initialRatioError = (ratio - one).abs().max().item<float>();
                }
                if (measure)
                {
                    double approxKl, clipFraction;
                    using (torch.no_grad())
                    {
                        var deviation = ratio - one;
                        // Schulman's k3 estimator of KL(pi_old || pi), as CleanRL and Stable-Baselines3 log it.
                        approxKl = (deviation - logRatio).mean().item<float>();
                        clipFraction = deviation.abs().gt(clipRange).to_type(ScalarType.Float32).mean().item<float>();
                    }
                    evaluated++;
                    klSum += approxKl;
                    clipSum += clipFraction;
                    if (options.TargetKl is double targetKl && approxKl > 1.5 * targetKl)
                    {
                        stop = true;
                        break;
                    }
                }

                Tensor negA;
                if (negWholeAdvantage is not null)
                {
                    negA = negWholeAdvantage;
                }
                else
                {
                    var a = adv.index_select(0, index!);
                    negA = options.NormalizeAdvantages && size > 1 ? (a.mean() - a) / a.std().add_(NormalizeEpsilon, KeptScalars.One) : -a;
                }
                var policyLoss = torch.maximum(negA * ratio, negA * ratio.clamp(clipLow, clipHigh)).mean();
                var r = index is null ? ret : ret.index_select(0, index);
                Tensor valueLoss;
                if (valueClipLow is not null && valueClipHigh is not null)
                {
                    var old = index is null ? oldValues : oldValues.index_select(0, index);
                    var clipped = old.add((value - old).clamp(valueClipLow, valueClipHigh), KeptScalars.One);
                    valueLoss = torch.maximum((value - r).pow(KeptScalars.Two), (clipped - r).pow(KeptScalars.Two)).mean();
                }
                else
                {
                    valueLoss = (r - value).pow(KeptScalars.Two).mean();
                }
                var loss = policyLoss.add(valueLoss.mul(ValueCoefficient), KeptScalars.One);
                Tensor? entropyMean = null;
                if (useEntropy)
                {
                    entropyMean = entropy!.mean();
                    loss = loss - entropyMean.mul(EntropyCoefficient);
                }
                else if (double.IsNaN(entropyReported))
                {
                    // No entropy term: the policy's entropy on the batch before the update, for the metrics only.
                    using (torch.no_grad())
                        entropyReported = Distribution.Entropy(Network, features.detach()).mean().item<float>();
                }

                gradSum += Step(loss);
                optimizerSteps++;
                policySum += policyLoss.item<float>();
                valueSum += valueLoss.item<float>();
                if (entropyMean is not null) entropySum += entropyMean.item<float>();
            }
        }

        return Metrics(policySum, valueSum, useEntropy, entropySum, entropyReported, gradSum, optimizerSteps, klSum, clipSum, evaluated,
            epochs, initialRatioError, explainedVariance, tn, learningRate, clip);
    }

    /// <summary>Sizes of <paramref name="minibatches"/> minibatches covering <paramref name="count"/> rows, as even as possible (larger first).</summary>
    private static int[] MinibatchSizes(int count, int minibatches)
    {
        var sizes = new int[minibatches];
        for (int m = 0; m < minibatches; m++) sizes[m] = count / minibatches + (m < count % minibatches ? 1 : 0);
        return sizes;
    }

    /// <summary>Fisher-Yates over 0..n-1, from the identity each time so a round's shuffles depend only on the generator.</summary>
    private static void Shuffle(Random random, long[] values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = i;
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>SplitMix64 of the run seed and the batch's parameter version: a stable seed per round, in every process.</summary>
    private static int ShuffleSeed(int seed, long version)
    {
        ulong z = unchecked(((ulong)(uint)seed << 32) ^ (ulong)version) + 0x9E3779B97F4A7C15UL;
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }

    /// <summary>
    /// One update's metrics, from sums over its optimizer steps (and over the steps that measured KL and clipping), the same
    /// for the autograd and the hand-written path. Without an entropy bonus the entropy reported is
    /// <paramref name="entropyReported"/>, the collecting policy's on the batch.
    /// </summary>
    private static UpdateMetrics Metrics(double policySum, double valueSum, bool useEntropy, double entropySum, double entropyReported, double gradSum, int optimizerSteps,
        double klSum, double clipSum, int evaluated, int epochs, double initialRatioError, double explainedVariance, int transitions, double learningRate, double clip)
    {
        double steps = Math.Max(optimizerSteps, 1);
        return new UpdateMetrics(policySum / steps, valueSum / steps, useEntropy ? entropySum / steps : entropyReported, gradSum / steps, explainedVariance, transitions)
        {
            Extra = new Dictionary<string, double>
            {
                ["approx_kl"] = klSum / Math.Max(evaluated, 1),
                ["clip_fraction"] = clipSum / Math.Max(evaluated, 1),
                ["epochs"] = epochs,
                ["initial_ratio_error"] = initialRatioError,
                ["learning_rate"] = learningRate,
                ["clip_range"] = clip,
            },
        };
    }

    /// <summary>
    /// The round's minibatch count: the options' <see cref="PpoOptions.Minibatches"/>, or one transition each when a round
    /// holds fewer transitions than that. Full rounds never do (validation sizes them), but a round a simulation run
    /// closed short, or whose streams were cut, can; training on it beats failing the run.
    /// </summary>
    private int MinibatchesFor(int transitions)
    {
        if (transitions < 1) throw new ArgumentException("The round holds no transitions.");
        return Math.Min(options.Minibatches, transitions);
    }

    private static void Ensure<T>(ref T[] buffer, int length)
    {
        if (buffer.Length != length) buffer = new T[length];
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            valueClipLow?.Dispose();
            valueClipHigh?.Dispose();
            one.Dispose();
        }
        base.Dispose(disposing);
    }
}
