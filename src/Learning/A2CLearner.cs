using Advantage.Environments;
using Advantage.Learning.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Advantage.Learning;

/// <summary>
/// The synchronous A2C update: batch the rollouts of one round column-wise into [T, N], recompute
/// values and log-probabilities with gradients, estimate advantages with <see cref="Returns"/>, and
/// take one clipped optimizer step. Reads top to bottom like CleanRL's single file, but owns no actors,
/// so it can be tested and embedded without Akka.
/// </summary>
public sealed class A2CLearner : IDisposable
{
    private readonly A2COptions options;
    private readonly ActorCriticNetwork network;
    private readonly optim.Optimizer optimizer;
    private readonly Parameter[] trainable;
    private readonly Device device;
    private readonly RunningMeanStd? observationStatistics;

    // Coefficients as native scalars made once: a double in a tensor expression becomes a native Scalar
    // that only the finalizer frees, and a finalizer thread competing for two cores costs more than the update.
    private readonly Scalar valueCoefficient;
    private readonly Scalar entropyCoefficient;
    private readonly Scalar normalizeEpsilon = 1e-8.ToScalar();

    // Reused host buffers sized exactly to the batch (torch copies whole arrays); sizes are stable from round
    // to round, so steady state allocates only tensors.
    private float[] observations = [];
    private float[] actions = [];
    private float[] rewards = [];
    private bool[] terminated = [];
    private bool[] truncated = [];
    private float[] values = [];
    private float[] bootstrap = [];
    private float[] finalValues = [];
    private float[] advantages = [];
    private float[] returns = [];
    private int[] finalIndex = [];

    /// <summary>Creates the network (seeded) and optimizer.</summary>
    public A2CLearner(A2COptions options, NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(spec);
        this.options = options.Validate();
        Spec = spec;
        device = torch.device(options.Device);
        network = ActorCriticNetwork.CreateSeeded(spec, options.Seed);
        network.to(device);
        Parameters = new ParameterVector(network);
        valueCoefficient = options.ValueCoefficient.ToScalar();
        entropyCoefficient = options.EntropyCoefficient.ToScalar();
        if (options.NormalizeObservations) observationStatistics = new RunningMeanStd(spec.ObservationSize);
        trainable = [network.Flat];
        optimizer = options.Optimizer switch
        {
            OptimizerKind.Adam => optim.Adam(trainable, options.LearningRate, eps: options.OptimizerEpsilon),
            _ => optim.RMSProp(trainable, options.LearningRate, alpha: options.RmsPropAlpha, eps: options.OptimizerEpsilon),
        };
    }

    /// <summary>The network sizes.</summary>
    public NetworkSpec Spec { get; }

    /// <summary>The validated options this learner was built with.</summary>
    public A2COptions Options => options;

    /// <summary>The trained network; read it for checkpoints or evaluation.</summary>
    public ActorCriticNetwork Network => network;

    /// <summary>The parameter layout and flat read/write access.</summary>
    public ParameterVector Parameters { get; }

    /// <summary>
    /// The observation statistics learned so far, or null when observation normalisation is off. Workers
    /// normalise with this snapshot; checkpoints keep it.
    /// </summary>
    public NormalizerState? ObservationStatistics => observationStatistics?.Snapshot();

    /// <summary>Replaces the observation statistics (resuming from a checkpoint).</summary>
    public void RestoreObservationStatistics(NormalizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (observationStatistics is null) throw new InvalidOperationException("Observation normalisation is off in these options.");
        observationStatistics.Restore(state);
    }

    /// <summary>The optimizer, exposed for checkpoints of its state.</summary>
    public optim.Optimizer Optimizer => optimizer;

