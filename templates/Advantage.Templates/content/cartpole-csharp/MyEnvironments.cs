using Advantage.Environments;

namespace CartPoleApp;

/// <summary>
/// Your own environment: a corridor of 10 cells, action 1 steps right and 0 left, reward 1 at the end. Replace it with
/// your simulation (the contract is Gymnasium's: Reset writes the first observation, Step the next one).
/// </summary>
public sealed class Corridor : IEnvironment
{
    private const int Length = 10;
    private int position;

    public Space ObservationSpace { get; } = Box.Uniform([1], 0f, 1f);

    public Space ActionSpace { get; } = new Discrete(2);

    public void Reset(int? seed, Span<float> observation)
    {
        position = 0;
        observation[0] = 0f;
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        position = Math.Max(0, position + (action[0] >= 0.5f ? 1 : -1));
        observation[0] = (float)position / Length;
        return position >= Length ? StepResult.Terminal(1.0) : StepResult.Continuing(0.0);
    }
}

/// <summary>
/// Registers this app's environments. This program uses it directly; the command line and cluster nodes find it in the
/// built assembly, so the same environment trains anywhere:
///   advantage-train --environments bin/Release/net10.0/CartPoleApp.dll --env Corridor-v0
///   advantage-train local-cluster --environments bin/Release/net10.0/CartPoleApp.dll --env Corridor-v0
///   advantage-train worker --join HOST:PORT --environments bin/Release/net10.0/CartPoleApp.dll
/// </summary>
public sealed class MyEnvironments : IEnvironmentRegistration
{
    public EnvironmentRegistry Register(EnvironmentRegistry registry) =>
        registry.Register("Corridor-v0", () => new TimeLimit(new Corridor(), 100));
}
