using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Advantage.Learning.Networks;

namespace Advantage.Learning;

/// <summary>PPO's update for fully connected categorical networks, computed by hand (<see cref="DenseActorCritic"/>) instead of through TorchSharp.</summary>
public sealed partial class PpoLearner
{
    private DenseActorCritic? dense;
    private SecondHalf? secondHalf;
    private float[] denseParameters = [], denseGradient = [], denseLogits = [], denseValues = [];
    private float[] oldLogProbs = [], negAdvantages = [], minibatchObservations = [], minibatchOld = [], minibatchNegA = [], minibatchReturns = [];
    private int[] denseActions = [], minibatchActions = [];

    /// <summary>
    /// Whether updates take the hand-written path: on for fully connected categorical networks trained with Adam on the CPU
    /// without value clipping (the CartPole preset); off otherwise. Tests switch it off to compare with autograd.
    /// </summary>
    internal bool HandWritten
    {
        get => dense is not null;
        set
        {
            dense = value && CanHandWrite() ? new DenseActorCritic(Spec, Network.Layout) : null;
            secondHalf = dense is null ? null : new SecondHalf(new DenseActorCritic(Spec, Network.Layout), this);
        }
    }

    private bool CanHandWrite() =>
        DenseActorCritic.Supports(Spec) && Optimizer is KeptScalarsAdam && options.ClipRangeValue is null && TorchDevice.type == TorchSharp.DeviceType.CPU;

