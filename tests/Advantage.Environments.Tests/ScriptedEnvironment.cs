namespace Advantage.Environments.Tests;

/// <summary>
/// A deterministic test double: observation = [start, stepInEpisode], reward = stepInEpisode, episodes
/// terminate after <c>episodeLength</c> steps. <c>start</c> is seed-derived at Reset(seed) and counts up
/// on every unseeded reset, so tests can tell episodes and seeds apart.
/// </summary>
internal sealed class ScriptedEnvironment(int episodeLength, int observationSize = 2) : IEnvironment
{
    private int start;
    private int step;

    public Space ObservationSpace { get; } = Box.Uniform([observationSize], -1e6f, 1e6f);

    public Space ActionSpace { get; } = new Discrete(2);

    public int Resets { get; private set; }

    public float LastAction { get; private set; }

    public void Reset(int? seed, Span<float> observation)
    {
        start = seed is int s ? 1000 * s : start + 1;
        step = 0;
        Resets++;
        Write(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        LastAction = action[0];
        step++;
        Write(observation);
        return new StepResult(step, step >= episodeLength, false);
    }

    private void Write(Span<float> observation)
    {
        observation.Clear();
        observation[0] = start;
        observation[1] = step;
    }
}
