using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Actors.Tests;

/// <summary>PPO through the same actors as A2C: the learner actor, checkpoints and resume know only <see cref="IPolicyLearner"/>.</summary>
public sealed class PpoTrainingTests : ActorTestKit
{
    private readonly string folder = Directory.CreateTempSubdirectory("advantage-ppo-").FullName;

    // Linear schedules over a small budget: a resumed run that lost its step count would decay from the wrong point.
    private static TrainingOptions Ppo => Fixtures.Training.WithMaxSteps(1_000).WithAlgorithm(
        new PpoOptions().WithRolloutLength(Fixtures.Steps).WithHiddenSizes([8]).WithSeed(7).WithWorkers(1).WithEpochs(3).WithMinibatches(2).WithNormalizeObservations(true)
            .WithLearningRateSchedule(ScheduleKind.Linear).WithClipRangeSchedule(ScheduleKind.Linear));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task A_seeded_PPO_run_learns_CartPole_mean_return_195_within_150k_steps()
    {
        var options = new TrainingOptions
        {
            Algorithm = PpoPresets.For("CartPole-v1").WithSeed(1),
            MaxSteps = 150_000,
            TargetMeanReturn = 195,
        };
        UpdateMetrics? last = null;
        var run = Training.Start(Sys, options, p => last = p.LastUpdate ?? last);
        var result = await run.Completion.WaitAsync(TimeSpan.FromMinutes(3));
        Assert.True(result.Solved, $"Not solved: {result.Reason} after {result.Progress.Steps} steps, mean return {result.Progress.MeanReturn:F1}");
        Assert.Equal(StopReason.TargetReached, result.Reason);
        Assert.Equal(0, result.Progress.RejectedRollouts);
        // The algorithm's own scalars reach progress reports.
        Assert.Contains("approx_kl", result.Progress.LastUpdate!.Extra.Keys);
        Assert.Equal(0.0, result.Progress.LastUpdate.Extra["initial_ratio_error"]);
    }

    private (IActorRef Learner, Task<TrainingResult> Completion) StartHosted(TrainingOptions options, string? checkpoint)
    {
        var completion = new TaskCompletionSource<TrainingResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        AdvantageConfig.Install(Sys);
        var (algorithm, resumed) = LearnerCheckpoint.CreateLearner(options, Fixtures.Spec, checkpoint);
        var learner = Sys.ActorOf(LearnerActor.HostedProps(options, algorithm, null, completion, new LearnerHosting("ppo", checkpoint is not null, checkpoint) { Resumed = resumed?.Progress, ResumedWorkers = resumed?.WorkerStates }));
        return (learner, completion.Task);
    }

    private static Parameters Play(IActorRef learner, Akka.TestKit.TestProbe worker, int from, int to)
    {
        worker.Send(learner, new RegisterWorker(0, 2));
        var parameters = worker.ExpectMsg<Parameters>();
        Assert.Equal(from, parameters.Version);
        for (int i = from; i < to; i++)
        {
            worker.Send(learner, new RolloutCollected(Fixtures.Rollout(0, parameters.Version, reward: 1f + i)));
            parameters = worker.ExpectMsg<Parameters>();
        }
        return parameters;
    }

    [Fact]
    public async Task A_PPO_checkpoint_resumes_exactly_like_the_uninterrupted_run()
    {
        var (uninterrupted, done) = StartHosted(Ppo, null);
        var straight = Play(uninterrupted, CreateTestProbe(), 0, 5);
        uninterrupted.Tell(StopTraining.Instance);
        await done.WaitAsync(TimeSpan.FromSeconds(30));

        string path = Path.Combine(folder, "learner.ckpt");
        var (first, firstDone) = StartHosted(Ppo, path);
        Play(first, CreateTestProbe(), 0, 3);
        first.Tell(StopTraining.Instance);
        await firstDone.WaitAsync(TimeSpan.FromSeconds(30));
        var saved = Checkpoint.Load(path);
        Assert.Equal("ppo", saved.Algorithm);
        Assert.IsType<PpoOptions>(saved.Options);
        Assert.NotNull(saved.ObservationStatistics);

        // In process, from the file: weights, Adam's moments, observation statistics and the round's shuffles come back.
        var (resumed, _) = StartHosted(Ppo.WithResumeFrom(saved), null);
        var continued = Play(resumed, CreateTestProbe(), 3, 5);
        Assert.Equal(straight.Values, continued.Values);
        Assert.Equal(straight.ObservationStatistics!.Mean, continued.ObservationStatistics!.Mean);

        // Without the step count the schedules would restart: the same checkpoint resumed at step 0 ends elsewhere.
        var (restarted, _) = StartHosted(Ppo.WithResumeFrom(saved with { Progress = saved.Progress! with { Steps = 0 } }), null);
        Assert.NotEqual(straight.Values, Play(restarted, CreateTestProbe(), 3, 5).Values);
    }

    [Fact]
    public async Task A_checkpoint_of_the_other_algorithm_is_refused_with_the_reason()
    {
        string path = Path.Combine(folder, "ppo.ckpt");
        var (learner, done) = StartHosted(Ppo, path);
        Play(learner, CreateTestProbe(), 0, 1);
        learner.Tell(StopTraining.Instance);
        await done.WaitAsync(TimeSpan.FromSeconds(30));
        var ppo = Checkpoint.Load(path);

        var a2c = Fixtures.Training.WithResumeFrom(ppo);
        var error = Assert.Throws<OptionsValidationException>(() => Training.Start(Sys, a2c));
        Assert.Contains("ResumeFrom: The checkpoint was trained with ppo, this run trains a2c", error.Message);

        var hosted = Assert.Throws<InvalidDataException>(() => LearnerCheckpoint.CreateLearner(Fixtures.Training, Fixtures.Spec, path));
        Assert.Contains(path, hosted.Message);
        Assert.Contains("trained with ppo", hosted.Message);

        // And the other way round: an A2C checkpoint does not continue as PPO.
        Assert.Contains(Ppo.WithResumeFrom(ppo with { Options = Fixtures.Options }).Problems(), p => p.Contains("trained with a2c, this run trains ppo", StringComparison.Ordinal));
    }
}
