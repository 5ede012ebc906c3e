using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Actors.Tests;

/// <summary>A cluster-hosted learner's checkpoint: the same format 3 as last.ckpt, and an exact continuation.</summary>
public sealed class HostedCheckpointTests : ActorTestKit
{
    private readonly string folder = Directory.CreateTempSubdirectory("advantage-hosted-").FullName;

    private string PathOf(string name) => Path.Combine(folder, name);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) Directory.Delete(folder, recursive: true);
    }

    private (IActorRef Learner, Task<TrainingResult> Completion) StartHosted(string checkpoint, TrainingOptions? options = null)
    {
        var o = options ?? Fixtures.Training;
        var completion = new TaskCompletionSource<TrainingResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        AdvantageConfig.Install(Sys);
        var (algorithm, resumed) = LearnerCheckpoint.CreateLearner(o, Fixtures.Spec, checkpoint);
        var hosting = new LearnerHosting("hosted", true, checkpoint) { Resumed = resumed?.Progress, ResumedWorkers = resumed?.WorkerStates };
        var learner = Sys.ActorOf(LearnerActor.HostedProps(o, algorithm, null, completion, hosting));
        return (learner, completion.Task);
    }

    /// <summary>Registers a probe worker and plays <paramref name="rounds"/> rounds; returns the last parameters it received.</summary>
    private Parameters Play(IActorRef learner, Akka.TestKit.TestProbe worker, int rounds, float reward = 1f)
    {
        worker.Send(learner, new RegisterWorker(0, 2));
        var parameters = worker.ExpectMsg<Parameters>();
        for (int i = 0; i < rounds; i++)
        {
            worker.Send(learner, new RolloutCollected(Fixtures.Rollout(0, parameters.Version, reward: reward + i)));
            parameters = worker.ExpectMsg<Parameters>();
        }
        return parameters;
    }

    [Fact]
    public async Task The_hosted_checkpoint_is_a_complete_format_3_checkpoint_with_no_side_file()
    {
        string path = PathOf("learner.ckpt");
        var (learner, completion) = StartHosted(path);
        var last = Play(learner, CreateTestProbe(), rounds: 3);
        learner.Tell(StopTraining.Instance);
        var result = await completion.WaitAsync(TimeSpan.FromSeconds(30));

        var saved = Checkpoint.Load(path);
        Assert.True(saved.CanResume);
        Assert.Equal(3, saved.Progress!.Version);
        Assert.Equal(3 * Fixtures.Steps * 2, saved.Progress.Steps);
        Assert.Equal(3, saved.Progress.Episodes);
        Assert.Equal([2.0, 2.0, 2.0], saved.Progress.RecentReturns);
        Assert.Equal("CartPole-v1", saved.EnvironmentId);
        Assert.Equal(Fixtures.Options with { HiddenSizes = saved.Options!.HiddenSizes }, saved.Options);
        Assert.Equal([8], saved.Options.HiddenSizes);
        Assert.Equal(last.Values, saved.Parameters);
        Assert.Equal(result.Parameters, saved.Parameters);
        Assert.False(File.Exists(path + ".optimizer"));
    }

    [Fact]
    public async Task A_restarted_hosted_learner_continues_exactly_like_an_in_process_resume_of_the_same_file()
    {
        string path = PathOf("learner.ckpt");
        var (first, firstDone) = StartHosted(path);
        var atStop = Play(first, CreateTestProbe(), rounds: 3);
        first.Tell(StopTraining.Instance);
        await firstDone.WaitAsync(TimeSpan.FromSeconds(30));

        // The cluster way: a new learner on the same checkpoint path.
        var (second, _) = StartHosted(path);
        var w1 = CreateTestProbe();
        w1.Send(second, new RegisterWorker(0, 2));
        var resumed = w1.ExpectMsg<Parameters>();
        Assert.Equal(3L, resumed.Version);
        Assert.Equal(atStop.Values, resumed.Values);
        var progress = await second.Ask<TrainingProgress>(GetProgress.Instance, TimeSpan.FromSeconds(10));
        Assert.Equal((3L, 3L * Fixtures.Steps * 2, 3L, 2.0), (progress.Version, progress.Steps, progress.Episodes, progress.MeanReturn));

        // The in-process way: ResumeFrom the same file.
        var completion = new TaskCompletionSource<TrainingResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Fixtures.Training.WithResumeFrom(Checkpoint.Load(path));
        var (algorithm, fromFile) = LearnerCheckpoint.CreateLearner(options, Fixtures.Spec, null);
        var third = Sys.ActorOf(LearnerActor.HostedProps(options, algorithm, null, completion, new LearnerHosting("in-process", false, null) { Resumed = fromFile?.Progress, ResumedWorkers = fromFile?.WorkerStates }));
        var w2 = CreateTestProbe();
        w2.Send(third, new RegisterWorker(0, 2));
        Assert.Equal(resumed.Values, w2.ExpectMsg<Parameters>().Values);

        // The same rollout gives the same update on both: weights and optimizer state came back alike.
        w1.Send(second, new RolloutCollected(Fixtures.Rollout(0, 3, reward: 5f)));
        w2.Send(third, new RolloutCollected(Fixtures.Rollout(0, 3, reward: 5f)));
        var a = w1.ExpectMsg<Parameters>();
        var b = w2.ExpectMsg<Parameters>();
        Assert.Equal(4, a.Version);
        Assert.Equal(a.Values, b.Values);
        Assert.NotEqual(resumed.Values, a.Values);
    }

    [Fact]
    public void A_checkpoint_of_another_network_or_a_bare_model_is_refused_with_the_reason()
    {
        string other = PathOf("other.ckpt");
        using (var big = new A2CLearner(Fixtures.Options.WithHiddenSizes([16]), Fixtures.Spec with { HiddenSizes = [16] }))
            new Checkpoint(big.Spec, big.Parameters.Read(), new Dictionary<string, string>()).Save(other);
        var error = Assert.Throws<InvalidDataException>(() => LearnerCheckpoint.CreateLearner(Fixtures.Training, Fixtures.Spec, other));
        Assert.Contains(other, error.Message);
        Assert.Contains("another network", error.Message);
        Assert.Contains("hidden [16]", error.Message);

        // A bare model (a format-2 model.ckpt) resumes nothing: refused with the reason, never a fresh optimizer.
        string bare = PathOf("bare.ckpt");
        using (var learner = new A2CLearner(Fixtures.Options, Fixtures.Spec))
            new Checkpoint(Fixtures.Spec, learner.Parameters.Read(), new Dictionary<string, string>()) { Progress = new CheckpointProgress(1, 2, 3, []) }.Save(bare);
        Assert.Contains("bare model", Assert.Throws<InvalidDataException>(() => LearnerCheckpoint.CreateLearner(Fixtures.Training, Fixtures.Spec, bare)).Message);
        var (fresh, resumed) = LearnerCheckpoint.CreateLearner(Fixtures.Training, Fixtures.Spec, PathOf("missing.ckpt"));
        fresh.Dispose();
        Assert.Null(resumed);
    }

    [Fact]
    public void A_cluster_learner_on_a_checkpoint_it_cannot_resume_refuses_to_start_and_leaves_the_file_alone()
    {
        string other = PathOf("other.ckpt");
        using (var big = new A2CLearner(Fixtures.Options.WithHiddenSizes([16]), Fixtures.Spec with { HiddenSizes = [16] }))
            new Checkpoint(big.Spec, big.Parameters.Read(), new Dictionary<string, string>()).Save(other);
        byte[] before = File.ReadAllBytes(other);
        var error = Assert.Throws<InvalidDataException>(() =>
            Cluster.ClusterLearner.Start(Sys, Fixtures.Training, new Cluster.ClusterLearnerOptions().WithCheckpointPath(other)));
        Assert.Contains(other, error.Message);
        Assert.Contains("another network", error.Message);
        Assert.Equal(before, File.ReadAllBytes(other));
    }
}
