using Advantage.Environments;

namespace Advantage.Learning.Networks;

/// <summary>
/// The sizes that determine a network's parameter layout. Workers and the learner build their copies
/// from the same spec, so parameter vectors line up without exchanging module objects.
/// </summary>
/// <param name="ObservationSize">Flat observation length.</param>
/// <param name="HiddenSizes">Widths of the fully connected body.</param>
/// <param name="ActionSize">Discrete: number of actions; Box: action dimensions.</param>
/// <param name="Continuous">True for a Gaussian head over a Box, false for a categorical head.</param>
/// <param name="InitialLogStd">Initial log standard deviation of a Gaussian head.</param>
public sealed record NetworkSpec(int ObservationSize, IReadOnlyList<int> HiddenSizes, int ActionSize, bool Continuous, double InitialLogStd = 0.0)
{
    /// <summary>Width of the policy head's output: logits or means.</summary>
    public int PolicyOutputs => ActionSize;

    /// <summary>Floats one action occupies in a rollout: 1 for a discrete index, d for a Box.</summary>
    public int ActionWidth => Continuous ? ActionSize : 1;

    /// <summary>Derives the spec from an environment's spaces.</summary>
    public static NetworkSpec For(Space observationSpace, Space actionSpace, IReadOnlyList<int> hiddenSizes, double initialLogStd = 0.0)
    {
        ArgumentNullException.ThrowIfNull(observationSpace);
        ArgumentNullException.ThrowIfNull(actionSpace);
        if (observationSpace is not Box)
            throw new ArgumentException($"Observation space must be a Box; got {observationSpace}.", nameof(observationSpace));
        return actionSpace switch
        {
            Discrete d => new NetworkSpec(observationSpace.FlatSize, hiddenSizes.ToArray(), d.N, false, initialLogStd),
            Box b => new NetworkSpec(observationSpace.FlatSize, hiddenSizes.ToArray(), b.FlatSize, true, initialLogStd),
            _ => throw new ArgumentException($"Unsupported action space {actionSpace}.", nameof(actionSpace)),
        };
    }

    /// <inheritdoc />
    public bool Equals(NetworkSpec? other) =>
        other is not null && ObservationSize == other.ObservationSize && ActionSize == other.ActionSize
        && Continuous == other.Continuous && InitialLogStd.Equals(other.InitialLogStd) && HiddenSizes.SequenceEqual(other.HiddenSizes);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(ObservationSize, ActionSize, Continuous, HiddenSizes.Count);
}
