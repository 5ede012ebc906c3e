using Advantage.Learning;
using Akka.TestKit.Xunit2;

namespace Advantage.Actors.Tests;

/// <summary>Events, stop conditions, checkpoints, resume and evaluation of whole (tiny) runs.</summary>
public class RunFeatureTests : ActorTestKit
{
    private static TrainingOptions Tiny(int seed = 5) => new TrainingOptions()
        .WithAlgorithm(new A2COptions { Workers = 1, EnvironmentsPerWorker = 2, RolloutLength = 5, HiddenSizes = [8], Seed = seed, LearningRate = 3e-3 })
        .WithMaxSteps(1_000_000);

    private static string TempDirectory() => Path.Combine(Path.GetTempPath(), "advantage-run-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Host_actors_see_joins_updates_episodes_and_the_finish_on_the_event_stream()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(TrainingEvent));
        var run = Training.Start(Sys, Tiny().WithMaxSteps(400));

        var joined = probe.FishForMessage<WorkerJoined>(_ => true, TimeSpan.FromSeconds(20));
        Assert.Equal(0, joined.WorkerId);
        Assert.Equal(1, joined.Workers);
        var update = probe.FishForMessage<UpdateFinished>(_ => true, TimeSpan.FromSeconds(20));
        Assert.Equal(1, update.Version);
        Assert.Equal(10, update.Steps);
        Assert.True(double.IsFinite(update.Metrics.PolicyLoss));
        var episode = probe.FishForMessage<EpisodeFinished>(_ => true, TimeSpan.FromSeconds(20));
        Assert.Equal(1, episode.Episode);
        Assert.True(episode.Return >= 1 && episode.Length == (int)episode.Return);
        var finished = probe.FishForMessage<TrainingFinished>(_ => true, TimeSpan.FromSeconds(20));
        Assert.Equal(StopReason.StepBudgetExhausted, finished.Reason);
        Assert.Equal(400, finished.Progress.Steps);
        var result = await run.Completion.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(finished.Run, episode.Run);
        Assert.Equal(result.Progress.Steps, finished.Progress.Steps);
    }

    [Fact]
    public void A_lost_worker_and_a_rejected_rollout_are_published_with_the_workers_left()
    {
        var events = CreateTestProbe();
        Sys.EventStream.Subscribe(events.Ref, typeof(TrainingEvent));
        AdvantageConfig.Install(Sys);
        var completion = new TaskCompletionSource<TrainingResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var learner = Sys.ActorOf(LearnerActor.Props(Fixtures.Training, new A2CLearner(Fixtures.Options, Fixtures.Spec), null, completion), "events-run-learner");
        var w0 = CreateTestProbe();
        var w1 = CreateTestProbe();
        w0.Send(learner, new RegisterWorker(0, 2));
        Assert.Equal(new WorkerJoined("events-run", 0, 2, 1), events.ExpectMsg<WorkerJoined>());
        w1.Send(learner, new RegisterWorker(1, 2));
        Assert.Equal(new WorkerJoined("events-run", 1, 2, 2), events.ExpectMsg<WorkerJoined>());

        w0.Send(learner, new RolloutCollected(Fixtures.Rollout(0, 7)));
        var rejected = events.ExpectMsg<RolloutRejected>();
        Assert.Equal(0, rejected.WorkerId);
        Assert.Contains("version 7", rejected.Reason);

        Sys.Stop(w1.Ref);
        Assert.Equal(new WorkerLost("events-run", 1, 1), events.ExpectMsg<WorkerLost>());
    }

    [Fact]
    public async Task A_stop_condition_from_a_function_ends_the_run_and_is_named_in_the_result()
    {
        var options = Tiny().WithStopCondition(StopCondition.When("three updates", c => c.Progress.Version >= 3));
        var result = await Training.RunAsync(Sys, options).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(StopReason.StopConditionMet, result.Reason);
        Assert.Equal(3, result.Progress.Version);
        Assert.Contains("three updates", result.Detail);
    }

