using Advantage.Environments;

namespace Advantage.Learning.Networks;

/// <summary>Which trunk turns observations into features.</summary>
public enum BodyKind
{
    /// <summary>Fully connected layers with tanh (<see cref="NetworkSpec.HiddenSizes"/>); for vector observations.</summary>
    FullyConnected,

    /// <summary>MinAtar's network: one 3x3 convolution of 16 channels (ReLU), then 128 units (ReLU); for small [C, H, W] grids.</summary>
    MinAtarConv,

    /// <summary>The Nature DQN trunk: 32x8x8/4, 64x4x4/2, 64x3x3/1 convolutions, then 512 units (ReLU); for 84x84 frame stacks.</summary>
    NatureConv,
}

/// <summary>
/// The sizes that determine a network's parameter layout. Workers and the learner build their copies
/// from the same spec, so parameter vectors line up without exchanging module objects.
/// </summary>
/// <param name="ObservationSize">Flat observation length.</param>
/// <param name="HiddenSizes">Widths of the fully connected body (ignored by convolutional bodies).</param>
/// <param name="ActionSize">Discrete: number of actions; Box: action dimensions.</param>
/// <param name="Continuous">True for a Gaussian head over a Box, false for a categorical head.</param>
/// <param name="InitialLogStd">Initial log standard deviation of a Gaussian head.</param>
/// <param name="Body">The trunk. Default fully connected.</param>
/// <param name="ObservationShape">Observation shape [C, H, W] for convolutional bodies; null for a flat vector.</param>
/// <param name="SeparateNetworks">
/// True: the policy and the value function each have their own fully connected layers (of <paramref name="HiddenSizes"/>)
/// over the shared convolutions, if any, as Stable-Baselines3's default MLP policy; false: one trunk feeds both heads.
/// Separate layers stop the value loss from moving the policy's features (measured: PPO on CartPole collapsing after a
/// value-loss spike); shared ones cost half the weights.
/// </param>
/// <param name="StateDependentNoise">
/// True: a Gaussian policy explores with generalised state-dependent exploration (gSDE, Raffin et al. 2021, as
/// Stable-Baselines3's <c>use_sde</c> with <c>full_std</c>): the noise is the policy's last hidden layer times an exploration
/// matrix drawn from N(0, exp(log_std)^2), with a learned log std per (feature, action), so the log-std parameter is
/// [hidden, actions] instead of [actions]. Smooth, state-dependent exploration is what lets PPO solve
/// MountainCarContinuous and Pendulum at the zoo's budgets. Only for Box actions.
/// </param>
/// <param name="SdeSampleFrequency">
/// With <paramref name="StateDependentNoise"/>: a worker draws a new exploration matrix every this many steps, and at the
/// start of every rollout; -1 draws one per rollout only (Stable-Baselines3's <c>sde_sample_freq</c>).
/// </param>
public sealed record NetworkSpec(
    int ObservationSize,
    IReadOnlyList<int> HiddenSizes,
    int ActionSize,
    bool Continuous,
    double InitialLogStd = 0.0,
    BodyKind Body = BodyKind.FullyConnected,
    IReadOnlyList<int>? ObservationShape = null,
    bool SeparateNetworks = false,
    bool StateDependentNoise = false,
    int SdeSampleFrequency = -1)
{
    /// <summary>Width of the policy head's output: logits or means.</summary>
    public int PolicyOutputs => ActionSize;

    /// <summary>Floats one action occupies in a rollout: 1 for a discrete index, d for a Box.</summary>
    public int ActionWidth => Continuous ? ActionSize : 1;

    /// <summary>Derives the spec from an environment's spaces.</summary>
    /// <exception cref="ArgumentException">The spaces do not fit the body (e.g. a convolution over a flat vector).</exception>
    /// <exception cref="ArgumentException">State-dependent noise is asked for with an action space that is not a Box.</exception>
    public static NetworkSpec For(Space observationSpace, Space actionSpace, IReadOnlyList<int> hiddenSizes, double initialLogStd = 0.0, BodyKind body = BodyKind.FullyConnected, bool separateNetworks = false,
        bool stateDependentNoise = false, int sdeSampleFrequency = -1)
    {
        ArgumentNullException.ThrowIfNull(observationSpace);
        ArgumentNullException.ThrowIfNull(actionSpace);
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        if (observationSpace is not Box box)
            throw new ArgumentException($"Observation space must be a Box; got {observationSpace}.", nameof(observationSpace));
        IReadOnlyList<int>? shape = null;
        if (body != BodyKind.FullyConnected)
        {
            if (box.Shape.Count == 3) shape = box.Shape.ToArray();
            else if (box.Shape.Count == 4) shape = [box.Shape[0] * box.Shape[1], box.Shape[2], box.Shape[3]]; // frame stack of [C, H, W]: stack x C channels
            else throw new ArgumentException($"A {body} body needs observations shaped [C, H, W] (or a stack [K, C, H, W]); got {box}.", nameof(observationSpace));
            int minimum = body == BodyKind.NatureConv ? 36 : 3;
            if (shape[1] < minimum || shape[2] < minimum)
                throw new ArgumentException($"A {body} body needs images of at least {minimum}x{minimum}; got {shape[1]}x{shape[2]}.", nameof(observationSpace));
        }
        return actionSpace switch
        {
            Discrete when stateDependentNoise =>
                throw new ArgumentException($"UseSde (state-dependent exploration) needs a Box action space; this environment's is {actionSpace}.", nameof(stateDependentNoise)),
            Discrete d => new NetworkSpec(box.FlatSize, hiddenSizes.ToArray(), d.N, false, initialLogStd, body, shape, separateNetworks),
            Box b => new NetworkSpec(box.FlatSize, hiddenSizes.ToArray(), b.FlatSize, true, initialLogStd, body, shape, separateNetworks, stateDependentNoise, sdeSampleFrequency),
            _ => throw new ArgumentException($"Unsupported action space {actionSpace}.", nameof(actionSpace)),
        };
    }

    /// <inheritdoc />
    public bool Equals(NetworkSpec? other) =>
        other is not null && ObservationSize == other.ObservationSize && ActionSize == other.ActionSize
        && Continuous == other.Continuous && InitialLogStd.Equals(other.InitialLogStd) && HiddenSizes.SequenceEqual(other.HiddenSizes)
        && Body == other.Body && SeparateNetworks == other.SeparateNetworks
        && StateDependentNoise == other.StateDependentNoise && SdeSampleFrequency == other.SdeSampleFrequency && (ObservationShape ?? []).SequenceEqual(other.ObservationShape ?? []);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(ObservationSize, ActionSize, Continuous, HiddenSizes.Count, Body);
}
