using Advantage.Environments;
using Advantage.Learning.Networks;
using TorchSharp;

namespace Advantage.Learning.Tests.Algorithm;

public class PpoLearnerTests
{
    private static readonly NetworkSpec Spec = new(4, [16], 2, false);

    private static PpoOptions Options => new PpoOptions { Seed = 3, HiddenSizes = [16], Epochs = 4, Minibatches = 3, LearningRate = 1e-2 };

    /// <summary>Observations far from zero mean and unit variance, so normalisation changes them a lot.</summary>
    private static Rollout MakeRollout(int workerId, long version, int steps, int envs, Func<int, float> reward, Func<int, int> action)
    {
        var observations = new float[(steps + 1) * envs * 4];
        for (int i = 0; i < observations.Length; i++) observations[i] = 5f + 3f * (float)Math.Sin(i + 11 * version);
        var rewards = Enumerable.Range(0, steps * envs).Select(reward).ToArray();
        var actions = Enumerable.Range(0, steps * envs).Select(i => (float)action(i)).ToArray();
        return new Rollout(workerId, version, steps, envs, 4, 1, observations, actions, rewards, new bool[steps * envs], new bool[steps * envs], [], [], [], []);
    }

    [Theory]
    [InlineData(false, 3)]
    [InlineData(true, 3)]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    public void The_first_step_sees_a_ratio_of_exactly_one_in_every_round(bool normalizeObservations, int minibatches)
    {
        using var learner = new PpoLearner(Options with { NormalizeObservations = normalizeObservations, Minibatches = minibatches }, Spec);
        for (int round = 0; round < 4; round++)
        {
            // The statistics move with every batch; the losses must still use the snapshot the workers acted with.
            var metrics = learner.Update([MakeRollout(0, round, 8, 3, i => i % 3, i => i % 2), MakeRollout(1, round, 8, 2, _ => 1f, _ => 1)]);
            Assert.Equal(0.0, metrics.Extra["initial_ratio_error"]);
            Assert.Equal(40, metrics.BatchSize);
            Assert.Equal(4, metrics.Extra["epochs"]);
            Assert.True(metrics.Extra["approx_kl"] >= 0, $"approx_kl {metrics.Extra["approx_kl"]}");
            Assert.InRange(metrics.Extra["clip_fraction"], 0, 1);
            Assert.True(double.IsFinite(metrics.PolicyLoss) && metrics.ValueLoss > 0 && metrics.GradNorm > 0);
        }
    }

    [Fact]
    public void The_losses_use_the_observations_as_the_workers_normalised_them()
    {
        // One epoch, one minibatch: the reported value loss is the one before the step, so it can be recomputed from
        // outside with the parameters and statistics the workers were sent before the round.
        var options = Options with { NormalizeObservations = true, Epochs = 1, Minibatches = 1 };
        using var learner = new PpoLearner(options, Spec);
        for (int round = 0; round < 2; round++) learner.Update([MakeRollout(0, round, 6, 3, i => i % 3, i => i % 2)]);
        var sentParameters = learner.Parameters.Read();
        var sentStatistics = learner.ObservationStatistics!;
        var rollout = MakeRollout(0, 2, 6, 3, i => i % 3, i => i % 2);

        var observations = (float[])rollout.Observations.Clone();
        new ObservationNormalizer(sentStatistics).Normalize(observations);
        using var network = ActorCriticNetwork.CreateSeeded(Spec, 99);
        new ParameterVector(network).Write(sentParameters);
        float[] values;
        using (var obs = torch.tensor(observations, [7 * 3, 4]))
        using (var v = network.Value(network.Features(obs)))
            values = v.data<float>().ToArray();
        var advantages = new float[18];
        var returns = new float[18];
        Learning.Returns.Gae(rollout.Rewards, values.AsSpan(0, 18), values.AsSpan(18, 3), rollout.Terminated, rollout.Truncated, new float[18], 6, 3,
            options.Gamma, options.GaeLambda, advantages, returns);
        double expected = returns.Select((r, i) => (double)(r - values[i]) * (r - values[i])).Average();

        var metrics = learner.Update([rollout]);
        Assert.Equal(expected, metrics.ValueLoss, 1e-5 * Math.Max(1, expected));
        Assert.Equal(0.0, metrics.Extra["initial_ratio_error"]);
        // The batch still teaches the statistics, for the next parameters.
        Assert.NotEqual(sentStatistics.Count, learner.ObservationStatistics!.Count);
    }

