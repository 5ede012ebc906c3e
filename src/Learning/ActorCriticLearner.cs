using Advantage.Environments;
using Advantage.Learning.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Advantage.Learning;

/// <summary>
/// What every learner of this library shares: a seeded actor-critic network on the options' device, its flat
/// parameter vector, the optimizer the options name, the learner-side observation statistics and the round batch.
/// An algorithm is then its <see cref="Update"/> alone, so A2C, PPO and IMPALA cannot drift apart in how they
/// build, checkpoint or dispose these.
/// </summary>
/// <remarks>Only this assembly's learners derive from it; make one with <see cref="Learners.Create"/>.</remarks>
public abstract class ActorCriticLearner : IPolicyLearner
{
    private readonly AlgorithmOptions options;
    private readonly RunningMeanStd? observationStatistics;

    /// <summary>Validates the options and builds network (seeded), parameter vector and optimizer.</summary>
    private protected ActorCriticLearner(AlgorithmOptions options, NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(spec);
        options.Validate();
        this.options = options;
        Spec = spec;
        TorchDevice = torch.device(options.Device);
        Network = ActorCriticNetwork.CreateSeeded(spec, options.Seed, options.OrthogonalInit);
        Distribution = ActionDistribution.For(spec);
        Network.to(TorchDevice);
        Parameters = new ParameterVector(Network);
        // Coefficients as native scalars made once: a double in a tensor expression becomes a native Scalar
        // that only the finalizer frees, and a finalizer thread competing for two cores costs more than the update.
        ValueCoefficient = options.ValueCoefficient.ToScalar();
        EntropyCoefficient = options.EntropyCoefficient.ToScalar();
        if (options.NormalizeObservations) observationStatistics = new RunningMeanStd(spec.ObservationSize);
        Trainable = [Network.Flat];
        Optimizer = Optimizers.Create(options, Trainable);
        // Forward passes with gradient use per-weight leaves whose gradients are views of the flat gradient: backward
        // skips two view nodes per weight (measured: PPO's CartPole step a sixth cheaper), with the same numbers.
        Network.UseTrainingLeaves();
        flatGradient = Network.Flat.grad!;
    }

    private readonly Tensor flatGradient;

    /// <inheritdoc />
    public NetworkSpec Spec { get; }

    AlgorithmOptions IPolicyLearner.Options => options;

    /// <summary>The trained network; read it for checkpoints or evaluation.</summary>
    public ActorCriticNetwork Network { get; }

    /// <inheritdoc />
    public ParameterVector Parameters { get; }

    /// <summary>The optimizer over <see cref="Network"/>'s flat parameter.</summary>
    public optim.Optimizer Optimizer { get; }

    /// <inheritdoc />
    public NormalizerState? ObservationStatistics => observationStatistics?.Snapshot();

    private protected Device TorchDevice { get; }

    /// <summary>The action distribution the policy head parameterises: every log-probability and entropy the update needs.</summary>
    private protected ActionDistribution Distribution { get; }

    private protected Parameter[] Trainable { get; }

    private protected Scalar ValueCoefficient { get; }

    private protected Scalar EntropyCoefficient { get; }

    private protected Scalar NormalizeEpsilon { get; } = 1e-8.ToScalar();

    private protected RoundBatch Batch { get; } = new();

    /// <summary>The live statistics (null when normalisation is off), for the learner that updates them.</summary>
    private protected RunningMeanStd? LiveObservationStatistics => observationStatistics;

    /// <inheritdoc />
    public void RestoreObservationStatistics(NormalizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (observationStatistics is null) throw new InvalidOperationException("Observation normalisation is off in these options.");
        observationStatistics.Restore(state);
    }

    /// <inheritdoc />
    public byte[] SaveOptimizerState() => LearnerState.SaveOptimizer(Optimizer);

    /// <inheritdoc />
    public void LoadOptimizerState(byte[] state) => LearnerState.LoadOptimizer(Optimizer, options.Optimizer.ToString(), state);

    /// <inheritdoc />
    public abstract UpdateMetrics Update(IReadOnlyList<Rollout> batch);

    private long progressSteps;
    private long? stepBudget;
    private double appliedLearningRate = double.NaN;

