using Advantage.Environments;
using Advantage.Learning.Networks;

namespace Advantage.Learning.Tests.Algorithm;

public class ResumeStateTests
{
    private static readonly NetworkSpec Spec = new(4, [16], 2, false);

    private static Rollout MakeRollout(int round)
    {
        const int steps = 5, envs = 3;
        var observations = new float[(steps + 1) * envs * 4];
        for (int i = 0; i < observations.Length; i++) observations[i] = (float)Math.Sin(i + 7 * round);
        var rewards = Enumerable.Range(0, steps * envs).Select(i => (float)((i + round) % 3)).ToArray();
        var actions = Enumerable.Range(0, steps * envs).Select(i => (float)((i + round) % 2)).ToArray();
        return new Rollout(0, round, steps, envs, 4, 1, observations, actions, rewards, new bool[steps * envs], new bool[steps * envs], [], [], [], []);
    }

    private static string TempFile() => Path.Combine(Path.GetTempPath(), "advantage-resume-" + Guid.NewGuid().ToString("N"), "state.ckpt");

    [Theory]
    [InlineData(OptimizerKind.RmsProp)]
    [InlineData(OptimizerKind.Adam)]
    public void Weights_and_optimizer_state_from_a_checkpoint_continue_exactly_like_the_uninterrupted_learner(OptimizerKind kind)
    {
        var options = new A2COptions { Seed = 4, HiddenSizes = [16], Optimizer = kind, LearningRate = 1e-2 };
        using var continuous = new A2CLearner(options, Spec);
        for (int round = 0; round < 3; round++) continuous.Update([MakeRollout(round)]);
        string path = TempFile();
        try
        {
            new Checkpoint(Spec, continuous.Parameters.Read(), new Dictionary<string, string>())
                .WithOptimizerState(continuous.SaveOptimizerState())
                .WithProgress(new CheckpointProgress(3, 45, 2, [1.5, 2.5]))
                .WithOptions(options)
                .WithEnvironmentId("CartPole-v1")
                .WithObservationStatistics(new NormalizerState([0.5, 1, 2, 3], [1, 2, 3, 4.25], 17))
                .Save(path);
            for (int round = 3; round < 6; round++) continuous.Update([MakeRollout(round)]);

            var loaded = Checkpoint.Load(path);
            Assert.True(loaded.CanResume);
            Assert.Equal(options, loaded.Options! with { HiddenSizes = options.HiddenSizes });
            Assert.Equal([16], loaded.Options!.HiddenSizes);
            Assert.Equal(new CheckpointProgress(3, 45, 2, loaded.Progress!.RecentReturns), loaded.Progress);
            Assert.Equal([1.5, 2.5], loaded.Progress.RecentReturns);
            Assert.Equal(new NormalizerState([0.5, 1, 2, 3], [1, 2, 3, 4.25], 17), loaded.ObservationStatistics);
            Assert.Equal("CartPole-v1", loaded.EnvironmentId);

            using var resumed = new A2CLearner(options with { Seed = 99 }, Spec);
            LearnerState.Restore(resumed, loaded);
            for (int round = 3; round < 6; round++) resumed.Update([MakeRollout(round)]);
            Assert.Equal(continuous.Parameters.Read(), resumed.Parameters.Read());

            // Weights alone are not enough: a fresh optimizer takes different steps.
            using var weightsOnly = new A2CLearner(options, Spec);
            LearnerState.Restore(weightsOnly, loaded.WithOptimizerState(null));
            for (int round = 3; round < 6; round++) weightsOnly.Update([MakeRollout(round)]);
            Assert.NotEqual(continuous.Parameters.Read(), weightsOnly.Parameters.Read());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void A_flipped_byte_anywhere_is_refused_by_the_checksum_and_a_foreign_network_by_restore()
    {
        string path = TempFile();
        try
        {
            using var learner = new A2CLearner(new A2COptions { HiddenSizes = [16] }, Spec);
            new Checkpoint(Spec, learner.Parameters.Read(), new Dictionary<string, string>())
                .WithOptimizerState(learner.SaveOptimizerState()).Save(path);
            byte[] good = File.ReadAllBytes(path);
            foreach (int at in new[] { 20, good.Length / 2, good.Length - 10 })
            {
                byte[] bad = (byte[])good.Clone();
                bad[at] ^= 0x10;
                File.WriteAllBytes(path, bad);
                var error = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
                Assert.Contains("checksum", error.Message);
            }

            var other = new Checkpoint(new NetworkSpec(4, [8], 2, false), new float[4 * 8 + 8 + 16 + 2 + 8 + 1], new Dictionary<string, string>());
            var mismatch = Assert.Throws<ArgumentException>(() => LearnerState.Restore(learner, other));
            Assert.Contains("differs from this run's", mismatch.Message);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void A_convolutional_spec_and_its_shape_survive_the_round_trip()
    {
        string path = TempFile();
        try
        {
            var spec = new NetworkSpec(4 * 10 * 10, [], 3, false, 0.0, BodyKind.MinAtarConv, [4, 10, 10]);
            new Checkpoint(spec, [1f, 2f], new Dictionary<string, string>()).Save(path);
            var loaded = Checkpoint.Load(path);
            Assert.Equal(spec, loaded.Spec);
            Assert.Equal(BodyKind.MinAtarConv, loaded.Spec.Body);
            Assert.Equal([4, 10, 10], loaded.Spec.ObservationShape!);
            Assert.False(loaded.CanResume);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void Deterministic_evaluation_repeats_exactly_and_reports_mean_and_std()
    {
        var registry = EnvironmentRegistry.Builtin;
        var spec = new NetworkSpec(4, [8], 2, false);
        var parameters = new float[4 * 8 + 8 + 8 * 2 + 2 + 8 + 1];
        // All-zero weights: equal logits, argmax picks action 0 every step, so the cart falls quickly.
        var first = Evaluation.Run(spec, parameters, () => registry.Make("CartPole-v1"), 4, seed: 10);
        var second = Evaluation.Run(spec, parameters, () => registry.Make("CartPole-v1"), 4, seed: 10);
        Assert.Equal(first.Returns, second.Returns);
        Assert.Equal(4, first.Returns.Count);
        Assert.All(first.Returns, r => Assert.InRange(r, 5, 20));
        Assert.Equal(first.Returns.Average(), first.MeanReturn, 12);
        double mean = first.MeanReturn;
        Assert.Equal(Math.Sqrt(first.Returns.Sum(r => (r - mean) * (r - mean)) / 4), first.StdReturn, 12);
        Assert.Equal(first.Returns.Select(r => (int)r), first.Lengths);
    }
}
