using Advantage.Actors;
using Advantage.Learning;
using Akka.Actor;
using Akka.Hosting;
using Akka.Hosting.TestKit;

namespace Advantage.Hosting.Tests;

public class WithAdvantageTests : TestKit
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "advantage-hosting-" + Guid.NewGuid().ToString("N"));

    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        var options = new TrainingOptions()
            .WithAlgorithm(new A2COptions { Workers = 1, EnvironmentsPerWorker = 2, RolloutLength = 5, HiddenSizes = [8], Seed = 2 })
            .WithMaxSteps(1_000_000_000)
            .WithCheckpointDirectory(directory);
        builder.WithAdvantage(options);
    }

    [Fact]
    public async Task The_learner_is_in_the_registry_answers_progress_publishes_events_and_stops_cleanly_on_shutdown()
    {
        try
        {
            await RunAndShutDown();
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    private async Task RunAndShutDown()
    {
        var learner = await ActorRegistry.GetAsync<AdvantageLearner>();
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(UpdateFinished));
        Sys.EventStream.Subscribe(probe.Ref, typeof(TrainingFinished));
        probe.FishForMessage<UpdateFinished>(u => u.Version >= 3, TimeSpan.FromSeconds(30));

        var progress = await learner.Ask<TrainingProgress>(GetProgress.Instance, TimeSpan.FromSeconds(10));
        Assert.True(progress.Version >= 3);
        Assert.Equal(1, progress.Workers);

        Watch(learner);
        await CoordinatedShutdown.Get(Sys).Run(CoordinatedShutdown.ClrExitReason.Instance);
        var finished = probe.FishForMessage<TrainingFinished>(_ => true, TimeSpan.FromSeconds(30));
        Assert.Equal(StopReason.Stopped, finished.Reason);
        var checkpoint = Checkpoint.Load(Path.Combine(directory, "last.ckpt"));
        Assert.True(checkpoint.CanResume);
        Assert.Equal(finished.Progress.Version, checkpoint.Progress!.Version);
    }
}
