using Advantage.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Advantage.Learning;

/// <summary>
/// An inference copy of the actor used by a worker: loads parameter vectors, and turns a batch of
/// observations into actions with one forward call for the whole batch (per-call overhead dominates
/// small networks, so one call per environment would be several times slower).
/// </summary>
public sealed class Policy : IDisposable
{
    private readonly ActorCriticNetwork network;
    private readonly ParameterVector parameters;
    private ResumableRandom random;
    private readonly int batch;
    private readonly Tensor input;
    private readonly float[] output;
    private readonly float[] logStd;
    private readonly ActionDistribution distribution;
    // gSDE: each environment's latent row and exploration matrix, how many steps since the rollout began, and whether to draw anew.
    private readonly bool stateDependent;
    private readonly int latentWidth;
    private readonly float[] latent = [];
    private readonly float[] exploration = [];
    private int stepsSinceRollout;
    private bool drawExploration = true;

    /// <summary>Builds an inference policy for a fixed batch of environments.</summary>
    /// <param name="spec">Network sizes; must match the learner's.</param>
    /// <param name="batchSize">Environments acted for per call (K).</param>
    /// <param name="seed">Seeds action sampling.</param>
    public Policy(NetworkSpec spec, int batchSize, int seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        Spec = spec;
        batch = batchSize;
        network = new ActorCriticNetwork(spec);
        network.eval();
        network.CacheInferenceViews();
        parameters = new ParameterVector(network);
        random = new ResumableRandom(seed);
        input = torch.zeros(batchSize, spec.ObservationSize);
        output = new float[batchSize * spec.PolicyOutputs];
        logStd = new float[spec.Continuous ? network.Layout[^1].Length : 0];
        distribution = ActionDistribution.For(spec);
        stateDependent = spec.Continuous && spec.StateDependentNoise;
        latentWidth = network.LatentWidth;
        if (stateDependent)
        {
            latent = new float[batchSize * latentWidth];
            exploration = new float[batchSize * logStd.Length];
        }
    }

    /// <summary>The sizes this policy was built with.</summary>
    public NetworkSpec Spec { get; }

    /// <summary>Length of the parameter vector <see cref="Load"/> expects.</summary>
    public int ParameterCount => parameters.Count;

    /// <summary>
    /// Restarts action sampling from <paramref name="seed"/>. Workers call it at the round boundaries where a
    /// run may be checkpointed, so a resumed run samples exactly what the uninterrupted one would have.
    /// </summary>
    public void Reseed(int seed) => random = new ResumableRandom(seed);

    /// <summary>
    /// The state of action sampling (the stream of <c>new System.Random(seed)</c>, which the policy draws from), so a
    /// worker saved with a checkpoint samples, once restored (<see cref="RestoreSampler"/>), exactly what it would have.
    /// </summary>
    public byte[] SaveSampler() => random.Save();

    /// <summary>Continues action sampling from what <see cref="SaveSampler"/> returned.</summary>
    /// <exception cref="ArgumentException">The bytes are not a saved sampler.</exception>
    public void RestoreSampler(ReadOnlySpan<byte> saved) => random.Restore(saved);

    /// <summary>
    /// Marks the start of a rollout. With state-dependent exploration (<see cref="NetworkSpec.StateDependentNoise"/>) the
    /// next stochastic <see cref="Act(ReadOnlySpan{float}, Span{float}, Span{float}, bool)"/> draws a new exploration matrix
    /// per environment (from this policy's seeded generator, with the log std just loaded), and again every
    /// <see cref="NetworkSpec.SdeSampleFrequency"/> steps from there; otherwise it does nothing.
    /// </summary>
    public void BeginRollout()
    {
        stepsSinceRollout = 0;
        drawExploration = true;
    }

    /// <summary>Replaces the weights with a parameter vector from the learner.</summary>
    public void Load(ReadOnlySpan<float> parameterVector)
    {
        parameters.Write(parameterVector);
        if (network.Spec.Continuous)
        {
            var layout = network.Layout;
            var slot = layout[layout.Count - 1];
            parameterVector.Slice(slot.Offset, slot.Length).CopyTo(logStd);
        }
    }

