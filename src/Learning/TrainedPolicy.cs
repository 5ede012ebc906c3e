using Advantage.Environments;
using Advantage.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Advantage.Learning;

/// <summary>
/// What a <see cref="TrainedPolicy"/> computed for one observation: the action to step the environment with, and
/// the distribution and value it came from. The other head's fields are empty arrays, never null (F# code reads
/// them without null checks): <see cref="Logits"/> and <see cref="Probabilities"/> for a categorical head,
/// <see cref="Mean"/> and <see cref="LogStd"/> for a Gaussian one.
/// </summary>
/// <param name="Action">
/// The action, <see cref="NetworkSpec.ActionWidth"/> floats: a discrete action's index as a float, or a Gaussian action
/// clipped to the run's action bounds (what the run's workers stepped their environments with).
/// </param>
/// <param name="Value">The critic's estimate of the observation's value (in the run's reward scale).</param>
public sealed record PolicyDecision(float[] Action, float Value)
{
    /// <summary>Categorical head: the logits, one per action; empty for a Gaussian head.</summary>
    public float[] Logits { get; init; } = [];

    /// <summary>Categorical head: softmax of <see cref="Logits"/>, the probability of each action; empty for a Gaussian head.</summary>
    public float[] Probabilities { get; init; } = [];

    /// <summary>Gaussian head: the mean, unclipped (the deterministic action before clipping); empty for a categorical head.</summary>
    public float[] Mean { get; init; } = [];

    /// <summary>
    /// Gaussian head: the log standard deviation per dimension (the learned one, or with state-dependent exploration the
    /// one this observation's features give); empty for a categorical head.
    /// </summary>
    public float[] LogStd { get; init; } = [];

    /// <summary>The discrete action as an index; throws for a Gaussian head, whose action is a vector.</summary>
    public int ActionIndex => Probabilities.Length > 0
        ? (int)Action[0]
        : throw new InvalidOperationException("A Gaussian policy's action is a vector; read Action.");
}

/// <summary>
/// A trained policy in one object: load a checkpoint (any of a run's <c>model.ckpt</c>, <c>last.ckpt</c>,
/// <c>best.ckpt</c>, a saved <c>TrainingResult</c>) or a finished run folder, and act on one observation or a batch.
/// It applies what the run applied around the network, so a caller passes raw observations and gets actions the
/// environment accepts: the observation normaliser with the run's statistics (clip 10, epsilon 1e-8, as the workers
/// normalised) and, for a Gaussian head, clipping to the action bounds.
/// </summary>
/// <remarks>
/// Deterministic actions are the argmax (first of equal logits) or the Gaussian mean; sampled actions draw from a
/// <see cref="System.Random"/> seeded at load (<see cref="Reseed"/> restarts it), so a seeded caller gets the same
/// actions every time. Calls are serialised by a lock: one instance may be shared between threads, but they take turns.
/// Owns native tensors: dispose it.
/// </remarks>
public sealed class TrainedPolicy : IDisposable
{
    /// <summary>The file a run folder keeps its final policy in; <see cref="Load"/> reads it when given a folder.</summary>
    public const string RunFolderModel = "model.ckpt";

    private readonly ActorCriticNetwork network;
    private readonly ParameterVector parameters;
    private ObservationNormalizer? normalizer;
    private readonly float[] logStd;
    private readonly float[]? low, high;
    private readonly object gate = new();
    private Random random;
    private bool disposed;
    private readonly ActionDistribution distribution;

