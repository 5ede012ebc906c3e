using Advantage.Environments;
using Advantage.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Advantage.Learning;

/// <summary>
/// The IMPALA update (Espeholt et al. 2018) on a batch of rollouts that may each have been collected by an older
/// policy: the current network's log-probabilities of the taken actions against the behaviour log-probabilities the
/// rollouts carry give the importance ratios, <see cref="Returns.VTrace(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{bool}, ReadOnlySpan{bool}, ReadOnlySpan{float}, int, int, double, double, double?, double?, double?, Span{float}, Span{float})"/>
/// turns them into value targets vs and policy-gradient advantages, and one clipped optimizer step minimises
/// -A log pi + c_v (vs - V)^2 - c_e H.
/// </summary>
/// <remarks>
/// Observations are normalised with the statistics the current parameters go out with (the snapshot before this batch
/// moves them), so pi is exactly the policy a worker would act with now and the ratios measure only the lag.
/// <see cref="UpdateMetrics.Extra"/> holds <c>ratio_mean</c> (mean pi/mu over the batch) and <c>ratio_clipped</c>
/// (fraction of ratios above rho-bar): both near 1 and 0 when the workers keep up.
/// </remarks>
public sealed class ImpalaLearner : ActorCriticLearner
{
    private readonly ImpalaOptions options;
    private float[] logRhos = [];

    /// <summary>Creates the network (seeded) and optimizer.</summary>
    public ImpalaLearner(ImpalaOptions options, NetworkSpec spec)
        : base(options, spec)
    {
        this.options = options;
    }

    /// <summary>The validated options this learner was built with.</summary>
    public ImpalaOptions Options => options;

    /// <summary>
    /// One update from rollouts collected by any recent policy, each carrying its behaviour log-probabilities. Columns are
    /// laid out in the order given; every rollout must have the same T.
    /// </summary>
    /// <exception cref="ArgumentException">A rollout is malformed or carries no behaviour log-probabilities.</exception>
    public override UpdateMetrics Update(IReadOnlyList<Rollout> rollouts)
    {
        double learningRate = ApplyLearningRate();
        Batch.Fill(rollouts, Spec);
        if (!Batch.HasBehaviourLogProbs)
            throw new ArgumentException("Every rollout must carry BehaviourLogProbs: V-trace needs the collecting policy's probabilities.", nameof(rollouts));
        int obsSize = Spec.ObservationSize;
        int width = Spec.ActionWidth;
        int tn = Batch.Transitions;
        int rows = Batch.Rows;
        NormalizeAsActed();

        using var scope = torch.NewDisposeScope();
        var obs = torch.tensor(Batch.Observations, [rows, obsSize]).to(TorchDevice);
        var features = Network.Features(obs);
        var allValues = Network.Value(features);
        var act = Distribution.Actions(torch.tensor(Batch.Actions, [tn, width]).to(TorchDevice));
        var (logProb, entropy) = Distribution.LogProbAndEntropy(Network, features.narrow(0, 0, tn), act);

        if (logRhos.Length != tn) logRhos = new float[tn];
        using (var host = logProb.detach().cpu())
            TensorMemory.Floats(host).CopyTo(logRhos);
        double ratioSum = 0;
        int clipped = 0;
        for (int i = 0; i < tn; i++)
        {
            logRhos[i] -= Batch.BehaviourLogProbs[i];
            double ratio = Math.Exp(logRhos[i]);
            ratioSum += ratio;
            // Beyond float noise: on-policy ratios are 1 to within a few ulps either way.
            if (options.RhoBar is double rhoBar && ratio > rhoBar * (1 + 1e-5)) clipped++;
        }
        double explainedVariance = Batch.EstimateVTrace(allValues, logRhos, options.Gamma, options.TraceLambda, options.RhoBar, options.CBar, options.PgRhoBar);

        return ActorCriticStep(Round(logProb, entropy!, allValues.narrow(0, 0, tn), explainedVariance), new Dictionary<string, double>
        {
            ["ratio_mean"] = ratioSum / tn,
            ["ratio_clipped"] = (double)clipped / tn,
            ["learning_rate"] = learningRate,
        });
    }
}
