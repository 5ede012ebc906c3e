using Advantage.Environments;
using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Actors.Tests;

/// <summary>A run's result as one checkpoint, and the policy API acting with what the run trained with.</summary>
public class TrainedPolicyRunTests : ActorTestKit
{
    private static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "advantage-policy-run-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static float[][] Observations(int count, int size, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, size).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray()).ToArray();
    }

    [Fact]
    public async Task A_saved_result_keeps_the_normaliser_and_acts_as_the_runs_last_checkpoint()
    {
        string dir = TempDirectory();
        try
        {
            var options = new TrainingOptions()
                .WithAlgorithm(new A2COptions { Workers = 1, EnvironmentsPerWorker = 4, RolloutLength = 5, HiddenSizes = [16], Seed = 3, NormalizeObservations = true })
                .WithMaxSteps(2_000)
                .WithCheckpointDirectory(dir);
            var result = await Training.Start(Sys, options).Completion.WaitAsync(TimeSpan.FromSeconds(60));

            var last = Checkpoint.Load(Path.Combine(dir, "last.ckpt"));
            Assert.NotNull(result.ObservationStatistics);
            Assert.Equal(last.ObservationStatistics, result.ObservationStatistics);
            Assert.True(result.ObservationStatistics!.Count > 1000, $"{result.ObservationStatistics}");
            Assert.Equal("CartPole-v1", result.EnvironmentId);
            Assert.Equal(options.Algorithm, result.Options);
            Assert.Equal(last.Parameters, result.Parameters);

            string saved = Path.Combine(dir, "result.ckpt");
            result.Save(saved);
            var checkpoint = Checkpoint.Load(saved);
            Assert.True(checkpoint.CanResume);
            Assert.Equal("a2c", checkpoint.Algorithm);
            Assert.Equal(last.Progress!.Version, checkpoint.Progress!.Version);
            Assert.Equal(last.Progress.Steps, checkpoint.Progress.Steps);
            Assert.Equal(last.Progress.RecentReturns, checkpoint.Progress.RecentReturns);
            Assert.Equal(last.OptimizerState, checkpoint.OptimizerState);

            using var fromResult = TrainedPolicy.Load(saved);
            using var fromLast = TrainedPolicy.Load(Path.Combine(dir, "last.ckpt"));
            using var withoutStatistics = TrainedPolicy.FromCheckpoint(checkpoint.WithObservationStatistics(null));
            Assert.Equal(result.ObservationStatistics, fromResult.ObservationStatistics);
            int differs = 0;
            foreach (var observation in Observations(200, 4, 1))
            {
                var a = fromResult.Decide(observation, deterministic: true);
                var b = fromLast.Decide(observation, deterministic: true);
                Assert.Equal(b.Logits, a.Logits);
                Assert.Equal(b.Value, a.Value);
                if (!a.Logits.SequenceEqual(withoutStatistics.Decide(observation, deterministic: true).Logits)) differs++;
            }
            // Dropping the statistics changes what the network sees: the saved result did not drop them.
            Assert.Equal(200, differs);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_gaussian_run_keeps_its_action_bounds_in_checkpoints_and_the_result()
    {
        string dir = TempDirectory();
        try
        {
            var options = new TrainingOptions()
                .WithAlgorithm(A2CPresets.For("Pendulum-v1").WithWorkers(1).WithEnvironmentsPerWorker(2).WithHiddenSizes([8]))
                .WithEnvironmentId("Pendulum-v1")
                .WithMaxSteps(400)
                .WithCheckpointDirectory(dir);
            var result = await Training.Start(Sys, options).Completion.WaitAsync(TimeSpan.FromSeconds(60));
            var bounds = Box.Uniform([1], -2f, 2f);
            Assert.Equal(bounds, result.ActionBounds);
            Assert.Equal(bounds, Checkpoint.Load(Path.Combine(dir, "last.ckpt")).ActionBounds);
            using var policy = TrainedPolicy.FromCheckpoint(result.ToCheckpoint());
            Assert.Equal(bounds, policy.ActionBounds);
            Assert.NotNull(policy.ObservationStatistics);
            Assert.InRange(policy.Act([1f, 0f, 0f], deterministic: false)[0], -2f, 2f);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>README's "Using a trained policy", C#, as written there (its file lands in the test's output folder).</summary>
    [Fact]
    public async Task Readme_using_a_trained_policy()
    {
        try
        {
            // README begin
            using var system = ActorSystem.Create("my-service");
            var options = new TrainingOptions
            {
                Algorithm = A2CPresets.For("CartPole-v1").WithSeed(1).WithNormalizeObservations(true),
                EnvironmentId = "CartPole-v1",
                MaxSteps = 20_000,
            };
            TrainingResult result = await Training.RunAsync(system, options);
            result.Save("cartpole.ckpt");   // weights, observation statistics, options, counters: one checkpoint

            using var policy = TrainedPolicy.Load("cartpole.ckpt");   // or a run folder (its model.ckpt), or last.ckpt
            var environment = EnvironmentRegistry.Builtin.Make("CartPole-v1");
            var observation = new float[policy.ObservationSize];
            environment.Reset(42, observation);
            double episodeReturn = 0;
            while (true)
            {
                float[] action = policy.Act(observation, deterministic: true);   // raw observation in, normalised inside
                var step = environment.Step(action, observation);
                episodeReturn += step.Reward;
                if (step.IsFinished) break;
            }
            PolicyDecision decision = policy.Decide(observation, deterministic: true);
            Console.WriteLine($"return {episodeReturn}; last state: P(left) {decision.Probabilities[0]:F2}, value {decision.Value:F2}");
            // README end
            Assert.True(episodeReturn >= 1);
            Assert.NotNull(policy.ObservationStatistics);
            await system.Terminate();
        }
        finally
        {
            File.Delete("cartpole.ckpt");
        }
    }
}