    private TrainedPolicy(Checkpoint checkpoint, int seed)
    {
        var spec = checkpoint.Spec;
        distribution = ActionDistribution.For(spec);
        network = new ActorCriticNetwork(spec);
        try
        {
            network.eval();
            parameters = new ParameterVector(network);
            if (checkpoint.Parameters.Length != parameters.Count)
                throw new InvalidDataException($"The checkpoint holds {checkpoint.Parameters.Length} parameters; its network ({spec.ObservationSize} observations, {spec.ActionSize} actions) has {parameters.Count}.");
            parameters.Write(checkpoint.Parameters);
            network.CacheInferenceViews();
            logStd = new float[spec.Continuous ? network.Layout[^1].Length : 0];
            if (spec.Continuous)
            {
                var slot = network.Layout[network.Layout.Count - 1];
                checkpoint.Parameters.AsSpan(slot.Offset, slot.Length).CopyTo(logStd);
            }
            if (checkpoint.ObservationStatistics is { } statistics)
            {
                if (statistics.Size != spec.ObservationSize)
                    throw new InvalidDataException($"The checkpoint's observation statistics have {statistics.Size} dimensions; its network observes {spec.ObservationSize}.");
                normalizer = new ObservationNormalizer(statistics);
            }
            ActionBounds = spec.Continuous ? BoundsOf(checkpoint) : null;
            if (ActionBounds is { } box)
            {
                low = box.Low.ToArray();
                high = box.High.ToArray();
            }
        }
        catch
        {
            network.Dispose();
            throw;
        }
        Checkpoint = checkpoint;
        random = new Random(seed);
    }