    private UpdateMetrics UpdateHandWritten(IReadOnlyList<Rollout> rollouts, DenseActorCritic kernel)
    {
        double learningRate = ApplyLearningRate();
        double clip = Scheduled(options.ClipRangeSchedule, options.ClipRange, nameof(PpoOptions.ClipRangeSchedule));
        Batch.Fill(rollouts, Spec);
        int obsSize = Spec.ObservationSize;
        int actions = Spec.ActionSize;
        int tn = Batch.Transitions;
        int rows = Batch.Rows;
        int minibatches = MinibatchesFor(tn);
        NormalizeAsActed();
        var adam = (KeptScalarsAdam)Optimizer;
        int count = kernel.ParameterCount;
        Ensure(ref denseParameters, count);
        Ensure(ref denseGradient, count);
        Parameters.ReadInto(denseParameters);
        var (adamStep, firstMoment, secondMoment) = adam.Moments(Network.Flat);
        float[] observations = Batch.Observations;

        // Every row's value (targets) and pi_old of the batch, from one pass before any step.
        kernel.Forward(denseParameters, observations.AsSpan(0, rows * obsSize), rows);
        double explainedVariance = Batch.Estimate(kernel.Values(rows), options);
        Ensure(ref oldLogProbs, tn);
        Ensure(ref denseActions, tn);
        for (int i = 0; i < tn; i++) denseActions[i] = (int)Batch.Actions[i];
        var allLogits = kernel.Logits(tn);
        for (int i = 0; i < tn; i++) oldLogProbs[i] = CategoricalDistribution.LogProbFloat(allLogits.Slice(i * actions, actions), denseActions[i], out _);

        int[] sizes = MinibatchSizes(tn, minibatches);
        bool whole = minibatches == 1;
        bool diagnoseEveryStep = options.TargetKl is not null;
        bool useEntropy = options.EntropyCoefficient != 0;
        Random? random = null;
        if (!whole)
        {
            random = new Random(ShuffleSeed(options.Seed, rollouts[0].Version));
            Ensure(ref order, tn);
            Shuffle(random, order);
        }
        Ensure(ref negAdvantages, tn);
        if (whole) NegatedAdvantages(Batch.Advantages.AsSpan(0, tn), negAdvantages);
        int largest = sizes[0];
        Ensure(ref denseLogits, largest * actions);
        Ensure(ref denseValues, largest);
        if (!whole)
        {
            Ensure(ref minibatchObservations, largest * obsSize);
            Ensure(ref minibatchActions, largest);
            Ensure(ref minibatchOld, largest);
            Ensure(ref minibatchNegA, largest);
            Ensure(ref minibatchReturns, largest);
        }

        double policySum = 0, valueSum = 0, entropySum = 0, gradSum = 0, klSum = 0, clipSum = 0, initialRatioError = double.NaN;
        double entropyReported = double.NaN;
        int optimizerSteps = 0, evaluated = 0, epochs = 0;
        bool stop = false;
        float valueCoefficient = (float)options.ValueCoefficient;
        float entropyCoefficient = (float)options.EntropyCoefficient;
        for (int epoch = 0; epoch < options.Epochs && !stop; epoch++)
        {
            if (epoch > 0 && !whole) Shuffle(random!, order);
            epochs++;
            bool measure = diagnoseEveryStep || epoch == options.Epochs - 1;
            int start = 0;
            foreach (int size in sizes)
            {
                float[] x, old, negA, returns;
                int[] act;
                if (whole)
                {
                    x = observations;
                    act = denseActions;
                    old = oldLogProbs;
                    negA = negAdvantages;
                    returns = Batch.Returns;
                }
                else
                {
                    for (int r = 0; r < size; r++)
                    {
                        int row = (int)order[start + r];
                        observations.AsSpan(row * obsSize, obsSize).CopyTo(minibatchObservations.AsSpan(r * obsSize, obsSize));
                        minibatchActions[r] = denseActions[row];
                        minibatchOld[r] = oldLogProbs[row];
                        minibatchNegA[r] = Batch.Advantages[row];
                        minibatchReturns[r] = Batch.Returns[row];
                    }
                    NegatedAdvantages(minibatchNegA.AsSpan(0, size), minibatchNegA);
                    x = minibatchObservations;
                    act = minibatchActions;
                    old = minibatchOld;
                    negA = minibatchNegA;
                    returns = minibatchReturns;
                }
                start += size;

                // Forward, per-row loss gradients and backward of the minibatch's rows; a large minibatch in two halves, the
                // second on a pool thread, their gradients added in a fixed order (the same numbers on any machine).
                var step = new MinibatchStep(x, act, old, negA, returns, size, (float)(1 - clip), (float)(1 + clip), clip, useEntropy, entropyCoefficient, valueCoefficient);
                RowSums sums;
                if (size >= 2 * SecondHalf.MinimumRows)
                {
                    int half = size / 2;
                    secondHalf!.Start(step, half, size - half);
                    sums = RunRows(kernel, step, 0, half, denseGradient);
                    sums = sums.Add(secondHalf.Join());
                    AddInto(denseGradient.AsSpan(0, count), secondHalf.Gradient.AsSpan(0, count));
                }
                else
                {
                    sums = RunRows(kernel, step, 0, size, denseGradient);
                }
                double policyLoss = sums.Policy, valueLoss = sums.Value, entropy = sums.Entropy, kl = sums.Kl, clipped = sums.Clipped, maxDeviation = sums.MaxDeviation;
                if (optimizerSteps == 0 && double.IsNaN(initialRatioError)) initialRatioError = maxDeviation;
                if (measure)
                {
                    double approxKl = kl / size;
                    evaluated++;
                    klSum += approxKl;
                    clipSum += clipped / size;
                    if (options.TargetKl is double targetKl && approxKl > 1.5 * targetKl)
                    {
                        stop = true;
                        break;
                    }
                }
                if (!useEntropy && double.IsNaN(entropyReported)) entropyReported = entropy / size;

                gradSum += ClipAndAdam(denseParameters, denseGradient, firstMoment, secondMoment, ++adamStep, learningRate);
                optimizerSteps++;
                policySum += policyLoss / size;
                valueSum += valueLoss / size;
                if (useEntropy) entropySum += entropy / size;
            }
        }
        Parameters.Write(denseParameters);
        adam.SetMoments(Network.Flat, adamStep, firstMoment, secondMoment);

        return Metrics(policySum, valueSum, useEntropy, entropySum, entropyReported, gradSum, optimizerSteps, klSum, clipSum, evaluated,
            epochs, initialRatioError, explainedVariance, tn, learningRate, clip);
    }

    /// <summary>What one minibatch step needs to compute its rows' losses and gradients (the arrays hold its rows from 0).</summary>
    private readonly record struct MinibatchStep(
        float[] X, int[] Actions, float[] OldLogProbs, float[] NegAdvantages, float[] Returns, int Size,
        float Low, float High, double Clip, bool UseEntropy, float EntropyCoefficient, float ValueCoefficient);

    /// <summary>Sums over some rows of a minibatch, added half to half in a fixed order.</summary>
    private readonly record struct RowSums(double Policy, double Value, double Entropy, double Kl, double Clipped, double MaxDeviation)
    {
        public RowSums Add(RowSums other) =>
            new(Policy + other.Policy, Value + other.Value, Entropy + other.Entropy, Kl + other.Kl, Clipped + other.Clipped, Math.Max(MaxDeviation, other.MaxDeviation));
    }

