using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Advantage.Learning.Networks;

/// <summary>
/// A body (fully connected with tanh, or convolutional with ReLU for grids and frames) with a policy head
/// and a value head sharing the trunk (or, with <see cref="NetworkSpec.SeparateNetworks"/>, each with its own fully
/// connected layers, so a value-loss spike cannot move the policy's features), composed from a
/// <see cref="NetworkSpec"/> rather than subclassed per task, as in DeepRL. The policy head's output is
/// logits for a categorical policy or means for a Gaussian one, whose state-independent log standard
/// deviation is a learned parameter.
/// </summary>
/// <remarks>
/// All weights live in one contiguous float32 parameter, <see cref="Flat"/>, and the layers are views of it
/// (named slots, <see cref="Layout"/>). For the small networks A2C uses, per-call overhead dominates: one
/// parameter means the optimizer, gradient clipping, and the parameter hand-off to workers each touch one
/// tensor instead of one per layer. The slot names and order are the checkpoint and wire format.
/// </remarks>
public sealed class ActorCriticNetwork : Module<Tensor, Tensor>
{
    private readonly Parameter flat;
    private readonly ParameterSlot[] layout;
    private readonly int layers;
    private readonly int fcStart;
    private readonly int valueFcStart;
    private readonly int featureWidth;
    private readonly (int Slot, long Stride)[] convs;
    private readonly int policyWeight, policyBias, valueWeight, valueBias, logStd;