    /// <inheritdoc />
    public void SetTrainingProgress(long steps, long stepBudget)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        ArgumentOutOfRangeException.ThrowIfLessThan(stepBudget, 1);
        progressSteps = steps;
        this.stepBudget = stepBudget;
    }

    /// <summary>
    /// A scheduled hyperparameter's value now. A non-constant schedule needs the step budget
    /// (<see cref="SetTrainingProgress"/>); without it the update is refused with the field's name rather than run at a
    /// value nobody chose.
    /// </summary>
    private protected double Scheduled(ScheduleKind kind, double initial, string field)
    {
        if (kind == ScheduleKind.Constant) return initial;
        if (stepBudget is not long budget)
            throw new InvalidOperationException(
                $"{field} = {kind} decays over the run's step budget, which this learner was not given: call SetTrainingProgress(steps, stepBudget) before Update (the learner actor does), or use ScheduleKind.Constant.");
        return Schedules.At(kind, initial, progressSteps, budget);
    }

    /// <summary>Sets the optimizer's learning rate from <see cref="AlgorithmOptions.LearningRateSchedule"/>; returns it, for the metrics.</summary>
    private protected double ApplyLearningRate()
    {
        double rate = Scheduled(options.LearningRateSchedule, options.LearningRate, nameof(AlgorithmOptions.LearningRateSchedule));
        if (rate != appliedLearningRate)
        {
            foreach (var group in Optimizer.ParamGroups) group.LearningRate = rate;
            appliedLearningRate = rate;
        }
        return rate;
    }

    /// <summary>
    /// Normalises the batch's observations with the statistics the workers acted with (the snapshot sent with the current
    /// parameters), then lets the batch move the statistics for the next parameters: so the losses see exactly the inputs
    /// the acting policy saw. For learners that compare against the acting policy (PPO's ratio, V-trace's).
    /// </summary>
    private protected void NormalizeAsActed()
    {
        if (observationStatistics is null) return;
        int tn = Batch.Transitions;
        var actedWith = observationStatistics.Snapshot();
        observationStatistics.Update(Batch.Observations.AsSpan(0, tn * Spec.ObservationSize), tn);
        new ObservationNormalizer(actedWith).Normalize(Batch.Observations);
    }

    /// <summary>
    /// The one-step actor-critic update on targets already in <see cref="RoundBatch.Advantages"/> and
    /// <see cref="RoundBatch.Returns"/>: -A log pi (advantages optionally normalised) + c_v (R - V)^2 - c_e H, one clipped
    /// optimizer step, and the metrics with the learner's own <paramref name="extra"/> scalars. Scalars are kept ones
    /// (<see cref="KeptScalars"/>), never TorchSharp's temporaries.
    /// </summary>
    private protected UpdateMetrics ActorCriticStep(Tensor logProb, Tensor entropy, Tensor values, double explainedVariance, IReadOnlyDictionary<string, double> extra)
    {
        int tn = Batch.Transitions;
        var adv = torch.tensor(Batch.Advantages, [tn]).to(TorchDevice);
        if (options.NormalizeAdvantages && tn > 1)
            adv = (adv - adv.mean()) / adv.std().add_(NormalizeEpsilon, KeptScalars.One);
        var targets = torch.tensor(Batch.Returns, [tn]).to(TorchDevice);
        var policyLoss = -(adv * logProb).mean();
        var valueLoss = (targets - values).pow(KeptScalars.Two).mean();
        var entropyMean = entropy.mean();
        var loss = policyLoss.add(valueLoss.mul(ValueCoefficient), KeptScalars.One) - entropyMean.mul(EntropyCoefficient);
        double gradNorm = Step(loss);
        return new UpdateMetrics(policyLoss.item<float>(), valueLoss.item<float>(), entropyMean.item<float>(), gradNorm, explainedVariance, tn) { Extra = extra };
    }

    /// <summary>One optimizer step on <paramref name="loss"/>, with the global gradient norm clipped; returns the norm before clipping.</summary>
    private protected double Step(Tensor loss)
    {
        // In place, not Optimizer.zero_grad(): the per-weight leaves' gradients are views of this tensor.
        flatGradient.zero_();
        loss.backward();
        double gradNorm = nn.utils.clip_grad_norm_(Trainable, options.MaxGradNorm);
        Optimizer.step();
        return gradNorm;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the native network, optimizer and scalars; a derived learner frees its own scalars first.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        Optimizer.Dispose();
        flatGradient.Dispose();
        Network.Dispose();
        ValueCoefficient.Dispose();
        EntropyCoefficient.Dispose();
        NormalizeEpsilon.Dispose();
    }
}