    /// <summary>
    /// Rows [from, from + count) of <paramref name="step"/>: <paramref name="kernel"/>'s forward pass, the clipped surrogate's,
    /// value loss's and entropy bonus's gradients with respect to the logits and values (each divided by the whole
    /// minibatch's size, as a mean over it), and the backward pass into <paramref name="gradient"/>.
    /// </summary>
    private RowSums RunRows(DenseActorCritic kernel, in MinibatchStep step, int from, int count, float[] gradient)
    {
        int obsSize = Spec.ObservationSize;
        int actions = Spec.ActionSize;
        var x = step.X.AsSpan(from * obsSize, count * obsSize);
        kernel.Forward(denseParameters, x, count);
        var logits = kernel.Logits(count);
        var values = kernel.Values(count);
        var dLogits = denseLogits.AsSpan(from * actions, count * actions);
        var dValues = denseValues.AsSpan(from, count);
        var act = step.Actions.AsSpan(from, count);
        var old = step.OldLogProbs.AsSpan(from, count);
        var negA = step.NegAdvantages.AsSpan(from, count);
        var returns = step.Returns.AsSpan(from, count);
        double policyLoss = 0, valueLoss = 0, entropy = 0, kl = 0, clipped = 0, maxDeviation = 0;
        float n = step.Size;
        for (int r = 0; r < count; r++)
        {
            var rowLogits = logits.Slice(r * actions, actions);
            var grad = dLogits.Slice(r * actions, actions);
            float logProb = CategoricalDistribution.LogProbFloat(rowLogits, act[r], out float logSum);
            float logRatio = logProb - old[r];
            float ratio = MathF.Exp(logRatio);
            float unclipped = negA[r] * ratio;
            float clippedTerm = negA[r] * Math.Clamp(ratio, step.Low, step.High);
            policyLoss += Math.Max(unclipped, clippedTerm);
            // d max(-A r, -A clip(r))/d r: through the unclipped term when it is the larger (or equal) one.
            float dRatio = unclipped >= clippedTerm ? negA[r] / n : 0f;
            float dLogProb = dRatio * ratio;
            float rowEntropy = 0;
            for (int a = 0; a < actions; a++)
            {
                float logP = rowLogits[a] - logSum;
                float p = MathF.Exp(logP);
                rowEntropy -= p * logP;
                grad[a] = -dLogProb * p;
            }
            grad[act[r]] += dLogProb;
            if (step.UseEntropy)
            {
                // -c H: dH/dlogit_a = -p_a (log p_a + H).
                for (int a = 0; a < actions; a++)
                {
                    float logP = rowLogits[a] - logSum;
                    grad[a] += step.EntropyCoefficient / n * MathF.Exp(logP) * (logP + rowEntropy);
                }
            }
            entropy += rowEntropy;
            float error = values[r] - returns[r];
            valueLoss += error * error;
            dValues[r] = step.ValueCoefficient * 2f * error / n;
            double deviation = ratio - 1.0;
            maxDeviation = Math.Max(maxDeviation, Math.Abs(deviation));
            kl += deviation - logRatio;
            if (Math.Abs(deviation) > step.Clip) clipped++;
        }
        kernel.Backward(denseParameters, x, count, dLogits, dValues, gradient);
        return new RowSums(policyLoss, valueLoss, entropy, kl, clipped, maxDeviation);
    }