    /// <summary>Builds and initialises the network (draws from torch's generator: seed it first).</summary>
    public ActorCriticNetwork(NetworkSpec spec) : base("ActorCritic")
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        var slots = new List<ParameterSlot>();
        int offset = 0;
        void Add(string name, params long[] shape)
        {
            int length = checked((int)shape.Aggregate(1L, (a, d) => a * d));
            slots.Add(new ParameterSlot(name, shape, offset, length));
            offset += length;
        }
        long input = spec.ObservationSize;
        var convs = new List<(int Slot, long Stride)>();
        if (spec.Body != BodyKind.FullyConnected)
        {
            var shape = spec.ObservationShape ?? throw new ArgumentException("Convolutional bodies need ObservationShape [C, H, W].", nameof(spec));
            (long channels, long h, long w) = (shape[0], shape[1], shape[2]);
            (long Out, long Kernel, long Stride)[] stack = spec.Body == BodyKind.NatureConv
                ? [(32, 8, 4), (64, 4, 2), (64, 3, 1)]
                : [(16, 3, 1)];
            for (int i = 0; i < stack.Length; i++)
            {
                var (outChannels, kernel, stride) = stack[i];
                convs.Add((slots.Count, stride));
                Add($"body.conv{i}.weight", outChannels, channels, kernel, kernel);
                Add($"body.conv{i}.bias", outChannels);
                channels = outChannels;
                h = (h - kernel) / stride + 1;
                w = (w - kernel) / stride + 1;
            }
            input = channels * h * w;
        }
        IReadOnlyList<int> hidden = spec.Body switch
        {
            BodyKind.MinAtarConv => [128],
            BodyKind.NatureConv => [512],
            _ => spec.HiddenSizes,
        };
        fcStart = slots.Count;
        layers = hidden.Count;
        long trunkOutput = input;
        string policyBody = spec.SeparateNetworks ? "policy_body" : "body";
        for (int i = 0; i < layers; i++)
        {
            Add($"{policyBody}.fc{i}.weight", hidden[i], input);
            Add($"{policyBody}.fc{i}.bias", hidden[i]);
            input = hidden[i];
        }
        valueFcStart = -1;
        if (spec.SeparateNetworks)
        {
            // The value function's own fully connected layers, over the same convolutions (if any), as SB3's
            // net_arch=dict(pi=..., vf=...) over a shared features extractor.
            valueFcStart = slots.Count;
            long valueInput = trunkOutput;
            for (int i = 0; i < layers; i++)
            {
                Add($"value_body.fc{i}.weight", hidden[i], valueInput);
                Add($"value_body.fc{i}.bias", hidden[i]);
                valueInput = hidden[i];
            }
        }
        featureWidth = checked((int)input);
        this.convs = convs.ToArray();
        policyWeight = slots.Count; Add("policy_head.weight", spec.PolicyOutputs, input);
        policyBias = slots.Count; Add("policy_head.bias", spec.PolicyOutputs);
        valueWeight = slots.Count; Add("value_head.weight", 1, input);
        valueBias = slots.Count; Add("value_head.bias", 1);
        logStd = -1;
        if (spec.Continuous)
        {
            // gSDE learns a log std per (latent feature, action): the exploration matrix's spread (Stable-Baselines3's full_std).
            logStd = slots.Count;
            if (spec.StateDependentNoise) Add("log_std", featureWidth, spec.ActionSize);
            else Add("log_std", spec.ActionSize);
        }
        layout = slots.ToArray();
        flat = new Parameter(torch.zeros(offset, float32));
        register_parameter("flat", flat);
        InitWeights();
    }

    /// <summary>The sizes this network was built with.</summary>
    public NetworkSpec Spec { get; }

    /// <summary>The trunk's convolutions in order: the slot of each weight (its bias is the next slot) and its stride; empty for a fully connected body.</summary>
    internal IReadOnlyList<(int Slot, long Stride)> Convolutions => convs;

    /// <summary>The slots of the trunk's fully connected layers' weights (each bias is the next slot), in order.</summary>
    internal IEnumerable<int> FullyConnectedSlots => Enumerable.Range(0, layers).Select(i => fcStart + 2 * i);

    /// <summary>The slots of the value network's own fully connected layers' weights (each bias is the next slot), in order; empty when the trunk is shared.</summary>
    internal IEnumerable<int> ValueFullyConnectedSlots => valueFcStart < 0 ? [] : Enumerable.Range(0, layers).Select(i => valueFcStart + 2 * i);

    /// <summary>Whether the trunk's fully connected layers use ReLU (convolutional bodies) rather than tanh.</summary>
    internal bool ReluTrunk => convs.Length > 0;

    /// <summary>Slots of the policy head's weight and bias, the value head's weight and bias, and the log-std (-1 when categorical).</summary>
    internal (int PolicyWeight, int PolicyBias, int ValueWeight, int ValueBias, int LogStd) HeadSlots => (policyWeight, policyBias, valueWeight, valueBias, logStd);

    /// <summary>Every weight, as one contiguous vector in <see cref="Layout"/> order.</summary>
    public Parameter Flat => flat;

    /// <summary>Names, shapes and offsets of the weights inside <see cref="Flat"/>.</summary>
    public IReadOnlyList<ParameterSlot> Layout => layout;

    private Tensor[]? inferenceViews;

    private Tensor[]? trainingLeaves;

    private Tensor Slot(int index)
    {
        if (torch.is_grad_enabled())
        {
            if (trainingLeaves is not null) return trainingLeaves[index];
        }
        else if (inferenceViews is not null)
        {
            return inferenceViews[index];
        }
        return flat.narrow(0, layout[index].Offset, layout[index].Length).view(layout[index].Shape.ToArray());
    }

    /// <summary>
    /// Makes forward passes with gradient use one leaf tensor per weight that shares storage with <see cref="Flat"/>,
    /// whose gradient is in turn a view of <see cref="Flat"/>'s gradient, instead of slicing the flat vector on every call.
    /// Backward then accumulates straight into <see cref="Flat"/>'s gradient without two view nodes per weight: for a
    /// learner that takes many small steps per update (PPO's epochs) that is a sixth of a step. From then on the caller
    /// zeroes <c>Flat.grad</c> in place (an optimizer's <c>zero_grad</c> may drop the gradient tensor and break the
    /// link) and must not move the network to another device.
    /// </summary>
    internal void UseTrainingLeaves()
    {
        if (trainingLeaves is not null) return;
        using var noGrad = torch.no_grad();
        if (flat.grad is null) flat.grad = torch.zeros_like(flat).DetachFromDisposeScope();
        using var grad = flat.grad;
        using var data = flat.detach();
        var leaves = new Tensor[layout.Length];
        for (int i = 0; i < layout.Length; i++)
        {
            var shape = layout[i].Shape.ToArray();
            var leaf = data.narrow(0, layout[i].Offset, layout[i].Length).view(shape).DetachFromDisposeScope();
            leaf.requires_grad_(true);
            leaf.grad = grad!.narrow(0, layout[i].Offset, layout[i].Length).view(shape).DetachFromDisposeScope();
            leaves[i] = leaf;
        }
        trainingLeaves = leaves;
    }

    /// <summary>
    /// Keeps one view per weight for forward passes without gradient, instead of re-slicing the flat vector
    /// on every call. Inference copies call this: measured on a worker's batch of 16, the policy forward
    /// halves (77 to 37 us) and allocates a quarter as much. The views share storage with <see cref="Flat"/>,
    /// so weights written into it are seen at once; they are not valid after moving the network to another device.
    /// </summary>
    public void CacheInferenceViews()
    {
        if (inferenceViews is not null) return;
        using var noGrad = torch.no_grad();
        var views = new Tensor[layout.Length];
        using var detached = flat.detach();
        for (int i = 0; i < layout.Length; i++)
            views[i] = detached.narrow(0, layout[i].Offset, layout[i].Length).view(layout[i].Shape.ToArray()).DetachFromDisposeScope();
        inferenceViews = views;
    }

    /// <summary>
    /// Guards torch's process-wide random generator while a network initialises from it. TorchSharp's
    /// <c>init.orthogonal_</c> takes no generator, so a seeded network is "seed the global generator, then
    /// initialise": any other thread drawing from it in between (another run's learner, a worker's policy copy,
    /// a test running in parallel) silently changes the seeded weights. Every initialisation holds this lock,
    /// and <see cref="CreateSeeded"/> holds it across both steps.
    /// </summary>
    internal static readonly object InitGate = new();

    /// <summary>A network whose initial weights depend only on <paramref name="spec"/> and <paramref name="seed"/>, whatever other threads do.</summary>
    /// <param name="spec">The sizes.</param>
    /// <param name="seed">Seeds torch's generator for the initialisation.</param>
    /// <param name="orthogonal">
    /// True (the default): orthogonal weights (see the constructor). False: PyTorch's default initialisation of each layer,
    /// weights and biases uniform in +-1/sqrt(fan-in), as Stable-Baselines3's <c>ortho_init=False</c> leaves them (the
    /// zoo's gSDE settings use it); the log std keeps its initial value either way.
    /// </param>
    public static ActorCriticNetwork CreateSeeded(NetworkSpec spec, int seed, bool orthogonal = true)
    {
        lock (InitGate)
        {
            torch.manual_seed(seed);
            var network = new ActorCriticNetwork(spec);
            if (!orthogonal) network.InitUniformLocked();
            return network;
        }
    }

    /// <summary>PyTorch's default for Linear and Conv2d: weights (kaiming-uniform with a = sqrt 5) and biases uniform in +-1/sqrt(fan-in).</summary>
    private void InitUniformLocked()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < layout.Length; i++)
        {
            if (i == logStd || !layout[i].Name.EndsWith(".weight", StringComparison.Ordinal)) continue;
            var shape = layout[i].Shape;
            long fanIn = shape.Skip(1).Aggregate(1L, (a, d) => a * d);
            double bound = 1.0 / Math.Sqrt(fanIn);
            init.uniform_(Slot(i), -bound, bound);
            init.uniform_(Slot(i + 1), -bound, bound);
        }
    }

    /// <summary>Orthogonal initialisation: body sqrt(2), policy head 0.01 (a near-uniform first policy), value head 1; biases 0.</summary>
    private void InitWeights()
    {
        lock (InitGate) InitWeightsLocked();
    }

    private void InitWeightsLocked()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        foreach (var (slot, _) in convs) init.orthogonal_(Slot(slot), Math.Sqrt(2));
        for (int i = 0; i < layers; i++) init.orthogonal_(Slot(fcStart + 2 * i), Math.Sqrt(2));
        if (valueFcStart >= 0)
            for (int i = 0; i < layers; i++) init.orthogonal_(Slot(valueFcStart + 2 * i), Math.Sqrt(2));
        init.orthogonal_(Slot(policyWeight), 0.01);
        init.orthogonal_(Slot(valueWeight), 1.0);
        if (logStd >= 0)
        {
            // A scalar held through the call, not TorchSharp's temporary (see KeptScalars).
            using var initial = Spec.InitialLogStd.ToScalar();
            Slot(logStd).fill_(initial);
        }
    }

    /// <summary>
    /// The learned log standard deviation of a Gaussian policy, [d] (or [latent, d] with
    /// <see cref="NetworkSpec.StateDependentNoise"/>); null for a categorical one.
    /// </summary>
    public Tensor? LogStd() => logStd >= 0 ? Slot(logStd) : null;

    /// <summary>
    /// The trunk's features for a batch of observations [B, obs]. With <see cref="NetworkSpec.SeparateNetworks"/> they are the
    /// policy network's and the value network's last hidden layers side by side [B, 2H]; <see cref="Policy"/> and
    /// <see cref="Value"/> each read their half, so callers need not know which layout they hold.
    /// </summary>
    public Tensor Features(Tensor observations)
    {
        var x = observations;
        bool relu = convs.Length > 0;
        if (relu)
        {
            var shape = Spec.ObservationShape!;
            x = x.view(-1, shape[0], shape[1], shape[2]);
            foreach (var (slot, stride) in convs)
                x = functional.conv2d(x, Slot(slot), Slot(slot + 1), strides: [stride, stride]).relu_();
            x = x.flatten(1);
        }
        var policy = FullyConnected(x, fcStart, relu);
        if (valueFcStart < 0) return policy;
        return torch.cat([policy, FullyConnected(x, valueFcStart, relu)], 1);
    }

    private Tensor FullyConnected(Tensor x, int start, bool relu)
    {
        for (int i = 0; i < layers; i++)
        {
            x = functional.linear(x, Slot(start + 2 * i), Slot(start + 2 * i + 1));
            x = relu ? x.relu_() : x.tanh_();
        }
        return x;
    }

    /// <summary>Width of the policy's last hidden layer (<see cref="PolicyLatent"/>): what the policy head and gSDE's noise read.</summary>
    public int LatentWidth => featureWidth;

    /// <summary>The policy's last hidden layer [B, <see cref="LatentWidth"/>] from features (the policy half when the networks are separate).</summary>
    public Tensor PolicyLatent(Tensor features) => valueFcStart < 0 ? features : features.narrow(1, 0, featureWidth);

    /// <summary>Policy parameters from features: logits [B, n] or Gaussian means [B, d].</summary>
    public Tensor Policy(Tensor features) =>
        functional.linear(valueFcStart < 0 ? features : features.narrow(1, 0, featureWidth), Slot(policyWeight), Slot(policyBias));

    /// <summary>State values from features, shape [B].</summary>
    public Tensor Value(Tensor features) =>
        functional.linear(valueFcStart < 0 ? features : features.narrow(1, featureWidth, featureWidth), Slot(valueWeight), Slot(valueBias)).squeeze(-1);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && inferenceViews is not null)
        {
            foreach (var view in inferenceViews) view.Dispose();
            inferenceViews = null;
        }
        if (disposing && trainingLeaves is not null)
        {
            foreach (var leaf in trainingLeaves) leaf.Dispose();
            trainingLeaves = null;
        }
        base.Dispose(disposing);
    }

    /// <summary>Policy parameters straight from observations; what acting needs.</summary>
    public override Tensor forward(Tensor observations) => Policy(Features(observations));
}
