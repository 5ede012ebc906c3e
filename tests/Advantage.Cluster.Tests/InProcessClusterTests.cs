using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Advantage.Actors;
using Advantage.Actors.Cluster;
using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Cluster.Tests;

/// <summary>Learner and worker nodes as separate actor systems in this process, talking Akka.Remote over loopback.</summary>
public class InProcessClusterTests
{
    private static TrainingOptions Run(params int[] hidden) => new TrainingOptions()
        .WithAlgorithm(new A2COptions().WithHiddenSizes(hidden).WithWorkers(1).WithEnvironmentsPerWorker(4).WithRolloutLength(5).WithSeed(3))
        .WithMaxSteps(1_000_000_000);

    private static ClusterWorkerOptions WorkerFor(int port, ClusterNodeOptions? node = null) =>
        new ClusterWorkerOptions($"127.0.0.1:{port}")
            .WithNode(node ?? new ClusterNodeOptions())
            .WithLearnerLostAfter(TimeSpan.FromSeconds(2))
            .WithJoinRetryInterval(TimeSpan.FromMilliseconds(250));

    private static async Task Stop(CancellationTokenSource cancel, params Task[] workers)
    {
        await cancel.CancelAsync();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Frame_size_grows_with_the_parameter_count_so_the_Nature_conv_body_fits()
    {
        Assert.Equal(ClusterConfig.MinimumFrameSize, ClusterConfig.FrameSizeFor(10_000, 10_000));
        long nature = ClusterConfig.FrameSizeFor(1_700_000, ClusterConfig.RolloutBytes(5, 16, 4 * 84 * 84, 1));
        Assert.True(nature > 4 * 1_700_000 + 64, $"{nature}");
        Assert.True(nature > ClusterConfig.RolloutBytes(5, 16, 4 * 84 * 84, 1));
        var config = ClusterConfig.For(new ClusterNodeOptions().WithPort(4053), ClusterConfig.LearnerRole, "127.0.0.1:4053", nature);
        Assert.Equal(nature, config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size"));
        Assert.Equal("127.0.0.1", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.False(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal("cluster", config.GetString("akka.actor.provider"));
        // Compute actors on a node wait a network round for each message: they block instead of spinning.
        Assert.Contains(nameof(BlockingComputeDispatcherConfigurator), config.GetString("advantage.compute-dispatcher.type"));
    }

    [Fact]
    public void Defaults_bind_loopback_and_TLS_switches_the_protocol()
    {
        var node = new ClusterNodeOptions();
        Assert.Equal(("127.0.0.1", 0, "advantage", TimeSpan.FromSeconds(5)), (node.Host, node.Port, node.SystemName, node.FailureDetectionPause));
        Assert.Null(node.Tls);
        Assert.Equal("akka.tcp", node.Protocol);
        var worker = new ClusterWorkerOptions("127.0.0.1:4053");
        Assert.Equal((1, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)), (worker.Workers, worker.LearnerLostAfter, worker.JoinRetryInterval));
        Assert.Empty(worker.Problems());
        Assert.Null(new ClusterLearnerOptions().CheckpointPath);
        using var files = new TestCertificates();
        var tls = node.WithTls(files.SelfSigned("node"));
        Assert.Equal("akka.ssl.tcp", tls.Protocol);
        var config = ClusterConfig.For(tls, ClusterConfig.WorkerRole, "10.0.0.1:4053", ClusterConfig.MinimumFrameSize);
        Assert.Equal(["akka.ssl.tcp://advantage@10.0.0.1:4053"], config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(["worker"], config.GetStringList("akka.cluster.roles"));
        Assert.True(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
    }

    [Fact]
    public void Engine_settings_lie_over_the_nodes_configuration()
    {
        var node = new ClusterNodeOptions().WithPort(4053).WithEngineSettings("akka.remote.dot-netty.tcp.server-socket-worker-pool.pool-size-max = 1\nakka.loglevel = ERROR");
        var config = ClusterConfig.For(node, ClusterConfig.LearnerRole, "127.0.0.1:4053", ClusterConfig.MinimumFrameSize);
        Assert.Equal(1, config.GetInt("akka.remote.dot-netty.tcp.server-socket-worker-pool.pool-size-max"));
        Assert.Equal("ERROR", config.GetString("akka.loglevel"));
        Assert.Equal(4053, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Empty(node.Problems());
    }

    [Fact]
    public void Node_options_name_every_bad_field()
    {
        var error = Assert.Throws<OptionsValidationException>(() => new ClusterWorkerOptions("nohost").WithWorkers(0).WithNode(new ClusterNodeOptions { Port = -1 }).Validate());
        Assert.Contains("Learner = 'nohost' must be host:port", error.Message);
        Assert.Contains("Workers = 0 is outside [1, 1024]", error.Message);
        Assert.Contains("Node.Port = -1 is outside [0, 65535]", error.Message);
    }

    [Fact]
    public async Task A_late_worker_node_gets_the_current_parameters_and_joins_with_a_network_of_1_7_million_parameters()
    {
        // 4 -> 1300 -> 1300 -> (2 + 1): 1,701,703 parameters, 6.8 MB per broadcast; Akka's default frame is 128 kB.
        var options = Run(1300, 1300);
        int port = Ports.Free();
        var progress = new ProgressLog();
        using var system = ClusterLearner.CreateSystem(new ClusterNodeOptions().WithPort(port), options);
        var run = ClusterLearner.Start(system, options, null, progress.Add);
        Assert.True(system.Settings.Config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size") > 4 * 1_701_703);
        using var cancel = new CancellationTokenSource();
        var events = new System.Collections.Concurrent.ConcurrentQueue<ClusterWorkerEvent>();
        var first = ClusterWorker.RunAsync(WorkerFor(port), events.Enqueue, cancel.Token);
        var early = await progress.WaitFor(p => p.Workers == 1 && p.Version >= 3, TimeSpan.FromSeconds(90), "the first worker node to train");
        var late = ClusterWorker.RunAsync(WorkerFor(port), null, cancel.Token);
        var joined = await progress.WaitFor(p => p.Workers == 2 && p.Version >= early.Version + 3, TimeSpan.FromSeconds(90), "the late worker node to take part");
        Assert.True(joined.Steps > early.Steps);
        Assert.Equal(0, joined.RejectedRollouts);
        // The worker node started with small frames, learned the run's size and came back with large ones.
        Assert.Contains(events, e => e.Message.Contains("needs frames", StringComparison.Ordinal));
        run.Stop();
        var result = await run.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(StopReason.Stopped, result.Reason);
        await Stop(cancel, first, late);
    }

    [Fact]
    public async Task A_PPO_learner_node_trains_worker_nodes_through_the_same_seam()
    {
        var options = new TrainingOptions()
            .WithAlgorithm(new PpoOptions().WithHiddenSizes([16]).WithWorkers(1).WithEnvironmentsPerWorker(4).WithRolloutLength(8).WithEpochs(2).WithMinibatches(2).WithSeed(3))
            .WithMaxSteps(1_000_000_000);
        int port = Ports.Free();
        var progress = new ProgressLog();
        using var system = ClusterLearner.CreateSystem(new ClusterNodeOptions().WithPort(port), options);
        var run = ClusterLearner.Start(system, options, null, progress.Add);
        using var cancel = new CancellationTokenSource();
        var worker = ClusterWorker.RunAsync(WorkerFor(port), null, cancel.Token);
        var trained = await progress.WaitFor(p => p.Workers == 1 && p.Version >= 5, TimeSpan.FromSeconds(90), "the worker node to train with PPO");
        Assert.Equal(0, trained.RejectedRollouts);
        Assert.Equal(0.0, trained.LastUpdate!.Extra["initial_ratio_error"]);
        run.Stop();
        var result = await run.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(StopReason.Stopped, result.Reason);
        await Stop(cancel, worker);
    }

    [Fact]
    public async Task A_cluster_learner_given_an_output_folder_writes_the_whole_run_folder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "advantage-cluster-folder-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = Run(16).WithOutputDirectory(folder).WithLogInterval(1).WithCheckpointInterval(4);
            int port = Ports.Free();
            var progress = new ProgressLog();
            using var system = ClusterLearner.CreateSystem(new ClusterNodeOptions().WithPort(port), options);
            var run = ClusterLearner.Start(system, options, null, progress.Add);
            using var cancel = new CancellationTokenSource();
            var worker = ClusterWorker.RunAsync(WorkerFor(port), null, cancel.Token);
            await progress.WaitFor(p => p.Workers == 1 && p.Version >= 6, TimeSpan.FromSeconds(90), "the worker node to train");
            run.Stop();
            var result = await run.Completion.WaitAsync(TimeSpan.FromSeconds(30));
            await Stop(cancel, worker);

            Assert.Empty(result.OutputProblems);
            Assert.Equal(Path.Combine(folder, "last.ckpt"), result.CheckpointPath);
            foreach (string file in new[] { "progress.csv", "episodes.csv", "summary.json", "learning_curve.png", "model.ckpt", "last.ckpt" })
                Assert.True(File.Exists(Path.Combine(folder, file)), file);
            Assert.True(Directory.Exists(Path.Combine(folder, "tensorboard")));
            using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json")));
            Assert.Equal("cluster", summary.RootElement.GetProperty("placement").GetString());
            Assert.Equal(2, summary.RootElement.GetProperty("nodes").GetInt32());
            Assert.Equal(result.Progress.Version, summary.RootElement.GetProperty("updates").GetInt64());
            Assert.Equal(result.Progress.Version + 1, File.ReadAllLines(Path.Combine(folder, "progress.csv")).Length);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task An_IMPALA_learner_node_trains_two_worker_nodes_asynchronously()
    {
        var options = new TrainingOptions()
            .WithAlgorithm(new ImpalaOptions().WithHiddenSizes([16]).WithWorkers(2).WithEnvironmentsPerWorker(4).WithRolloutLength(8).WithSeed(3))
            .WithMaxSteps(1_000_000_000);
        int port = Ports.Free();
        var progress = new ProgressLog();
        using var system = ClusterLearner.CreateSystem(new ClusterNodeOptions().WithPort(port), options);
        var run = ClusterLearner.Start(system, options, null, progress.Add);
        using var cancel = new CancellationTokenSource();
        var first = ClusterWorker.RunAsync(WorkerFor(port), null, cancel.Token);
        var second = ClusterWorker.RunAsync(WorkerFor(port), null, cancel.Token);
        // Behaviour log-probabilities and acknowledgements cross the wire: rollouts are taken, not refused.
        var trained = await progress.WaitFor(p => p.Workers == 2 && p.Version >= 20, TimeSpan.FromSeconds(90), "the worker nodes to train with IMPALA");
        Assert.Equal(0, trained.RejectedRollouts);
        Assert.Contains("lag_mean", trained.LastUpdate!.Extra.Keys);
        Assert.InRange(trained.LastUpdate.Extra["ratio_mean"], 0.5, 2.0);
        run.Stop();
        var result = await run.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(StopReason.Stopped, result.Reason);
        await Stop(cancel, first, second);
    }

    [Fact]
    public async Task Nodes_train_over_TLS_with_a_self_signed_certificate()
    {
        using var files = new TestCertificates();
        // Pinned to its own certificate (the default): both nodes share the file.
        var tls = new ClusterNodeOptions().WithTls(files.SelfSigned("node"));
        var options = Run(16);
        int port = Ports.Free();
        var progress = new ProgressLog();
        using var system = ClusterLearner.CreateSystem(tls.WithPort(port), options);
        Assert.True(system.Settings.Config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        var run = ClusterLearner.Start(system, options, null, progress.Add);
        using var cancel = new CancellationTokenSource();
        var worker = ClusterWorker.RunAsync(WorkerFor(port, tls), null, cancel.Token);
        await progress.WaitFor(p => p.Workers == 1 && p.Version >= 10, TimeSpan.FromSeconds(90), "training over TLS");
        run.Stop();
        await run.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        await Stop(cancel, worker);
    }

    [Fact]
    public async Task A_cluster_learner_continues_an_in_process_runs_last_checkpoint_and_refuses_one_of_another_environment()
    {
        string folder = Directory.CreateTempSubdirectory("advantage-handover-").FullName;
        try
        {
            var inProcess = Run(16).WithMaxSteps(3_000).WithCheckpointDirectory(folder);
            using (var local = ActorSystem.Create("local", AdvantageConfig.Default))
            {
                var finished = await Training.RunAsync(local, inProcess).WaitAsync(TimeSpan.FromSeconds(90));
                Assert.Equal(StopReason.StepBudgetExhausted, finished.Reason);
            }
            var last = Checkpoint.Load(Path.Combine(folder, "last.ckpt"));
            Assert.True(last.CanResume);

            using var system = ClusterLearner.CreateSystem(new ClusterNodeOptions().WithPort(Ports.Free()), Run(16));
            var run = ClusterLearner.Start(system, Run(16).WithResumeFrom(last));
            var progress = await run.GetProgressAsync(TimeSpan.FromSeconds(30));
            Assert.Equal((last.Progress!.Version, last.Progress.Steps, last.Progress.Episodes), (progress.Version, progress.Steps, progress.Episodes));
            run.Stop();
            var result = await run.Completion.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(last.Parameters, result.Parameters);

            var error = Assert.Throws<OptionsValidationException>(() => ClusterLearner.Start(system, Run(16).WithEnvironmentId("Acrobot-v1").WithResumeFrom(last)));
            Assert.Contains("ResumeFrom", error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_restarted_learner_resumes_from_its_checkpoint_and_the_worker_node_comes_back_to_it()
    {
        string folder = Directory.CreateTempSubdirectory("advantage-resume-").FullName;
        try
        {
            string checkpoint = Path.Combine(folder, "learner.ckpt");
            var options = Run(16).WithCheckpointInterval(5);
            var learnerOptions = new ClusterLearnerOptions().WithCheckpointPath(checkpoint);
            int port = Ports.Free();
            using var cancel = new CancellationTokenSource();
            var worker = ClusterWorker.RunAsync(WorkerFor(port), null, cancel.Token);

            var before = new ProgressLog();
            var first = ClusterLearner.CreateSystem(new ClusterNodeOptions().WithPort(port), options);
            ClusterLearner.Start(first, options, learnerOptions, before.Add);
            await before.WaitFor(p => p.Workers == 1 && p.Version >= 30, TimeSpan.FromSeconds(90), "the first learner to train");
            // Wait for a checkpoint that records progress, then take the learner away without a goodbye from the run.
            var saved = await WaitForCheckpoint(checkpoint, version => version >= 30);
            await first.Terminate().WaitAsync(TimeSpan.FromSeconds(30));

            var after = new ProgressLog();
            using var second = ClusterLearner.CreateSystem(new ClusterNodeOptions().WithPort(port), options);
            var run = ClusterLearner.Start(second, options, learnerOptions, after.Add);
            var resumed = await after.WaitFor(_ => true, TimeSpan.FromSeconds(30), "the second learner to report");
            Assert.True(resumed.Version >= saved, $"Resumed at version {resumed.Version}, the checkpoint had {saved}.");
            await after.WaitFor(p => p.Workers == 1 && p.Version >= resumed.Version + 10, TimeSpan.FromSeconds(90), "the worker node to come back to the new learner");
            run.Stop();
            await run.Completion.WaitAsync(TimeSpan.FromSeconds(30));
            await Stop(cancel, worker);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task An_environment_that_throws_on_a_worker_node_restarts_that_worker_the_restart_is_counted_and_training_goes_on()
    {
        var learnerRegistry = Advantage.Environments.EnvironmentRegistry.Builtin.Register("Faulty-v0", () => new FaultyEnvironment(-1));
        int made = 0;
        // Only the first environment made on the worker node fails, on its 7th step; the restarted worker's are healthy.
        var workerRegistry = Advantage.Environments.EnvironmentRegistry.Builtin.Register("Faulty-v0",
            () => Interlocked.Increment(ref made) == 1 ? new FaultyEnvironment(7) : new FaultyEnvironment(-1));
        var options = Run(16).WithEnvironments(learnerRegistry).WithEnvironmentId("Faulty-v0");
        int port = Ports.Free();
        var progress = new ProgressLog();
        using var system = ClusterLearner.CreateSystem(new ClusterNodeOptions().WithPort(port), options);
        var run = ClusterLearner.Start(system, options, null, progress.Add);
        using var cancel = new CancellationTokenSource();
        var worker = ClusterWorker.RunAsync(WorkerFor(port).WithEnvironments(workerRegistry), null, cancel.Token);
        var restarted = await progress.WaitFor(p => p.WorkerRestarts == 1 && p.Workers == 1, TimeSpan.FromSeconds(90), "the worker restart to be counted");
        await progress.WaitFor(p => p.Version >= restarted.Version + 10 && p.Workers == 1, TimeSpan.FromSeconds(60), "training to go on after the restart");
        run.Stop();
        await run.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        await Stop(cancel, worker);
    }

    [Fact]
    public async Task An_environment_that_always_throws_on_a_worker_node_ends_the_cluster_run_as_failed_with_the_fault()
    {
        var learnerRegistry = Advantage.Environments.EnvironmentRegistry.Builtin.Register("Faulty-v0", () => new FaultyEnvironment(-1));
        // The learner's copy is healthy (it passes the check); the worker node's fails on every environment's 7th step (step 3 of its second episode).
        var workerRegistry = Advantage.Environments.EnvironmentRegistry.Builtin.Register("Faulty-v0", () => new FaultyEnvironment(7));
        var options = Run(16).WithEnvironments(learnerRegistry).WithEnvironmentId("Faulty-v0").WithMaxWorkerRestarts(3);
        int port = Ports.Free();
        using var system = ClusterLearner.CreateSystem(new ClusterNodeOptions().WithPort(port), options);
        var run = ClusterLearner.Start(system, options);
        using var cancel = new CancellationTokenSource();
        var worker = ClusterWorker.RunAsync(WorkerFor(port).WithEnvironments(workerRegistry), null, cancel.Token);
        // Only the reason crosses the network; it is the cause, and it names the worker, the slot and the step.
        var failure = await Assert.ThrowsAsync<TrainingFailedException>(() => run.Completion.WaitAsync(TimeSpan.FromSeconds(90)));
        Assert.Equal(StopReason.Failed, failure.Result.Reason);
        Assert.Contains("MaxWorkerRestarts = 3", failure.Result.Detail);
        Assert.Contains("slot 0: Step at step 3 of its episode threw InvalidOperationException: boom: the environment failed", failure.Result.Detail);
        Assert.IsType<WorkerFaultException>(failure.InnerException);
        await Stop(cancel, worker);
    }

    private static async Task<long> WaitForCheckpoint(string path, Func<long, bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (await ticks.WaitForNextTickAsync(timeout.Token))
        {
            if (!File.Exists(path)) continue;
            try
            {
                var saved = Checkpoint.Load(path);
                Assert.True(saved.CanResume);
                long version = saved.Progress!.Version;
                if (condition(version)) return version;
            }
            catch (IOException)
            {
                // Being replaced right now; the next tick reads the new file.
            }
        }
        throw new TimeoutException("No checkpoint appeared.");
    }
}

/// <summary>An environment that throws on a chosen step (never when negative), to exercise supervision.</summary>
internal sealed class FaultyEnvironment(int failAtStep) : Advantage.Environments.IEnvironment
{
    private int steps;
    private int episodeSteps;

    public Advantage.Environments.Space ObservationSpace { get; } = Advantage.Environments.Box.Uniform([4], -1f, 1f);

    public Advantage.Environments.Space ActionSpace { get; } = new Advantage.Environments.Discrete(2);

    public void Reset(int? seed, Span<float> observation)
    {
        // Episodes restart on Reset (the environment check refuses one whose Reset(seed) depends on earlier episodes).
        episodeSteps = 0;
        observation.Fill(0.1f);
    }

    public Advantage.Environments.StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (++steps == failAtStep) throw new InvalidOperationException("boom: the environment failed");
        observation.Fill(0.2f);
        return new Advantage.Environments.StepResult(1.0, ++episodeSteps % 4 == 0, false);
    }
}