    [Fact]
    public void One_minibatch_trains_the_whole_batch_every_epoch_and_reproduces()
    {
        float[] Run(int seed)
        {
            using var learner = new PpoLearner(Options with { Seed = seed, Minibatches = 1, Epochs = 5, EntropyCoefficient = 0 }, Spec);
            UpdateMetrics? last = null;
            for (int i = 0; i < 3; i++) last = learner.Update([MakeRollout(0, i, 6, 2, j => j % 3, j => j % 2)]);
            // Without an entropy bonus the entropy is still reported (the collecting policy's): near ln 2 for two actions.
            Assert.InRange(last!.Entropy, 0.3, Math.Log(2) + 1e-6);
            Assert.Equal(5, last.Extra["epochs"]);
            Assert.True(last.Extra["approx_kl"] > 0, $"approx_kl {last.Extra["approx_kl"]}");
            return learner.Parameters.Read();
        }
        Assert.Equal(Run(5), Run(5));
    }

    [Fact]
    public void Later_epochs_move_the_ratio_and_a_target_kl_stops_them()
    {
        using var free = new PpoLearner(Options with { Epochs = 10 }, Spec);
        var unlimited = free.Update([MakeRollout(0, 0, 16, 4, i => i % 2, i => i % 2)]);
        Assert.Equal(10, unlimited.Extra["epochs"]);
        Assert.True(unlimited.Extra["approx_kl"] > 0);

        using var limited = new PpoLearner(Options with { Epochs = 10, TargetKl = 1e-6 }, Spec);
        var stopped = limited.Update([MakeRollout(0, 0, 16, 4, i => i % 2, i => i % 2)]);
        Assert.True(stopped.Extra["epochs"] < 10, $"epochs {stopped.Extra["epochs"]}");
    }

    [Fact]
    public void Rewarding_one_action_makes_the_policy_prefer_it()
    {
        using var learner = new PpoLearner(Options with { ClipRangeValue = 10 }, Spec);
        for (int i = 0; i < 20; i++) learner.Update([MakeRollout(0, i, 5, 4, j => j % 2, j => j % 2)]);
        using var obs = torch.tensor(new float[] { 5f, 6f, 4f, 5f }, [1, 4]);
        using var logits = learner.Network.forward(obs);
        var l = logits.data<float>().ToArray();
        Assert.True(l[1] > l[0] + 1.0, $"logits {l[0]}, {l[1]}");
    }

    [Fact]
    public void Same_seed_same_updates_and_the_shuffle_follows_the_round()
    {
        float[] Run(int seed, long firstVersion)
        {
            using var learner = new PpoLearner(Options with { Seed = seed }, Spec);
            for (int i = 0; i < 3; i++) learner.Update([MakeRollout(0, firstVersion + i, 6, 2, j => j % 3, j => j % 2) with { Version = firstVersion + i }]);
            return learner.Parameters.Read();
        }
        Assert.Equal(Run(5, 0), Run(5, 0));
        // Same data, other minibatches: the shuffle derives from the seed and the batch's version.
        var a = Run(5, 0);
        using var other = new PpoLearner(Options with { Seed = 5 }, Spec);
        for (int i = 0; i < 3; i++) other.Update([MakeRollout(0, i, 6, 2, j => j % 3, j => j % 2) with { Version = 100 + i }]);
        Assert.NotEqual(a, other.Parameters.Read());
    }

