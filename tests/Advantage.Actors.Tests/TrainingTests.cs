using Advantage.Learning;
using Akka.TestKit.Xunit2;

namespace Advantage.Actors.Tests;

public class TrainingTests : ActorTestKit
{
    [Fact]
    public void Invalid_options_fail_before_any_actor_starts_and_name_every_bad_field()
    {
        var options = new TrainingOptions
        {
            Algorithm = new A2COptions { Gamma = 1.5, Workers = 0 },
            EnvironmentId = "NoSuchEnv-v0",
            MaxSteps = 0,
        };
        var error = Assert.Throws<OptionsValidationException>(() => Training.Start(Sys, options));
        Assert.Contains("Algorithm.Gamma = 1.5 is outside [0, 1]", error.Message);
        Assert.Contains("Algorithm.Workers = 0 is outside [1, 1024]", error.Message);
        Assert.Contains("EnvironmentId = 'NoSuchEnv-v0' is not registered; known ids: CartPole-v1", error.Message);
        Assert.Contains("MaxSteps = 0 is outside [1, 1000000000000]", error.Message);
        Assert.Equal(4, error.Problems.Count);
    }

    [Fact]
    public async Task A_seeded_run_learns_CartPole_mean_return_195_within_300k_steps()
    {
        var options = new TrainingOptions
        {
            Algorithm = new A2COptions { Workers = 2, EnvironmentsPerWorker = 8, Seed = 3, LearningRate = 4e-3 },
            MaxSteps = 300_000,
            TargetMeanReturn = 195,
        };
        var progress = new List<TrainingProgress>();
        var run = Training.Start(Sys, options, p => { lock (progress) progress.Add(p); });
        var result = await run.Completion.WaitAsync(TimeSpan.FromMinutes(3));
        Assert.True(result.Solved, $"Not solved: {result.Reason} after {result.Progress.Steps} steps, mean return {result.Progress.MeanReturn:F1}");
        Assert.Equal(StopReason.TargetReached, result.Reason);
        Assert.True(result.Progress.MeanReturn >= 195);
        Assert.Equal(0, result.Progress.RejectedRollouts);
        lock (progress) Assert.NotEmpty(progress);
    }
}
