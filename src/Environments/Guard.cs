using System.Globalization;

namespace Advantage.Environments;

/// <summary>Argument checks shared by environments; they throw only on bad input and never allocate otherwise.</summary>
internal static class Guard
{
    /// <summary>Reads a discrete action (one float holding the index) and checks it against the space.</summary>
    public static int DiscreteAction(ReadOnlySpan<float> action, Discrete space)
    {
        if (action.Length != 1)
            throw new ArgumentException($"A {space} action is one float holding the index; got {action.Length} floats.", nameof(action));
        float a = action[0];
        // Compare as float first so NaN and huge values are rejected before the integer cast.
        if (!(a >= 0f && a < space.N) || a != MathF.Floor(a))
            throw new ArgumentOutOfRangeException(nameof(action), a,
                $"action {a.ToString(CultureInfo.InvariantCulture)} is outside {space}.");
        return (int)a;
    }

    /// <summary>Checks that a box action has the space's flat size.</summary>
    public static void BoxAction(ReadOnlySpan<float> action, Box space)
    {
        if (action.Length != space.FlatSize)
            throw new ArgumentException($"A {space} action has {space.FlatSize} floats; got {action.Length}.", nameof(action));
    }

    /// <summary>Checks an observation buffer's length.</summary>
    public static void Observation(Span<float> observation, Space space)
    {
        if (observation.Length != space.FlatSize)
            throw new ArgumentException($"The observation buffer must hold {space.FlatSize} floats; got {observation.Length}.", nameof(observation));
    }

    /// <summary>Checks a state span's length for <see cref="IStatefulEnvironment.SetState"/>.</summary>
    public static void State(ReadOnlySpan<double> state, int size)
    {
        if (state.Length != size)
            throw new ArgumentException($"The state must hold {size} values; got {state.Length}.", nameof(state));
    }

    /// <summary>Rejects a step before the first reset, as Gymnasium's order-enforcing wrapper does.</summary>
    public static void Started(bool started, string environment)
    {
        if (!started)
            throw new InvalidOperationException($"{environment}: call Reset (or SetState) before Step.");
    }
}