    [Fact]
    public void A_checkpoint_continues_exactly_and_names_its_algorithm()
    {
        var options = Options with { NormalizeObservations = true, TargetKl = 0.5, ClipRangeValue = 1 };
        using var continuous = new PpoLearner(options, Spec);
        for (int round = 0; round < 3; round++) continuous.Update([MakeRollout(0, round, 5, 3, i => (i + round) % 3, i => (i + round) % 2)]);
        string path = Path.Combine(Path.GetTempPath(), "advantage-ppo-" + Guid.NewGuid().ToString("N"), "state.ckpt");
        try
        {
            new Checkpoint(Spec, continuous.Parameters.Read(), new Dictionary<string, string>())
                .WithOptimizerState(continuous.SaveOptimizerState())
                .WithProgress(new CheckpointProgress(3, 45, 0, []))
                .WithOptions(options)
                .WithObservationStatistics(continuous.ObservationStatistics)
                .Save(path);
            for (int round = 3; round < 6; round++) continuous.Update([MakeRollout(0, round, 5, 3, i => (i + round) % 3, i => (i + round) % 2)]);

            var loaded = Checkpoint.Load(path);
            Assert.Equal("ppo", loaded.Algorithm);
            Assert.Equal(options, Assert.IsType<PpoOptions>(loaded.Options) with { HiddenSizes = options.HiddenSizes });
            using var resumed = Learners.Create(loaded.Options!, Spec);
            Assert.IsType<PpoLearner>(resumed);
            LearnerState.Restore(resumed, loaded);
            for (int round = 3; round < 6; round++) resumed.Update([MakeRollout(0, round, 5, 3, i => (i + round) % 3, i => (i + round) % 2)]);
            Assert.Equal(continuous.Parameters.Read(), resumed.Parameters.Read());

            // Another algorithm's learner refuses it: its optimizer state and options mean something else there.
            using var a2c = Learners.Create(new A2COptions { HiddenSizes = [16], Optimizer = OptimizerKind.Adam }, Spec);
            var refused = Assert.Throws<ArgumentException>(() => LearnerState.Restore(a2c, loaded));
            Assert.Contains("trained with ppo, this run trains a2c", refused.Message);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void Options_are_validated_and_presets_follow_the_zoo()
    {
        var bad = new PpoOptions { ClipRange = 0, Epochs = 0, Minibatches = 1000, TargetKl = -1, ClipRangeValue = double.NaN, Workers = 1, EnvironmentsPerWorker = 2, RolloutLength = 4 };
        var problems = bad.Problems();
        foreach (string field in new[] { "ClipRange", "Epochs", "TargetKl", "ClipRangeValue", "Minibatches" })
            Assert.Contains(problems, p => p.StartsWith(field, StringComparison.Ordinal));
        var error = Assert.Throws<OptionsValidationException>(() => bad.Validate());
        Assert.Equal(nameof(PpoOptions), error.OptionsType);

        var cartPole = PpoPresets.For("CartPole-v1");
        Assert.Equal(256, cartPole.Workers * cartPole.EnvironmentsPerWorker * cartPole.RolloutLength / cartPole.Minibatches);
        Assert.Equal(8, cartPole.Workers * cartPole.EnvironmentsPerWorker);
        Assert.Equal((32, 20, 0.8, 0.98, 1e-3, 0.2, OptimizerKind.Adam, AdvantageEstimator.Gae),
            (cartPole.RolloutLength, cartPole.Epochs, cartPole.GaeLambda, cartPole.Gamma, cartPole.LearningRate, cartPole.ClipRange, cartPole.Optimizer, cartPole.Estimator));
        Assert.Equal((ScheduleKind.Linear, ScheduleKind.Linear), (cartPole.LearningRateSchedule, cartPole.ClipRangeSchedule));
        Assert.Empty(cartPole.Problems());
        Assert.Equal("ppo", Learners.Preset("ppo", "Acrobot-v1").Algorithm);
        Assert.IsType<A2COptions>(Learners.Preset("a2c", "CartPole-v1"));
    }

    [Fact]
    public void Extra_metrics_compare_by_content()
    {
        var a = new UpdateMetrics(1, 2, 3, 4, 5, 6) { Extra = new Dictionary<string, double> { ["approx_kl"] = 0.01 } };
        var b = new UpdateMetrics(1, 2, 3, 4, 5, 6).WithExtra(new Dictionary<string, double> { ["approx_kl"] = 0.01 });
        Assert.Equal(a, b);
        Assert.NotEqual(a, b.WithExtra(new Dictionary<string, double> { ["approx_kl"] = 0.02 }));
        Assert.NotEqual(a, new UpdateMetrics(1, 2, 3, 4, 5, 6));
    }
}
