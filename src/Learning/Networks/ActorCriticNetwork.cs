using Advantage.Environments;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Advantage.Learning.Networks;

/// <summary>
/// A body and two heads (policy and value) sharing one trunk, composed rather than subclassed per task,
/// as in DeepRL. The policy head's shape follows the action space: logits for <see cref="Discrete"/>,
/// a mean plus a state-independent log standard deviation for <see cref="Box"/>.
/// </summary>
/// <remarks>
/// Field names are the parameter names and therefore the order and keys of the flat parameter vector
/// and of checkpoints: renaming a field is a format change.
/// </remarks>
public sealed class ActorCriticNetwork : Module<Tensor, Tensor>
{
    private readonly Sequential body;
    private readonly Linear policy_head;
    private readonly Linear value_head;
    private readonly Parameter? log_std;

    /// <summary>Builds the network for the given spaces.</summary>
    /// <param name="spec">Sizes of input, hidden layers and action distribution.</param>
    public ActorCriticNetwork(NetworkSpec spec) : base("ActorCritic")
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        long input = spec.ObservationSize;
        for (int i = 0; i < spec.HiddenSizes.Count; i++)
        {
            layers.Add(($"fc{i}", Linear(input, spec.HiddenSizes[i])));
            layers.Add(($"tanh{i}", Tanh()));
            input = spec.HiddenSizes[i];
        }
        body = Sequential(layers);
        policy_head = Linear(input, spec.PolicyOutputs);
        value_head = Linear(input, 1);
        if (spec.Continuous)
            log_std = new Parameter(torch.full(spec.ActionSize, spec.InitialLogStd, float32));
        RegisterComponents();
        InitWeights();
    }

    /// <summary>The sizes this network was built with.</summary>
    public NetworkSpec Spec { get; }

    /// <summary>The learned log standard deviation of a Gaussian policy; null for a categorical one.</summary>
    public Tensor? LogStd => log_std;

    /// <summary>Orthogonal initialisation: body sqrt(2), policy head 0.01 (near-uniform first policy), value head 1.</summary>
    private void InitWeights()
    {
        using var noGrad = torch.no_grad();
        foreach (var module in body.children())
        {
            if (module is Linear linear)
            {
                init.orthogonal_(linear.weight!, Math.Sqrt(2));
                init.zeros_(linear.bias!);
            }
        }
        init.orthogonal_(policy_head.weight!, 0.01);
        init.zeros_(policy_head.bias!);
        init.orthogonal_(value_head.weight!, 1.0);
        init.zeros_(value_head.bias!);
    }

    /// <summary>The trunk's features for a batch of observations [B, obs].</summary>
    public Tensor Features(Tensor observations) => body.forward(observations);

    /// <summary>Policy parameters from features: logits [B, n] or Gaussian means [B, d].</summary>
    public Tensor Policy(Tensor features) => policy_head.forward(features);

    /// <summary>State values from features, shape [B].</summary>
    public Tensor Value(Tensor features) => value_head.forward(features).squeeze(-1);

    /// <summary>Policy parameters straight from observations; what acting needs.</summary>
    public override Tensor forward(Tensor observations)
    {
        using var features = Features(observations);
        return Policy(features);
    }
}