    /// <summary>
    /// One A2C update from one round's rollouts. Columns are laid out in the order given (the learner
    /// actor sorts by worker id, which keeps a seeded run reproducible). Every rollout must have the same T.
    /// </summary>
    public UpdateMetrics Update(IReadOnlyList<Rollout> rollouts)
    {
        ArgumentNullException.ThrowIfNull(rollouts);
        if (rollouts.Count == 0) throw new ArgumentException("At least one rollout is needed.", nameof(rollouts));
        int steps = rollouts[0].Steps;
        int envs = 0;
        int finals = 0;
        foreach (var r in rollouts)
        {
            string? problem = r.Problem(steps, Spec.ObservationSize, Spec.ActionWidth);
            if (problem is not null) throw new ArgumentException($"Rollout of worker {r.WorkerId}: {problem}", nameof(rollouts));
            envs += r.Environments;
            finals += r.FinalObservationIndices.Length;
        }
        int obsSize = Spec.ObservationSize;
        int width = Spec.ActionWidth;
        int tn = steps * envs;
        int rows = (steps + 1) * envs + finals;
        Ensure(ref observations, rows * obsSize);
        Ensure(ref actions, tn * width);
        Ensure(ref rewards, tn);
        Ensure(ref terminated, tn);
        Ensure(ref truncated, tn);
        EnsureAtLeast(ref values, (steps + 1) * envs + finals);
        Ensure(ref bootstrap, envs);
        Ensure(ref finalValues, tn);
        Ensure(ref advantages, tn);
        Ensure(ref returns, tn);
        EnsureAtLeast(ref finalIndex, finals);

        // Batch column-wise: worker w's environments become columns [offset, offset + K_w).
        int column = 0, finalRow = 0;
        foreach (var r in rollouts)
        {
            int k = r.Environments;
            for (int t = 0; t <= steps; t++)
                r.Observations.AsSpan(t * k * obsSize, k * obsSize).CopyTo(observations.AsSpan((t * envs + column) * obsSize));
            for (int t = 0; t < steps; t++)
            {
                r.Actions.AsSpan(t * k * width, k * width).CopyTo(actions.AsSpan((t * envs + column) * width));
                r.Rewards.AsSpan(t * k, k).CopyTo(rewards.AsSpan(t * envs + column));
                r.Terminated.AsSpan(t * k, k).CopyTo(terminated.AsSpan(t * envs + column));
                r.Truncated.AsSpan(t * k, k).CopyTo(truncated.AsSpan(t * envs + column));
            }
            for (int f = 0; f < r.FinalObservationIndices.Length; f++)
            {
                int index = r.FinalObservationIndices[f];
                finalIndex[finalRow] = index / k * envs + column + index % k;
                r.FinalObservations.AsSpan(f * obsSize, obsSize).CopyTo(observations.AsSpan(((steps + 1) * envs + finalRow) * obsSize));
                finalRow++;
            }
            column += k;
        }

        if (observationStatistics is not null)
        {
            // Learn from each observation once (rows 0..T-1; row T comes back as next round's row 0),
            // then feed the network the same normalised inputs the workers will act on.
            observationStatistics.Update(observations.AsSpan(0, tn * obsSize), tn);
            new ObservationNormalizer(observationStatistics.Snapshot()).Normalize(observations);
        }

        using var scope = torch.NewDisposeScope();
        var obs = torch.tensor(observations, [rows, obsSize]).to(device);
        var features = network.Features(obs);
        var allValues = network.Value(features);

        // Values feed the targets without gradient, on the host, through the one Returns implementation.
        using (var host = allValues.detach().cpu())
            TensorMemory.Floats(host).CopyTo(values);
        values.AsSpan(steps * envs, envs).CopyTo(bootstrap);
        for (int f = 0; f < finals; f++) finalValues[finalIndex[f]] = values[(steps + 1) * envs + f];
        var v = values.AsSpan(0, tn);
        if (options.Estimator == AdvantageEstimator.Gae)
        {
            Returns.Gae(rewards.AsSpan(0, tn), v, bootstrap.AsSpan(0, envs), terminated.AsSpan(0, tn), truncated.AsSpan(0, tn),
                finalValues.AsSpan(0, tn), steps, envs, options.Gamma, options.GaeLambda, advantages.AsSpan(0, tn), returns.AsSpan(0, tn));
        }
        else
        {
            Returns.NStep(rewards.AsSpan(0, tn), v, bootstrap.AsSpan(0, envs), terminated.AsSpan(0, tn), truncated.AsSpan(0, tn),
                finalValues.AsSpan(0, tn), steps, envs, options.Gamma, returns.AsSpan(0, tn));
            for (int i = 0; i < tn; i++) advantages[i] = returns[i] - values[i];
        }
        double explainedVariance = ExplainedVariance(returns.AsSpan(0, tn), v);

        var policyOut = network.Policy(features.narrow(0, 0, tn));
        var value = allValues.narrow(0, 0, tn);
        var adv = torch.tensor(advantages, [tn]).to(device);
        if (options.NormalizeAdvantages && tn > 1)
            adv = (adv - adv.mean()) / adv.std().add_(normalizeEpsilon);
        var ret = torch.tensor(returns, [tn]).to(device);
        var act = torch.tensor(actions, [tn * width]).to(device);

        Tensor logProb, entropy;
        if (!Spec.Continuous)
        {
            var logits = nn.functional.log_softmax(policyOut, 1);
            logProb = logits.gather(1, act.to(ScalarType.Int64).unsqueeze(1)).squeeze(1);
            entropy = -(logits.exp() * logits).sum(1);
        }
        else
        {
            var logStd = network.LogStd()!;
            var a = act.view(tn, width);
            var z = (a - policyOut) * torch.exp(-logStd);
            logProb = (-0.5 * z.pow(2) - logStd - 0.5 * Math.Log(2 * Math.PI)).sum(1);
            entropy = (0.5 + 0.5 * Math.Log(2 * Math.PI) + logStd).sum().expand(tn);
        }

        var policyLoss = -(adv * logProb).mean();
        var valueLoss = (ret - value).square().mean();
        var entropyMean = entropy.mean();
        var loss = policyLoss + valueLoss.mul(valueCoefficient) - entropyMean.mul(entropyCoefficient);

        optimizer.zero_grad();
        loss.backward();
        double gradNorm = nn.utils.clip_grad_norm_(trainable, options.MaxGradNorm);
        optimizer.step();

        return new UpdateMetrics(policyLoss.item<float>(), valueLoss.item<float>(), entropyMean.item<float>(), gradNorm, explainedVariance, tn);
    }

    private static double ExplainedVariance(ReadOnlySpan<float> targets, ReadOnlySpan<float> predictions)
    {
        double meanY = 0, meanD = 0;
        for (int i = 0; i < targets.Length; i++) { meanY += targets[i]; meanD += targets[i] - predictions[i]; }
        meanY /= targets.Length;
        meanD /= targets.Length;
        double varY = 0, varD = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            double y = targets[i] - meanY;
            double d = targets[i] - predictions[i] - meanD;
            varY += y * y;
            varD += d * d;
        }
        return varY == 0 ? double.NaN : 1.0 - varD / varY;
    }

    /// <summary>Exact size, for buffers handed whole to torch.</summary>
    private static void Ensure<T>(ref T[] buffer, int length)
    {
        if (buffer.Length != length) buffer = new T[length];
    }

    /// <summary>
    /// At least this size, for host-only buffers whose length follows the number of truncations in a round:
    /// growing only keeps a varying count from reallocating them every round.
    /// </summary>
    private static void EnsureAtLeast<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
    }

    /// <inheritdoc />
    public void Dispose()
    {
        optimizer.Dispose();
        network.Dispose();
        valueCoefficient.Dispose();
        entropyCoefficient.Dispose();
        normalizeEpsilon.Dispose();
    }
}