    /// <summary>
    /// Loads the policy in <paramref name="path"/>: a checkpoint file, or a run folder (its <c>model.ckpt</c>).
    /// </summary>
    /// <param name="path">A checkpoint file or a finished run's folder.</param>
    /// <param name="seed">Seeds sampled actions; deterministic actions do not use it.</param>
    /// <exception cref="FileNotFoundException">Neither a file nor a folder with <c>model.ckpt</c> is there.</exception>
    /// <exception cref="InvalidDataException">The file is not a whole checkpoint, or its parts do not fit together.</exception>
    public static TrainedPolicy Load(string path, int seed = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string file = path;
        if (Directory.Exists(path))
        {
            file = Path.Combine(path, RunFolderModel);
            if (!File.Exists(file))
                throw new FileNotFoundException($"'{path}' is a folder without {RunFolderModel}; pass a run folder of a finished run or a checkpoint file.", file);
        }
        else if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No checkpoint at '{path}'.", path);
        }
        return new TrainedPolicy(Checkpoint.Load(file), seed);
    }

    /// <summary>The policy held by <paramref name="checkpoint"/> (for example a training result's <c>ToCheckpoint()</c>).</summary>
    /// <param name="checkpoint">Weights, spec, and the statistics and bounds the run used.</param>
    /// <param name="seed">Seeds sampled actions.</param>
    /// <exception cref="InvalidDataException">The parameters or statistics do not fit the checkpoint's network.</exception>
    public static TrainedPolicy FromCheckpoint(Checkpoint checkpoint, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return new TrainedPolicy(checkpoint, seed);
    }

    /// <summary>The checkpoint this policy was loaded from (metadata, counters, options).</summary>
    public Checkpoint Checkpoint { get; }

    /// <summary>The network's sizes and head.</summary>
    public NetworkSpec Spec => Checkpoint.Spec;

    /// <summary>The environment the run trained on; null when the checkpoint does not say.</summary>
    public string? EnvironmentId => Checkpoint.EnvironmentId;

    /// <summary>The algorithm that trained it ("a2c", "ppo", "impala"); null when the checkpoint does not say.</summary>
    public string? Algorithm => Checkpoint.Algorithm;

    /// <summary>Floats in one observation.</summary>
    public int ObservationSize => Spec.ObservationSize;

    /// <summary>Floats in one action: 1 (the index) for a categorical head, the dimensions for a Gaussian one.</summary>
    public int ActionWidth => Spec.ActionWidth;

    /// <summary>True for a Gaussian head over a Box, false for a categorical head.</summary>
    public bool Continuous => Spec.Continuous;

    /// <summary>The statistics observations are normalised with; null when the run did not normalise.</summary>
    public NormalizerState? ObservationStatistics => normalizer?.State;

    /// <summary>
    /// The bounds Gaussian actions are clipped to: the checkpoint's, or for an older checkpoint the built-in
    /// environment's it names; null for a categorical head or when neither is known (actions are then unclipped).
    /// </summary>
    public Box? ActionBounds { get; }

    /// <summary>Restarts sampled actions from <paramref name="seed"/>.</summary>
    public void Reseed(int seed)
    {
        lock (gate) random = new Random(seed);
    }

    /// <summary>The observation as the network sees it: normalised when the run normalised, else a copy.</summary>
    /// <exception cref="ArgumentException">The observation's length is not <see cref="ObservationSize"/>.</exception>
    public float[] Normalize(float[] observation)
    {
        Check(observation, nameof(observation));
        var result = new float[observation.Length];
        if (normalizer is null) observation.CopyTo(result, 0);
        else normalizer.Normalize(observation, result);
        return result;
    }

    /// <summary>The action for one raw observation (<see cref="ActionWidth"/> floats; a discrete action's index as a float).</summary>
    /// <param name="observation">One observation as the environment wrote it.</param>
    /// <param name="deterministic">True for the argmax or the mean; false to sample.</param>
    public float[] Act(float[] observation, bool deterministic) => Decide(observation, deterministic).Action;

    /// <summary>The action index for one raw observation of a categorical policy.</summary>
    /// <exception cref="InvalidOperationException">The policy is Gaussian.</exception>
    public int ActDiscrete(float[] observation, bool deterministic)
    {
        if (Continuous) throw new InvalidOperationException("This policy is Gaussian; its action is a vector: call Act.");
        return (int)Act(observation, deterministic)[0];
    }

    /// <summary>One action per row of <paramref name="observations"/>, from one forward pass over the batch.</summary>
    public float[][] ActBatch(float[][] observations, bool deterministic) =>
        Array.ConvertAll(DecideBatch(observations, deterministic), d => d.Action);

    /// <summary>The action for one raw observation, with the distribution it came from and the value.</summary>
    public PolicyDecision Decide(float[] observation, bool deterministic)
    {
        Check(observation, nameof(observation));
        return DecideBatch([observation], deterministic)[0];
    }

    /// <summary>
    /// Actions, distributions and values for a batch of raw observations, from one forward pass. Sampled actions draw
    /// row by row, in order, so a seeded batch gives the same actions as the same rows one at a time.
    /// </summary>
    /// <exception cref="ArgumentException">A row's length is not <see cref="ObservationSize"/>.</exception>
    public PolicyDecision[] DecideBatch(float[][] observations, bool deterministic)
    {
        ArgumentNullException.ThrowIfNull(observations);
        int n = observations.Length, size = ObservationSize, width = Spec.PolicyOutputs;
        if (n == 0) return [];
        var input = new float[n * size];
        for (int i = 0; i < n; i++)
        {
            Check(observations[i], $"{nameof(observations)}[{i}]");
            var row = input.AsSpan(i * size, size);
            observations[i].CopyTo(row);
            normalizer?.Normalize(row);
        }
        var heads = new float[n * width];
        var values = new float[n];
        int latentWidth = LatentWidth;
        var latents = new float[n * latentWidth];
        lock (gate)
        {
            ForwardNormalized(input, n, heads, values, latents);
            var decisions = new PolicyDecision[n];
            for (int i = 0; i < n; i++)
            {
                var head = heads.AsSpan(i * width, width);
                decisions[i] = Continuous
                    ? Gaussian(head, latents.AsSpan(i * latentWidth, latentWidth), values[i], deterministic)
                    : Categorical(head, values[i], deterministic);
            }
            return decisions;
        }
    }

    /// <summary>
    /// The policy server's batch: normalises the first <paramref name="count"/> raw rows of <paramref name="input"/> in
    /// place, then one forward pass writes the policy head's outputs (logits or means), the values, and (with state-dependent
    /// exploration, else nothing) the policy's latent rows, <see cref="LatentWidth"/> each.
    /// </summary>
    internal void Forward(float[] input, int count, float[] heads, float[] values, float[] latents)
    {
        int size = ObservationSize;
        lock (gate)
        {
            if (normalizer is { } n)
                for (int i = 0; i < count; i++) n.Normalize(input.AsSpan(i * size, size));
            ForwardNormalized(input, count, heads, values, latents);
        }
    }

    /// <summary>Floats of the policy's latent row that sampling needs: its last hidden layer with state-dependent exploration, none otherwise.</summary>
    internal int LatentWidth => Spec.Continuous && Spec.StateDependentNoise ? network.LatentWidth : 0;

    /// <summary>The distribution the policy head parameterises (samples, modes, log-probabilities).</summary>
    internal ActionDistribution Distribution => distribution;

    /// <summary>
    /// Swaps in the parameters (and the observation statistics that came with them) of a newer version of the same
    /// network, in place: a policy server following a live run. <see cref="Checkpoint"/> keeps describing the original.
    /// </summary>
    /// <exception cref="ArgumentException">The vector's length or the statistics' size does not fit the network.</exception>
    internal void Swap(float[] values, NormalizerState? statistics)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != parameters.Count)
            throw new ArgumentException($"The parameter vector holds {values.Length} floats; this network has {parameters.Count}.", nameof(values));
        if (statistics is not null && statistics.Size != ObservationSize)
            throw new ArgumentException($"The observation statistics have {statistics.Size} dimensions; this network observes {ObservationSize}.", nameof(statistics));
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            parameters.Write(values);
            if (Continuous)
            {
                var slot = network.Layout[network.Layout.Count - 1];
                values.AsSpan(slot.Offset, slot.Length).CopyTo(logStd);
            }
            normalizer = statistics is null ? null : new ObservationNormalizer(statistics);
        }
    }

    /// <summary>The Gaussian head's current log standard deviations (empty for a categorical head); do not modify.</summary>
    internal float[] CurrentLogStd => logStd;

    private void ForwardNormalized(float[] input, int n, float[] heads, float[] values, float[] latents)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        int size = ObservationSize;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = torch.tensor(input.Length == n * size ? input : input.AsSpan(0, n * size).ToArray(), [n, size]);
        var features = network.Features(x);
        TensorMemory.Floats(network.Policy(features).contiguous()).CopyTo(heads);
        TensorMemory.Floats(network.Value(features).contiguous()).CopyTo(values);
        if (LatentWidth > 0) TensorMemory.Floats(network.PolicyLatent(features).contiguous()).CopyTo(latents);
    }

    private PolicyDecision Categorical(ReadOnlySpan<float> logits, float value, bool deterministic)
    {
        var action = new float[1];
        if (deterministic) distribution.Mode(logits, action);
        else distribution.Sample(logits, [], [], random, action);
        return new PolicyDecision(action, value) { Logits = logits.ToArray(), Probabilities = CategoricalDistribution.Probabilities(logits) };
    }

    private PolicyDecision Gaussian(ReadOnlySpan<float> mean, ReadOnlySpan<float> latent, float value, bool deterministic)
    {
        var action = new float[mean.Length];
        if (deterministic) distribution.Mode(mean, action);
        else distribution.Sample(mean, logStd, latent, random, action);
        if (low is not null)
            for (int d = 0; d < action.Length; d++) action[d] = Math.Clamp(action[d], low[d], high![d]);
        float[] rowLogStd = (float[])logStd.Clone();
        if (LatentWidth > 0)
        {
            rowLogStd = new float[mean.Length];
            StateDependentNoiseDistribution.RowLogStd(latent, logStd, rowLogStd);
        }
        return new PolicyDecision(action, value) { Mean = mean.ToArray(), LogStd = rowLogStd };
    }

    private void Check(float[] observation, string name)
    {
        ArgumentNullException.ThrowIfNull(observation, name);
        if (observation.Length != ObservationSize)
            throw new ArgumentException($"{name} holds {observation.Length} floats; this policy observes {ObservationSize}.", name);
    }

    /// <summary>The bounds a Gaussian policy of <paramref name="checkpoint"/> clips to (the ONNX export clips to the same).</summary>
    internal static Box? BoundsOf(Checkpoint checkpoint)
    {
        if (checkpoint.ActionBounds is { } saved)
        {
            if (saved.FlatSize != checkpoint.Spec.ActionSize)
                throw new InvalidDataException($"The checkpoint's action bounds have {saved.FlatSize} dimensions; its network acts in {checkpoint.Spec.ActionSize}.");
            return saved;
        }
        // Checkpoints written before the bounds were kept: the built-in environment they name still knows them.
        if (checkpoint.EnvironmentId is { } id && EnvironmentRegistry.Builtin.Contains(id)
            && EnvironmentRegistry.Builtin.Make(id).ActionSpace is Box box && box.FlatSize == checkpoint.Spec.ActionSize)
            return box;
        return null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            network.Dispose();
        }
    }
}
