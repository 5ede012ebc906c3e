using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;

namespace Advantage.Actors.Tests;

/// <summary>Small, valid building blocks for actor tests.</summary>
internal static class Fixtures
{
    public const int Steps = 3;
    public const int ObservationSize = 4;

    public static readonly NetworkSpec Spec = new(ObservationSize, [8], 2, Continuous: false);

    public static A2COptions Options => new A2COptions().WithRolloutLength(Steps).WithHiddenSizes([8]).WithSeed(7).WithWorkers(1);

    public static TrainingOptions Training => new TrainingOptions().WithAlgorithm(Options).WithMaxSteps(1_000_000);

    public static Rollout Rollout(int workerId, long version, int environments = 2, float reward = 1f)
    {
        int tk = Steps * environments;
        var observations = new float[(Steps + 1) * environments * ObservationSize];
        for (int i = 0; i < observations.Length; i++) observations[i] = (i % 7) * 0.1f - 0.3f;
        var actions = new float[tk];
        for (int i = 0; i < tk; i++) actions[i] = i % 2;
        var rewards = Enumerable.Repeat(reward, tk).ToArray();
        var terminated = new bool[tk];
        terminated[environments] = true; // step 1, env 0 ends
        return new Rollout(workerId, version, Steps, environments, ObservationSize, 1, observations, actions, rewards,
            terminated, new bool[tk], [], [], [2.0], [2]);
    }
}

/// <summary>An environment that throws on a chosen step, to exercise supervision.</summary>
internal sealed class FaultyEnvironment(int failAtStep) : IEnvironment
{
    private int steps;

    public Space ObservationSpace { get; } = Box.Uniform([4], -1f, 1f);

    public Space ActionSpace { get; } = new Discrete(2);

    public void Reset(int? seed, Span<float> observation) => observation.Fill(0.1f);

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (++steps == failAtStep) throw new InvalidOperationException("boom: the environment failed");
        observation.Fill(0.2f);
        return new StepResult(1.0, steps % 4 == 0, false);
    }
}