    /// <summary>
    /// Chooses one action per environment. Discrete actions are written as their index; Gaussian actions
    /// unclipped (clip when stepping, never in the log-probability). Deterministic takes the argmax or the mean.
    /// </summary>
    /// <param name="observations">[K x obs] observations.</param>
    /// <param name="actions">[K x ActionWidth] destination.</param>
    /// <param name="deterministic">Greedy actions for evaluation.</param>
    public void Act(ReadOnlySpan<float> observations, Span<float> actions, bool deterministic) =>
        Act(observations, actions, [], deterministic);

    /// <summary>
    /// Chooses one action per environment, as <see cref="Act(ReadOnlySpan{float}, Span{float}, bool)"/>, and writes the
    /// log-probability of each chosen action under this policy: the behaviour log-probabilities an asynchronous learner
    /// needs to correct for the policy having moved on since (V-trace). Computed in double from the same forward pass,
    /// so they agree with the learner's own evaluation of these parameters to float precision.
    /// </summary>
    /// <param name="observations">[K x obs] observations.</param>
    /// <param name="actions">[K x ActionWidth] destination.</param>
    /// <param name="logProbabilities">[K] destination, or empty to skip them.</param>
    /// <param name="deterministic">Greedy actions for evaluation.</param>
    public void Act(ReadOnlySpan<float> observations, Span<float> actions, Span<float> logProbabilities, bool deterministic)
    {
        if (observations.Length != batch * Spec.ObservationSize)
            throw new ArgumentException($"observations must hold {batch} x {Spec.ObservationSize} floats; got {observations.Length}.", nameof(observations));
        if (actions.Length != batch * Spec.ActionWidth)
            throw new ArgumentException($"actions must hold {batch} x {Spec.ActionWidth} floats; got {actions.Length}.", nameof(actions));
        if (logProbabilities.Length != 0 && logProbabilities.Length != batch)
            throw new ArgumentException($"logProbabilities must hold {batch} floats or none; got {logProbabilities.Length}.", nameof(logProbabilities));
        using (var scope = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            observations.CopyTo(TensorMemory.Floats(input));
            if (stateDependent)
            {
                var features = network.Features(input);
                TensorMemory.Floats(network.Policy(features).contiguous()).CopyTo(output);
                TensorMemory.Floats(network.PolicyLatent(features).contiguous()).CopyTo(latent);
            }
            else
            {
                var result = network.forward(input);
                TensorMemory.Floats(result).CopyTo(output);
            }
        }
        if (stateDependent && !deterministic)
        {
            int frequency = Spec.SdeSampleFrequency;
            if (drawExploration || (frequency > 0 && stepsSinceRollout % frequency == 0))
            {
                for (int k = 0; k < batch; k++)
                    StateDependentNoiseDistribution.SampleExploration(logStd, random, exploration.AsSpan(k * logStd.Length, logStd.Length));
                drawExploration = false;
            }
            stepsSinceRollout++;
        }
        int width = Spec.PolicyOutputs, actionWidth = Spec.ActionWidth;
        bool record = logProbabilities.Length != 0;
        for (int k = 0; k < batch; k++)
        {
            var row = output.AsSpan(k * width, width);
            var chosen = actions.Slice(k * actionWidth, actionWidth);
            var latentRow = stateDependent ? latent.AsSpan(k * latentWidth, latentWidth) : [];
            if (deterministic) distribution.Mode(row, chosen);
            else if (stateDependent) StateDependentNoiseDistribution.Explore(row, latentRow, exploration.AsSpan(k * logStd.Length, logStd.Length), chosen);
            else distribution.Sample(row, logStd, [], random, chosen);
            if (record) logProbabilities[k] = (float)distribution.LogProb(row, logStd, latentRow, chosen);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        input.Dispose();
        network.Dispose();
    }
}
