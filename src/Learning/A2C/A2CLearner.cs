using Advantage.Environments;
using Advantage.Learning.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Advantage.Learning;

/// <summary>
/// The synchronous A2C update: batch the rollouts of one round column-wise into [T, N], recompute
/// values and log-probabilities with gradients, estimate advantages with <see cref="Returns"/>, and
/// take one clipped optimizer step (the batch and targets are <c>RoundBatch</c>'s, the step is
/// <see cref="ActorCriticLearner"/>'s; ARCHITECTURE.md, "One synchronous round"). Owns no actors, so it can be tested
/// and embedded without Akka.
/// </summary>
public sealed class A2CLearner : ActorCriticLearner
{
    private readonly A2COptions options;

    /// <summary>Creates the network (seeded) and optimizer.</summary>
    public A2CLearner(A2COptions options, NetworkSpec spec)
        : base(options, spec)
    {
        this.options = options;
    }

    /// <summary>The validated options this learner was built with.</summary>
    public A2COptions Options => options;

    /// <summary>
    /// One A2C update from one round's rollouts. Columns are laid out in the order given (the learner
    /// actor sorts by worker id, which keeps a seeded run reproducible). Every rollout must have the same T.
    /// </summary>
    public override UpdateMetrics Update(IReadOnlyList<Rollout> rollouts)
    {
        double learningRate = ApplyLearningRate();
        Batch.Fill(rollouts, Spec);
        int obsSize = Spec.ObservationSize;
        int width = Spec.ActionWidth;
        int tn = Batch.Transitions;
        int rows = Batch.Rows;
        float[] observations = Batch.Observations;

        if (LiveObservationStatistics is not null)
        {
            // Learn from each observation once (rows 0..T-1; row T comes back as next round's row 0),
            // then feed the network the same normalised inputs the workers will act on.
            LiveObservationStatistics.Update(observations.AsSpan(0, tn * obsSize), tn);
            new ObservationNormalizer(LiveObservationStatistics.Snapshot()).Normalize(observations);
        }

        using var scope = torch.NewDisposeScope();
        var obs = torch.tensor(observations, [rows, obsSize]).to(TorchDevice);
        var features = Network.Features(obs);
        var allValues = Network.Value(features);

        // Values feed the targets without gradient, on the host, through the one Returns implementation.
        double explainedVariance = Batch.Estimate(allValues, options);

        var act = Distribution.Actions(torch.tensor(Batch.Actions, [tn, width]).to(TorchDevice));
        var (logProb, entropy) = Distribution.LogProbAndEntropy(Network, features.narrow(0, 0, tn), act);
        return ActorCriticStep(logProb, entropy!, allValues.narrow(0, 0, tn), explainedVariance, new Dictionary<string, double> { ["learning_rate"] = learningRate });
    }
}
