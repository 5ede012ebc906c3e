using Advantage.Learning.Networks;
using TorchSharp;

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
    /// One A2C update from one round's rollouts. Columns are laid out in the order given (the learner's
    /// synchronous round policy sorts them by worker id, which keeps a seeded run reproducible). Every rollout must
    /// have the same T.
    /// </summary>
    public override UpdateMetrics Update(IReadOnlyList<Rollout> rollouts)
    {
        double learningRate = ApplyLearningRate();
        using var scope = torch.NewDisposeScope();
        return ActorCriticStep(Forward(rollouts), new Dictionary<string, double> { ["learning_rate"] = learningRate });
    }
}
