using Advantage.Environments;

namespace Advantage.TestEnvironments;

/// <summary>
/// A corridor of <see cref="Length"/> cells: action 1 steps right, 0 steps left; reaching the end terminates with reward 1.
/// Small and quick, so process tests train it in seconds; it exists only where an assembly of its own is the point.
/// </summary>
public sealed class Corridor : IEnvironment
{
    /// <summary>Cells from the start to the goal.</summary>
    public const int Length = 5;

    private int position;

    /// <inheritdoc />
    public Space ObservationSpace { get; } = Box.Uniform([1], 0f, 1f);

    /// <inheritdoc />
    public Space ActionSpace { get; } = new Discrete(2);

    /// <inheritdoc />
    public void Reset(int? seed, Span<float> observation)
    {
        position = 0;
        observation[0] = 0f;
    }

    /// <inheritdoc />
    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        position = Math.Max(0, position + (action[0] >= 0.5f ? 1 : -1));
        observation[0] = (float)position / Length;
        return position >= Length ? StepResult.Terminal(1.0) : StepResult.Continuing(0.0);
    }
}

/// <summary>Registers <c>Corridor-v0</c> (50-step limit): what <c>--environments</c> finds in this assembly.</summary>
public sealed class TestEnvironmentsRegistration : IEnvironmentRegistration
{
    /// <summary>The id this assembly adds.</summary>
    public const string CorridorId = "Corridor-v0";

    /// <inheritdoc />
    public EnvironmentRegistry Register(EnvironmentRegistry registry) => registry.Register(CorridorId, () => new TimeLimit(new Corridor(), 50));
}
