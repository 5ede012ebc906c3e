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
/// <remarks>
/// Open to algorithms outside this library: derive, implement <see cref="Update"/> with <see cref="Forward"/> (the round's
/// log-probabilities, entropies, values, advantages and returns, with gradients) and <see cref="Step"/> (one clipped
/// optimizer step), and register the algorithm (<see cref="Algorithms.Register"/>); <see cref="Learners.Create"/> then makes it.
/// </remarks>
public abstract class ActorCriticLearner : IPolicyLearner
{
    private readonly AlgorithmOptions options;
    private readonly RunningMeanStd? observationStatistics;

    /// <summary>Validates the options and builds network (seeded), parameter vector and optimizer.</summary>
    /// <param name="options">The algorithm's options (validated here).</param>
    /// <param name="spec">The network sizes.</param>
    protected ActorCriticLearner(AlgorithmOptions options, NetworkSpec spec)
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

    /// <summary>The device the network and every tensor of an update live on.</summary>
    protected Device TorchDevice { get; }

    /// <summary>The action distribution the policy head parameterises: every log-probability and entropy the update needs.</summary>
    private protected ActionDistribution Distribution { get; }

    private protected Parameter[] Trainable { get; }

    private protected Scalar ValueCoefficient { get; }

    private protected Scalar EntropyCoefficient { get; }

    private protected Scalar NormalizeEpsilon { get; } = 1e-8.ToScalar();

    private protected RoundBatch Batch { get; } = new();

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
    /// <param name="kind">The schedule.</param>
    /// <param name="initial">The value at step 0.</param>
    /// <param name="field">The option's name, for the refusal.</param>
    protected double Scheduled(ScheduleKind kind, double initial, string field)
    {
        if (kind == ScheduleKind.Constant) return initial;
        if (stepBudget is not long budget)
            throw new InvalidOperationException(
                $"{field} = {kind} decays over the run's step budget, which this learner was not given: call SetTrainingProgress(steps, stepBudget) before Update (the learner actor does), or use ScheduleKind.Constant.");
        return Schedules.At(kind, initial, progressSteps, budget);
    }

    /// <summary>Sets the optimizer's learning rate from <see cref="AlgorithmOptions.LearningRateSchedule"/>; returns it, for the metrics.</summary>
    protected double ApplyLearningRate()
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
    /// One synchronous round, forward: lays the rollouts out column-wise, moves the observation statistics by the batch and
    /// normalises with them (as A2C does), evaluates the network with gradients and estimates advantages and returns with
    /// the options' estimator (n-step or GAE) through the one <see cref="Returns"/> implementation. Call it inside a
    /// <c>torch.NewDisposeScope()</c>; the tensors are the scope's.
    /// </summary>
    /// <param name="rollouts">One rollout per worker, all collected with the current parameters, of the same T.</param>
    protected ActorCriticRound Forward(IReadOnlyList<Rollout> rollouts)
    {
        Batch.Fill(rollouts, Spec);
        int tn = Batch.Transitions;
        float[] observations = Batch.Observations;
        if (observationStatistics is not null)
        {
            // Learn from each observation once (rows 0..T-1; row T comes back as next round's row 0),
            // then feed the network the same normalised inputs the workers will act on.
            observationStatistics.Update(observations.AsSpan(0, tn * Spec.ObservationSize), tn);
            new ObservationNormalizer(observationStatistics.Snapshot()).Normalize(observations);
        }
        var obs = torch.tensor(observations, [Batch.Rows, Spec.ObservationSize]).to(TorchDevice);
        var features = Network.Features(obs);
        var allValues = Network.Value(features);

        // Values feed the targets without gradient, on the host, through the one Returns implementation.
        double explainedVariance = Batch.Estimate(allValues, options);

        var act = Distribution.Actions(torch.tensor(Batch.Actions, [tn, Spec.ActionWidth]).to(TorchDevice));
        var (logProb, entropy) = Distribution.LogProbAndEntropy(Network, features.narrow(0, 0, tn), act);
        return Round(logProb, entropy!, allValues.narrow(0, 0, tn), explainedVariance);
    }

    /// <summary>The round of a learner that computed its own forward pass, with the targets the batch holds.</summary>
    private protected ActorCriticRound Round(Tensor logProb, Tensor entropy, Tensor values, double explainedVariance)
    {
        int tn = Batch.Transitions;
        var advantages = torch.tensor(Batch.Advantages, [tn]).to(TorchDevice);
        var returns = torch.tensor(Batch.Returns, [tn]).to(TorchDevice);
        return new ActorCriticRound(logProb, entropy, values, advantages, returns, explainedVariance, tn);
    }

    /// <summary>
    /// The one-step actor-critic update on a round's targets: -A log pi (advantages optionally normalised) + c_v (R - V)^2 -
    /// c_e H, one clipped optimizer step, and the metrics with the learner's own <paramref name="extra"/> scalars. Scalars
    /// are kept ones (<see cref="KeptScalars"/>), never TorchSharp's temporaries.
    /// </summary>
    private protected UpdateMetrics ActorCriticStep(ActorCriticRound round, IReadOnlyDictionary<string, double> extra)
    {
        int tn = round.Transitions;
        var adv = round.Advantages;
        if (options.NormalizeAdvantages && tn > 1)
            adv = (adv - adv.mean()) / adv.std().add_(NormalizeEpsilon, KeptScalars.One);
        var policyLoss = -(adv * round.LogProb).mean();
        var valueLoss = (round.Returns - round.Values).pow(KeptScalars.Two).mean();
        var entropyMean = round.Entropy.mean();
        var loss = policyLoss.add(valueLoss.mul(ValueCoefficient), KeptScalars.One) - entropyMean.mul(EntropyCoefficient);
        double gradNorm = Step(loss);
        return new UpdateMetrics(policyLoss.item<float>(), valueLoss.item<float>(), entropyMean.item<float>(), gradNorm, round.ExplainedVariance, tn) { Extra = extra };
    }

    /// <summary>One optimizer step on <paramref name="loss"/>, with the global gradient norm clipped; returns the norm before clipping.</summary>
    /// <param name="loss">The scalar loss of this step, built from tensors of the current dispose scope.</param>
    protected double Step(Tensor loss)
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

/// <summary>
/// One round's tensors for an actor-critic loss, all of length T x N (transitions) and in the current dispose scope:
/// what <see cref="ActorCriticLearner.Forward"/> gives a learner to build its loss from.
/// </summary>
/// <param name="LogProb">Log-probabilities of the taken actions under the current network, with gradient.</param>
/// <param name="Entropy">The policy's entropy at each observation, with gradient.</param>
/// <param name="Values">The value estimates, with gradient.</param>
/// <param name="Advantages">The advantage estimates (no gradient).</param>
/// <param name="Returns">The value targets (no gradient).</param>
/// <param name="ExplainedVariance">How much of the targets' variance the values explain, for the metrics.</param>
/// <param name="Transitions">T x N.</param>
public sealed record ActorCriticRound(Tensor LogProb, Tensor Entropy, Tensor Values, Tensor Advantages, Tensor Returns, double ExplainedVariance, int Transitions);
