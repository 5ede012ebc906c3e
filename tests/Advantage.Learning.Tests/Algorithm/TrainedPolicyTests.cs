using Advantage.Environments;
using Advantage.Learning.Networks;

namespace Advantage.Learning.Tests.Algorithm;

public class TrainedPolicyTests
{
    /// <summary>Parameters drawn wide (not the near-uniform initial policy), so actions depend clearly on the observation.</summary>
    private static float[] RandomParameters(NetworkSpec spec, int seed, double scale = 0.5)
    {
        using var network = new ActorCriticNetwork(spec);
        int count = new ParameterVector(network).Count;
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        return values;
    }

    private static float[][] Observations(int count, int size, int seed, double scale = 3)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, size).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray()).ToArray();
    }

    private static NormalizerState Statistics(int size) =>
        new(Enumerable.Range(0, size).Select(i => 0.5 * i - 1).ToArray(), Enumerable.Range(0, size).Select(i => 0.1 + i).ToArray(), 1000);

    private static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "advantage-policy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    [Fact]
    public void Deterministic_actions_are_the_workers_policy_on_normalised_observations()
    {
        var spec = new NetworkSpec(4, [16, 16], 3, false);
        var parameters = RandomParameters(spec, 1);
        var statistics = Statistics(4);
        using var policy = TrainedPolicy.FromCheckpoint(new Checkpoint(spec, parameters, new Dictionary<string, string>()) { ObservationStatistics = statistics });
        using var worker = new Policy(spec, 1, seed: 0);
        worker.Load(parameters);
        var normalizer = new ObservationNormalizer(statistics);
        var input = new float[4];
        var action = new float[1];
        int differsRaw = 0;
        using var raw = TrainedPolicy.FromCheckpoint(new Checkpoint(spec, parameters, new Dictionary<string, string>()));
        foreach (var observation in Observations(200, 4, 2))
        {
            normalizer.Normalize(observation, input);
            worker.Act(input, action, deterministic: true);
            Assert.Equal((int)action[0], policy.ActDiscrete(observation, deterministic: true));
            if (raw.ActDiscrete(observation, deterministic: true) != (int)action[0]) differsRaw++;
        }
        // The normaliser matters for these statistics: without it the same weights choose otherwise.
        Assert.True(differsRaw > 20, $"{differsRaw}");
    }

    [Fact]
    public void A_decision_carries_probabilities_and_value_and_a_batch_equals_single_calls()
    {
        var spec = new NetworkSpec(4, [16], 3, false);
        using var policy = TrainedPolicy.FromCheckpoint(new Checkpoint(spec, RandomParameters(spec, 3), new Dictionary<string, string>()));
        var observations = Observations(20, 4, 4);
        var batch = policy.DecideBatch(observations, deterministic: true);
        for (int i = 0; i < observations.Length; i++)
        {
            var single = policy.Decide(observations[i], deterministic: true);
            Assert.Equal(single.Action, batch[i].Action);
            Assert.Equal(single.Value, batch[i].Value, 1e-5f);
            Assert.Empty(single.Mean);
            Assert.Equal(1.0, single.Probabilities.Sum(p => (double)p), 1e-5);
            Assert.Equal(Array.IndexOf(single.Logits, single.Logits.Max()), single.ActionIndex);
            Assert.Equal(Array.IndexOf(single.Probabilities, single.Probabilities.Max()), single.ActionIndex);
        }
        Assert.Contains(batch, d => d.ActionIndex != batch[0].ActionIndex);
    }

    [Fact]
    public void Sampled_actions_are_reproducible_from_the_seed_and_follow_the_probabilities()
    {
        var spec = new NetworkSpec(4, [16], 3, false);
        var checkpoint = new Checkpoint(spec, RandomParameters(spec, 5, 0.2), new Dictionary<string, string>());
        using var a = TrainedPolicy.FromCheckpoint(checkpoint, seed: 7);
        using var b = TrainedPolicy.FromCheckpoint(checkpoint, seed: 7);
        var observation = Observations(1, 4, 6)[0];
        var first = Enumerable.Range(0, 2000).Select(_ => a.ActDiscrete(observation, deterministic: false)).ToArray();
        var second = Enumerable.Range(0, 2000).Select(_ => b.ActDiscrete(observation, deterministic: false)).ToArray();
        Assert.Equal(first, second);
        var probabilities = a.Decide(observation, deterministic: true).Probabilities;
        for (int action = 0; action < 3; action++)
            Assert.Equal(probabilities[action], first.Count(x => x == action) / 2000.0, 0.05);
        a.Reseed(7);
        Assert.Equal(first.Take(50), Enumerable.Range(0, 50).Select(_ => a.ActDiscrete(observation, deterministic: false)));
        var rows = Enumerable.Repeat(observation, 50).ToArray();
        b.Reseed(7);
        Assert.Equal(first.Take(50), b.ActBatch(rows, deterministic: false).Select(x => (int)x[0]));
    }

    [Fact]
    public void Gaussian_actions_are_clipped_to_the_bounds_the_run_kept_and_the_mean_is_not()
    {
        var spec = new NetworkSpec(3, [16], 2, true, -0.5);
        var bounds = new Box([2], [-1f, -0.5f], [1f, 0.5f]);
        var parameters = RandomParameters(spec, 8, 1.5);
        using var policy = TrainedPolicy.FromCheckpoint(new Checkpoint(spec, parameters, new Dictionary<string, string>()) { ActionBounds = bounds }, seed: 1);
        Assert.Equal(bounds, policy.ActionBounds);
        int clipped = 0;
        foreach (var observation in Observations(100, 3, 9))
        {
            var decision = policy.Decide(observation, deterministic: true);
            Assert.Equal(parameters[^2..], decision.LogStd);
            for (int d = 0; d < 2; d++)
            {
                Assert.Equal(Math.Clamp(decision.Mean[d], bounds.Low[d], bounds.High[d]), decision.Action[d]);
                if (decision.Mean[d] != decision.Action[d]) clipped++;
            }
            var sampled = policy.Act(observation, deterministic: false);
            for (int d = 0; d < 2; d++) Assert.InRange(sampled[d], bounds.Low[d], bounds.High[d]);
        }
        Assert.True(clipped > 10, $"{clipped}");
        Assert.Throws<InvalidOperationException>(() => policy.ActDiscrete(new float[3], true));
    }

    [Fact]
    public void A_checkpoint_without_bounds_takes_the_builtin_environments_and_bounds_survive_a_save()
    {
        var spec = NetworkSpec.For(EnvironmentRegistry.Builtin.Make("Pendulum-v1").ObservationSpace, EnvironmentRegistry.Builtin.Make("Pendulum-v1").ActionSpace, [8]);
        var checkpoint = new Checkpoint(spec, RandomParameters(spec, 1), new Dictionary<string, string>()) { EnvironmentId = "Pendulum-v1" };
        using (var policy = TrainedPolicy.FromCheckpoint(checkpoint))
            Assert.Equal(Box.Uniform([1], -2f, 2f), policy.ActionBounds);
        string dir = TempDirectory();
        try
        {
            var infinite = new Box([1], [float.NegativeInfinity], [3f]);
            string path = Path.Combine(dir, "inf.ckpt");
            checkpoint.WithActionBounds(infinite).Save(path);
            Assert.Equal(infinite, Checkpoint.Load(path).ActionBounds);
            using var loaded = TrainedPolicy.Load(path);
            Assert.Equal(infinite, loaded.ActionBounds);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Load_takes_a_file_or_a_run_folder_and_refuses_what_is_not_a_policy()
    {
        string dir = TempDirectory();
        try
        {
            var spec = new NetworkSpec(4, [8], 2, false);
            var statistics = Statistics(4);
            new Checkpoint(spec, RandomParameters(spec, 2), new Dictionary<string, string>()) { ObservationStatistics = statistics, EnvironmentId = "CartPole-v1" }
                .Save(Path.Combine(dir, TrainedPolicy.RunFolderModel));
            using (var fromFolder = TrainedPolicy.Load(dir))
            {
                Assert.Equal(statistics, fromFolder.ObservationStatistics);
                Assert.Equal("CartPole-v1", fromFolder.EnvironmentId);
                Assert.Equal(4, fromFolder.ObservationSize);
            }

            Assert.Contains("No checkpoint", Assert.Throws<FileNotFoundException>(() => TrainedPolicy.Load(Path.Combine(dir, "missing.ckpt"))).Message);
            string empty = Path.Combine(dir, "empty");
            Directory.CreateDirectory(empty);
            Assert.Contains("without model.ckpt", Assert.Throws<FileNotFoundException>(() => TrainedPolicy.Load(empty)).Message);
            string junk = Path.Combine(dir, "junk.ckpt");
            File.WriteAllText(junk, "not a checkpoint");
            Assert.Throws<InvalidDataException>(() => TrainedPolicy.Load(junk));
            string wrong = Path.Combine(dir, "wrong.ckpt");
            new Checkpoint(spec, [1f, 2f], new Dictionary<string, string>()).Save(wrong);
            Assert.Contains("parameters", Assert.Throws<InvalidDataException>(() => TrainedPolicy.Load(wrong)).Message);

            using var policy = TrainedPolicy.Load(Path.Combine(dir, TrainedPolicy.RunFolderModel));
            Assert.Contains("5 floats", Assert.Throws<ArgumentException>(() => policy.Act(new float[5], true)).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_convolutional_policy_acts_on_flat_observations()
    {
        var environment = EnvironmentRegistry.Builtin.Make("MinAtar/Breakout-v1");
        var spec = NetworkSpec.For(environment.ObservationSpace, environment.ActionSpace, [], body: BodyKind.MinAtarConv);
        using var policy = TrainedPolicy.FromCheckpoint(new Checkpoint(spec, RandomParameters(spec, 4, 0.1), new Dictionary<string, string>()));
        var observation = new float[spec.ObservationSize];
        environment.Reset(1, observation);
        var decision = policy.Decide(observation, deterministic: true);
        Assert.InRange(decision.ActionIndex, 0, spec.ActionSize - 1);
        Assert.True(float.IsFinite(decision.Value));
    }
}
