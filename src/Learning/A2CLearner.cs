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
public sealed class A2CLearner : IPolicyLearner
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

    private readonly RoundBatch batch = new();

    /// <summary>Creates the network (seeded) and optimizer.</summary>
    public A2CLearner(A2COptions options, NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(spec);
        options.Validate();
        this.options = options;
        Spec = spec;
        device = torch.device(options.Device);
        network = ActorCriticNetwork.CreateSeeded(spec, options.Seed);
        network.to(device);
        Parameters = new ParameterVector(network);
        valueCoefficient = options.ValueCoefficient.ToScalar();
        entropyCoefficient = options.EntropyCoefficient.ToScalar();
        if (options.NormalizeObservations) observationStatistics = new RunningMeanStd(spec.ObservationSize);
        trainable = [network.Flat];
        optimizer = Optimizers.Create(options, trainable);
    }

    /// <summary>The network sizes.</summary>
    public NetworkSpec Spec { get; }

    /// <summary>The validated options this learner was built with.</summary>
    public A2COptions Options => options;

    AlgorithmOptions IPolicyLearner.Options => options;

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

    /// <inheritdoc />
    public byte[] SaveOptimizerState() => LearnerState.SaveOptimizer(optimizer);

    /// <inheritdoc />
    public void LoadOptimizerState(byte[] state) => LearnerState.LoadOptimizer(optimizer, options.Optimizer.ToString(), state);

    /// <summary>
    /// One A2C update from one round's rollouts. Columns are laid out in the order given (the learner
    /// actor sorts by worker id, which keeps a seeded run reproducible). Every rollout must have the same T.
    /// </summary>
    public UpdateMetrics Update(IReadOnlyList<Rollout> rollouts)
    {
        batch.Fill(rollouts, Spec);
        int obsSize = Spec.ObservationSize;
        int width = Spec.ActionWidth;
        int tn = batch.Transitions;
        int rows = batch.Rows;
        float[] observations = batch.Observations;

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
        double explainedVariance = batch.Estimate(allValues, options);

        var policyOut = network.Policy(features.narrow(0, 0, tn));
        var value = allValues.narrow(0, 0, tn);
        var adv = torch.tensor(batch.Advantages, [tn]).to(device);
        if (options.NormalizeAdvantages && tn > 1)
            adv = (adv - adv.mean()) / adv.std().add_(normalizeEpsilon);
        var ret = torch.tensor(batch.Returns, [tn]).to(device);
        var act = torch.tensor(batch.Actions, [tn * width]).to(device);

        var (logProb, entropy) = RoundBatch.LogProbAndEntropy(network, Spec, policyOut, act, tn);

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
