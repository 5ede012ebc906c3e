using Advantage.Actors;
using Advantage.Learning;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Advantage.Hosting.Tests;

/// <summary>The hosted run through dependency injection, as an application's own services would use it.</summary>
public sealed class AdvantageTrainingTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "advantage-hosted-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    private static TrainingOptions Tiny() => new TrainingOptions()
        .WithAlgorithm(new A2COptions { Workers = 1, EnvironmentsPerWorker = 2, RolloutLength = 5, HiddenSizes = [8], Seed = 2 })
        .WithMaxSteps(1_000_000_000);

    private static IHost Build(TrainingOptions options)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAkka("hosted-run", akka =>
        {
            akka.AddHocon("akka.loglevel = WARNING", HoconAddMode.Prepend);
            akka.WithAdvantage(options);
        });
        builder.Services.AddAdvantageTraining();
        return builder.Build();
    }

    [Fact]
    public async Task The_hosted_run_its_progress_its_result_and_its_checkpoint_are_injectable()
    {
        using var host = Build(Tiny().WithOutputDirectory(folder).WithCheckpointInterval(3));
        var training = host.Services.GetRequiredService<AdvantageTraining>();
        Assert.False(training.Started.IsCompleted);
        await host.StartAsync(TestContext.Current.CancellationToken);

        var run = await training.Started.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(folder, training.OutputDirectory);
        Assert.Equal(Path.Combine(folder, "last.ckpt"), training.CheckpointPath);
        TrainingProgress progress;
        do
        {
            progress = await training.GetProgressAsync(TimeSpan.FromSeconds(10));
        }
        while (progress.Version < 5 && !training.Completion.IsCompleted);
        Assert.True(progress.Version >= 5);

        training.Stop();
        var result = await training.Completion.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(StopReason.Stopped, result.Reason);
        Assert.Same(await run.Completion, result);
        Assert.Equal(training.CheckpointPath, result.CheckpointPath);
        Assert.True(result.FinalCheckpointWritten);
        Assert.Equal(result.Progress.Version, Checkpoint.Load(training.CheckpointPath!).Progress!.Version);
        foreach (string file in new[] { "summary.json", "progress.csv", "episodes.csv", "learning_curve.png", "model.ckpt" })
            Assert.True(File.Exists(Path.Combine(folder, file)), file);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_run_that_cannot_start_faults_the_injected_tasks_with_the_reason()
    {
        using var host = Build(Tiny().WithMaxSteps(0));
        var training = host.Services.GetRequiredService<AdvantageTraining>();
        try
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
        }
        catch (Exception)
        {
            // Akka.Hosting may fail the host start with the same exception; the handle says it either way.
        }
        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => training.Completion.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.Contains("MaxSteps", refused.Message);
        await Assert.ThrowsAsync<OptionsValidationException>(() => training.GetProgressAsync(TimeSpan.FromSeconds(5)));
    }
}