    private static void AddInto(Span<float> destination, ReadOnlySpan<float> source)
    {
        ref float d = ref MemoryMarshal.GetReference(destination);
        ref float s = ref MemoryMarshal.GetReference(source);
        int i = 0;
        for (; i + 8 <= destination.Length; i += 8)
            (Vector256.LoadUnsafe(ref d, (nuint)i) + Vector256.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        for (; i < destination.Length; i++) destination[i] += source[i];
    }

    /// <summary>
    /// The second half of a large minibatch, run on a thread-pool thread while the learner's thread runs the first, with a
    /// kernel and gradient of its own. In a synchronous round the workers wait for the update, so their core is free: on
    /// two cores the update's wall time nearly halves. Whichever thread claims the half first runs it, so a busy pool
    /// costs no waiting (the learner's thread then runs both halves), and a queued item that finds its half taken does nothing.
    /// The split depends only on the minibatch's size, never on the machine, so results are the same everywhere.
    /// </summary>
    private sealed class SecondHalf(DenseActorCritic kernel, PpoLearner learner) : IThreadPoolWorkItem
    {
        /// <summary>Rows per half below which the hand-off costs more than it saves (a 4-64-64 half of 64 rows is ~50 us).</summary>
        public const int MinimumRows = 64;

        private readonly ManualResetEventSlim done = new(false);
        private MinibatchStep step;
        private int from, count, claimed = 1;
        private RowSums result;
        private Exception? failure;

        public float[] Gradient { get; private set; } = [];

        public void Start(in MinibatchStep work, int first, int rows)
        {
            step = work;
            from = first;
            count = rows;
            if (Gradient.Length != kernel.ParameterCount) Gradient = new float[kernel.ParameterCount];
            failure = null;
            done.Reset();
            Volatile.Write(ref claimed, 0);
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        public void Execute() => TryRun();

        public RowSums Join()
        {
            TryRun();
            done.Wait();
            if (failure is not null) throw new InvalidOperationException("The second half of a PPO minibatch failed.", failure);
            return result;
        }

        private void TryRun()
        {
            if (Interlocked.Exchange(ref claimed, 1) != 0) return;
            try
            {
                result = learner.RunRows(kernel, step, from, count, Gradient);
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                done.Set();
            }
        }
    }

    /// <summary>-A, normalised (mean 0, unbiased standard deviation 1, as torch's std) when the options say so; in place allowed.</summary>
    private void NegatedAdvantages(ReadOnlySpan<float> advantages, Span<float> destination)
    {
        int n = advantages.Length;
        if (!options.NormalizeAdvantages || n < 2)
        {
            for (int i = 0; i < n; i++) destination[i] = -advantages[i];
            return;
        }
        double mean = 0;
        for (int i = 0; i < n; i++) mean += advantages[i];
        mean /= n;
        double squares = 0;
        for (int i = 0; i < n; i++) squares += (advantages[i] - mean) * (advantages[i] - mean);
        double std = Math.Sqrt(squares / (n - 1)) + 1e-8;
        for (int i = 0; i < n; i++) destination[i] = (float)((mean - advantages[i]) / std);
    }

    /// <summary>Clips the global gradient norm to <see cref="AlgorithmOptions.MaxGradNorm"/> (as clip_grad_norm_) and takes one Adam step (as TorchSharp's, in float); returns the norm before clipping.</summary>
    private double ClipAndAdam(Span<float> parameters, Span<float> gradient, Span<float> first, Span<float> second, long step, double learningRate)
    {
        double squares = 0;
        foreach (float g in gradient) squares += (double)g * g;
        double norm = Math.Sqrt(squares);
        double coefficient = options.MaxGradNorm / (norm + 1e-6);
        float scale = coefficient < 1 ? (float)coefficient : 1f;
        const double beta1 = 0.9, beta2 = 0.999;
        double correction1 = 1 - Math.Pow(beta1, step);
        double correction2 = 1 - Math.Pow(beta2, step);
        var b1 = Vector256.Create((float)beta1);
        var c1 = Vector256.Create((float)(1 - beta1));
        var b2 = Vector256.Create((float)beta2);
        var c2 = Vector256.Create((float)(1 - beta2));
        var root2 = Vector256.Create((float)Math.Sqrt(correction2));
        var eps = Vector256.Create((float)options.OptimizerEpsilon);
        var stepSize = Vector256.Create((float)(-(learningRate / correction1)));
        var scaleV = Vector256.Create(scale);
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g0 = ref MemoryMarshal.GetReference(gradient);
        ref float m = ref MemoryMarshal.GetReference(first);
        ref float v = ref MemoryMarshal.GetReference(second);
        int i = 0;
        for (; i + 8 <= parameters.Length; i += 8)
        {
            nuint at = (nuint)i;
            var g = Vector256.LoadUnsafe(ref g0, at) * scaleV;
            var mi = Vector256.LoadUnsafe(ref m, at) * b1 + g * c1;
            var vi = Vector256.LoadUnsafe(ref v, at) * b2 + g * g * c2;
            mi.StoreUnsafe(ref m, at);
            vi.StoreUnsafe(ref v, at);
            var denominator = Vector256.Sqrt(vi) / root2 + eps;
            (Vector256.LoadUnsafe(ref p, at) + stepSize * mi / denominator).StoreUnsafe(ref p, at);
        }
        for (; i < parameters.Length; i++)
        {
            float g = gradient[i] * scale;
            first[i] = first[i] * (float)beta1 + g * (float)(1 - beta1);
            second[i] = second[i] * (float)beta2 + g * g * (float)(1 - beta2);
            float denominator = MathF.Sqrt(second[i]) / (float)Math.Sqrt(correction2) + (float)options.OptimizerEpsilon;
            parameters[i] += (float)(-(learningRate / correction1)) * first[i] / denominator;
        }
        return norm;
    }
}