    [Fact]
    public void Ready_made_stop_conditions_decide_from_the_check_alone()
    {
        var progress = new TrainingProgress(5000, 1, 1, 120, 480, 100, 1, 0, 0, null);
        var evaluation = new EvaluationFinished("r", 100, 5000, new EvaluationResult([500.0, 490.0], [500, 490]), false);
        var check = new StopCheck(progress, evaluation, Evaluations: 6, EvaluationsSinceImprovement: 3, BestEvaluationReturn: 500);

        Assert.True(StopCondition.RewardThreshold(475).ShouldStop(check));
        Assert.False(StopCondition.RewardThreshold(475, minEpisodes: 200).ShouldStop(check));
        Assert.False(StopCondition.RewardThreshold(481).ShouldStop(check));
        Assert.True(StopCondition.EvaluationRewardThreshold(495).ShouldStop(check));
        Assert.False(StopCondition.EvaluationRewardThreshold(496).ShouldStop(check with { LastEvaluation = null }));
        Assert.True(StopCondition.StepBudget(5000).ShouldStop(check));
        Assert.False(StopCondition.StepBudget(5001).ShouldStop(check));
        Assert.True(StopCondition.NoImprovement(3).ShouldStop(check));
        Assert.False(StopCondition.NoImprovement(4).ShouldStop(check));
        Assert.False(StopCondition.NoImprovement(3, minEvaluations: 7).ShouldStop(check));
    }

