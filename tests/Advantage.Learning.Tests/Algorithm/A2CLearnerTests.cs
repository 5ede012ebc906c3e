using Advantage.Learning.Networks;
using TorchSharp;

namespace Advantage.Learning.Tests.Algorithm;

public class A2CLearnerTests
{
    private static readonly NetworkSpec Spec = new(4, [16], 2, false);

    private static Rollout MakeRollout(int workerId, int steps, int envs, Func<int, float> reward, Func<int, int> action)
    {
        var observations = new float[(steps + 1) * envs * 4];
        for (int t = 0; t <= steps; t++)
            for (int k = 0; k < envs; k++)
                for (int d = 0; d < 4; d++)
                    observations[(t * envs + k) * 4 + d] = (float)Math.Sin(t + 3 * k + d);
        var rewards = Enumerable.Range(0, steps * envs).Select(reward).ToArray();
        var actions = Enumerable.Range(0, steps * envs).Select(i => (float)action(i)).ToArray();
        return new Rollout(workerId, 0, steps, envs, 4, 1, observations, actions, rewards, new bool[steps * envs], new bool[steps * envs], [], [], [], []);
    }

    [Fact]
    public void An_update_reports_finite_metrics_and_changes_the_parameters()
    {
        using var learner = new A2CLearner(new A2COptions { Seed = 2, HiddenSizes = [16] }, Spec);
        var before = learner.Parameters.Read();
        var metrics = learner.Update([MakeRollout(0, 5, 3, _ => 1f, i => i % 2), MakeRollout(1, 5, 2, _ => 0f, _ => 1)]);
        Assert.Equal(25, metrics.BatchSize);
        Assert.True(double.IsFinite(metrics.PolicyLoss));
        Assert.True(metrics.ValueLoss > 0);
        Assert.InRange(metrics.Entropy, 0.69, Math.Log(2) + 1e-6); // near-uniform initial policy (head gain 0.01)
        Assert.True(metrics.GradNorm > 0);
        Assert.NotEqual(before, learner.Parameters.Read());
    }

    [Fact]
    public void Rewarding_one_action_makes_the_policy_prefer_it()
    {
        using var learner = new A2CLearner(new A2COptions { Seed = 2, HiddenSizes = [16], LearningRate = 1e-2, NormalizeAdvantages = true }, Spec);
        // Action 1 earns 1, action 0 earns 0: advantages favour action 1 everywhere.
        for (int i = 0; i < 60; i++)
            learner.Update([MakeRollout(0, 5, 4, j => j % 2, j => j % 2)]);
        using var obs = torch.tensor(new float[] { 0.1f, -0.2f, 0.3f, 0.0f }, [1, 4]);
        using var logits = learner.Network.forward(obs);
        var l = logits.data<float>().ToArray();
        Assert.True(l[1] > l[0] + 1.0, $"logits {l[0]}, {l[1]}");
    }

    [Fact]
    public void Same_seed_same_updates()
    {
        float[] Run()
        {
            using var learner = new A2CLearner(new A2COptions { Seed = 5, HiddenSizes = [16] }, Spec);
            for (int i = 0; i < 3; i++) learner.Update([MakeRollout(0, 5, 2, j => j % 3, j => j % 2)]);
            return learner.Parameters.Read();
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void A_malformed_rollout_is_refused_before_any_parameter_changes()
    {
        using var learner = new A2CLearner(new A2COptions { HiddenSizes = [16] }, Spec);
        var before = learner.Parameters.Read();
        var good = MakeRollout(0, 5, 2, _ => 1f, _ => 0);
        var bad = good with { Rewards = [.. good.Rewards.Take(9), float.PositiveInfinity] };
        var error = Assert.Throws<ArgumentException>(() => learner.Update([good, bad]));
        Assert.Contains("non-finite", error.Message);
        Assert.Equal(before, learner.Parameters.Read());
    }

    [Fact]
    public void Truncated_steps_bootstrap_from_their_final_observation_in_the_batch()
    {
        // Two learners see the same data except the final observation of a truncated step; their
        // value targets differ, so the updates must differ. A terminated step ignores it entirely.
        var rollout = MakeRollout(0, 2, 1, _ => 1f, _ => 0);
        var truncated = rollout with { Truncated = [true, false], FinalObservationIndices = [0], FinalObservations = [1f, 1f, 1f, 1f] };
        var otherFinal = truncated with { FinalObservations = [-3f, 2f, 0.5f, -1f] };
        float[] After(Rollout r)
        {
            using var learner = new A2CLearner(new A2COptions { Seed = 4, HiddenSizes = [16] }, Spec);
            learner.Update([r]);
            return learner.Parameters.Read();
        }
        Assert.NotEqual(After(truncated), After(otherFinal));
    }

    [Fact]
    public void Gaussian_heads_train_too()
    {
        var spec = new NetworkSpec(4, [16], 2, true, InitialLogStd: -0.5);
        using var learner = new A2CLearner(new A2COptions { HiddenSizes = [16], Optimizer = OptimizerKind.Adam, EntropyCoefficient = 0.01 }, spec);
        var r = MakeRollout(0, 5, 2, _ => 1f, _ => 0);
        r = r with { ActionWidth = 2, Actions = Enumerable.Range(0, 20).Select(i => (float)Math.Cos(i)).ToArray() };
        var metrics = learner.Update([r]);
        // Entropy of a diagonal Gaussian: sum over dims of 0.5 + 0.5 ln(2 pi) + log std.
        Assert.Equal(2 * (0.5 + 0.5 * Math.Log(2 * Math.PI) - 0.5), metrics.Entropy, 4);
        Assert.True(double.IsFinite(metrics.PolicyLoss));
    }
}