    [Fact]
    public async Task Two_runs_with_one_seed_end_with_bit_identical_parameters()
    {
        // Without MKL's reproducible mode (Reproducibility) these drifted apart in the last bits after ~10 updates.
        var a = await Training.RunAsync(Sys, Tiny().WithMaxSteps(300)).WaitAsync(TimeSpan.FromSeconds(60));
        var b = await Training.RunAsync(Sys, Tiny().WithMaxSteps(300)).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(a.Parameters, b.Parameters);
        Assert.Equal(a.Progress.Episodes, b.Progress.Episodes);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task Resuming_a_seeded_single_worker_run_from_its_checkpoint_gives_the_same_parameters_as_not_stopping(bool normalizeObservations, bool normalizeRewards)
    {
        // Reward scaling's running returns and statistics live in the worker: the checkpoint carries them with its environments.
        TrainingOptions Tiny() => RunFeatureTests.Tiny() with { Algorithm = RunFeatureTests.Tiny().Algorithm with { NormalizeObservations = normalizeObservations, NormalizeRewards = normalizeRewards } };
        string continuousDir = TempDirectory(), stoppedDir = TempDirectory();
        try
        {
            // 40 updates of 10 steps; checkpoints every 10 updates.
            var continuous = await Training.RunAsync(Sys, Tiny().WithCheckpointDirectory(continuousDir).WithCheckpointInterval(10).WithMaxSteps(400))
                .WaitAsync(TimeSpan.FromSeconds(60));
            var first = await Training.RunAsync(Sys, Tiny().WithCheckpointDirectory(stoppedDir).WithCheckpointInterval(10).WithMaxSteps(200))
                .WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(20, first.Progress.Version);
            var checkpoint = Checkpoint.Load(Path.Combine(stoppedDir, "last.ckpt"));
            Assert.True(checkpoint.CanResume);
            Assert.Equal(20, checkpoint.Progress!.Version);
            Assert.Equal(200, checkpoint.Progress.Steps);
            Assert.Equal(first.Progress.Episodes, checkpoint.Progress.Episodes);
            Assert.Equal(first.Parameters, checkpoint.Parameters);
            Assert.Equal(normalizeObservations, checkpoint.ObservationStatistics is not null);
            if (normalizeObservations) Assert.True(checkpoint.ObservationStatistics!.Count > 200);

            var resumed = await Training.RunAsync(Sys, Tiny().WithCheckpointDirectory(stoppedDir).WithCheckpointInterval(10).WithMaxSteps(400).WithResumeFrom(checkpoint))
                .WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(40, resumed.Progress.Version);
            Assert.Equal(continuous.Progress.Steps, resumed.Progress.Steps);
            Assert.Equal(continuous.Progress.Episodes, resumed.Progress.Episodes);
            Assert.Equal(continuous.Progress.MeanReturn, resumed.Progress.MeanReturn);
            Assert.Equal(continuous.Parameters, resumed.Parameters);
            Assert.NotEqual(first.Parameters, resumed.Parameters);
        }
        finally
        {
            foreach (var d in new[] { continuousDir, stoppedDir }) if (Directory.Exists(d)) Directory.Delete(d, recursive: true);
        }
    }

    [Fact]
    public async Task A_checkpoint_every_update_cuts_no_episode_and_changes_nothing_the_run_learns()
    {
        // Issue 22: workers used to reseed (cut) every environment at each checkpoint, so with a short interval no
        // episode outlived it and the run could not learn. Now episodes run on: checkpointing after every update (5
        // steps apart) trains exactly like checkpointing only at the end, and episodes far longer than 5 steps finish.
        string dir = TempDirectory(), rare = TempDirectory();
        try
        {
            var plain = await Training.RunAsync(Sys, Tiny().WithCheckpointDirectory(rare).WithCheckpointInterval(100_000).WithMaxSteps(4000)).WaitAsync(TimeSpan.FromSeconds(60));
            var every = await Training.RunAsync(Sys, Tiny().WithCheckpointDirectory(dir).WithCheckpointInterval(1).WithMaxSteps(4000))
                .WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(plain.Progress.Episodes, every.Progress.Episodes);
            Assert.Equal(plain.Progress.MeanReturn, every.Progress.MeanReturn);
            Assert.Equal(plain.Parameters, every.Parameters);
            var last = Checkpoint.Load(Path.Combine(dir, "last.ckpt"));
            Assert.True(last.HoldsWorkerStates(1), "The checkpoint carries the worker's environments.");
            Assert.Contains(last.Progress!.RecentReturns, r => r > 5 * 3); // CartPole's return is its length: episodes outlived three checkpoints
        }
        finally
        {
            foreach (var d in new[] { dir, rare }) if (Directory.Exists(d)) Directory.Delete(d, recursive: true);
        }
    }

    [Fact]
    public async Task A_resume_from_a_checkpoint_without_worker_states_starts_fresh_episodes_and_says_so()
    {
        string dir = TempDirectory();
        try
        {
            // 23 updates with a checkpoint every 10: the final checkpoint (version 23) falls between intervals and holds no worker states.
            var first = await Training.RunAsync(Sys, Tiny().WithCheckpointDirectory(dir).WithCheckpointInterval(10).WithMaxSteps(230)).WaitAsync(TimeSpan.FromSeconds(60));
            var checkpoint = Checkpoint.Load(Path.Combine(dir, "last.ckpt"));
            Assert.Equal(23, checkpoint.Progress!.Version);
            Assert.False(checkpoint.HoldsWorkerStates(1));
            var warnings = CreateTestProbe();
            Sys.EventStream.Subscribe(warnings.Ref, typeof(Akka.Event.Warning));
            var resumed = await Training.RunAsync(Sys, Tiny().WithMaxSteps(400).WithResumeFrom(checkpoint)).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(400, resumed.Progress.Steps);
            var warning = warnings.FishForMessage<Akka.Event.Warning>(w => w.Message.ToString()!.Contains("not exact"), TimeSpan.FromSeconds(10));
            Assert.Contains("start fresh episodes", warning.Message.ToString());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_checkpoint_of_another_network_or_a_bare_model_is_refused_before_any_actor_starts()
    {
        var bare = new Checkpoint(new Learning.Networks.NetworkSpec(4, [8], 2, false), new float[59], new Dictionary<string, string>());
        var error = Assert.Throws<OptionsValidationException>(() => Training.Start(Sys, Tiny().WithResumeFrom(bare)));
        Assert.Contains("bare model", error.Message);

        var foreign = new Checkpoint(new Learning.Networks.NetworkSpec(3, [8], 2, false), new float[51], new Dictionary<string, string>())
            .WithOptimizerState([1, 2, 3]).WithProgress(new CheckpointProgress(1, 10, 0, [])).WithOptions(Tiny().Algorithm);
        error = Assert.Throws<OptionsValidationException>(() => Training.Start(Sys, Tiny().WithResumeFrom(foreign)));
        Assert.Contains("needs 4 and 2", error.Message);
    }

    [Fact]
    public async Task Periodic_evaluation_publishes_results_and_keeps_a_resumable_best_checkpoint()
    {
        string dir = TempDirectory();
        try
        {
            var probe = CreateTestProbe();
            Sys.EventStream.Subscribe(probe.Ref, typeof(EvaluationFinished));
            Sys.EventStream.Subscribe(probe.Ref, typeof(CheckpointWritten));
            var options = Tiny().WithCheckpointDirectory(dir).WithMaxSteps(1_000_000)
                .WithEvaluation(new EvaluationOptions().WithEveryUpdates(5).WithEpisodes(3))
                .WithStopCondition(StopCondition.When("two evaluations", c => c.Evaluations >= 2));
            var run = Training.Start(Sys, options);

            var evaluation = probe.FishForMessage<EvaluationFinished>(_ => true, TimeSpan.FromSeconds(30));
            Assert.Equal(5, evaluation.Version);
            Assert.Equal(3, evaluation.Result.Returns.Count);
            Assert.True(evaluation.IsBest);
            var best = probe.FishForMessage<CheckpointWritten>(c => c.Kind == CheckpointKind.Best, TimeSpan.FromSeconds(30));
            Assert.Equal(5, best.Version);

            var result = await run.Completion.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(StopReason.StopConditionMet, result.Reason);
            var saved = Checkpoint.Load(Path.Combine(dir, "best.ckpt"));
            Assert.True(saved.CanResume);
            Assert.True(saved.Progress!.Version % 5 == 0);
            Assert.True(File.Exists(Path.Combine(dir, "last.ckpt")));

            // Re-evaluating the best checkpoint gives its recorded score: evaluation is deterministic.
            var again = Evaluation.Run(saved.Spec, saved.Parameters, () => options.Environments.Make("CartPole-v1"), 3, new EvaluationOptions().Seed);
            Assert.Equal(double.Parse(saved.Metadata["evaluation_mean_return"], System.Globalization.CultureInfo.InvariantCulture), again.MeanReturn);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
    [Fact]
    public async Task A_failed_evaluation_does_not_let_a_worse_model_overwrite_the_best_checkpoint()
    {
        // The evaluator's episodes score 10, then fail, then score 1 (the workers' episodes score 0 and never fail).
        string dir = TempDirectory();
        var script = new EvaluationScript(10, null, 1);
        var registry = Advantage.Environments.EnvironmentRegistry.Builtin.Register("Scripted-v0", () => new ScriptedEnvironment(script));
        try
        {
            var probe = CreateTestProbe();
            Sys.EventStream.Subscribe(probe.Ref, typeof(EvaluationFinished));
            var options = Tiny().WithEnvironments(registry).WithEnvironmentId("Scripted-v0").WithCheckpointDirectory(dir).WithMaxSteps(1_000_000)
                .WithEvaluation(new EvaluationOptions().WithEveryUpdates(5).WithEpisodes(1).WithSeed(EvaluationScript.Seed))
                .WithStopCondition(StopCondition.When("two evaluations", c => c.Evaluations >= 2));
            var result = await Training.RunAsync(Sys, options).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(StopReason.StopConditionMet, result.Reason);

            var first = probe.FishForMessage<EvaluationFinished>(_ => true, TimeSpan.FromSeconds(10));
            var second = probe.FishForMessage<EvaluationFinished>(_ => true, TimeSpan.FromSeconds(10));
            Assert.Equal((5L, 10.0, true), (first.Version, first.Result.MeanReturn, first.IsBest));
            Assert.Equal((15L, 1.0, false), (second.Version, second.Result.MeanReturn, second.IsBest));
            var best = Checkpoint.Load(Path.Combine(dir, "best.ckpt"));
            Assert.Equal(5, best.Progress!.Version);
            Assert.Equal("10", best.Metadata["evaluation_mean_return"]);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>What the evaluator's successive evaluations score (null: that evaluation's environment throws).</summary>
internal sealed class EvaluationScript(params double?[] scores)
{
    /// <summary>The evaluation seed: a reset with it is the evaluator's (workers reset with seeds derived from the run's).</summary>
    public const int Seed = 4242;

    private int evaluations;

    public double NextEvaluation()
    {
        int n = Interlocked.Increment(ref evaluations) - 1;
        return scores[Math.Min(n, scores.Length - 1)] ?? throw new InvalidOperationException($"Evaluation {n + 1} fails, as scripted.");
    }
}

/// <summary>One-step episodes: 0 for workers, the script's score for the evaluator.</summary>
internal sealed class ScriptedEnvironment(EvaluationScript script) : Advantage.Environments.IEnvironment
{
    private double reward;

    public Advantage.Environments.Space ObservationSpace { get; } = Advantage.Environments.Box.Uniform([4], -1f, 1f);

    public Advantage.Environments.Space ActionSpace { get; } = new Advantage.Environments.Discrete(2);

    public void Reset(int? seed, Span<float> observation)
    {
        observation.Clear();
        reward = seed == EvaluationScript.Seed ? script.NextEvaluation() : 0;
    }

    public Advantage.Environments.StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        observation.Clear();
        return Advantage.Environments.StepResult.Terminal(reward);
    }
}
