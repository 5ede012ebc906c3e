using System.Diagnostics;
using System.Globalization;
using Advantage.Actors;

namespace Advantage.Cluster.Tests;

/// <summary>A learner and worker processes of advantage-train (src/Cli) on loopback; one worker is SIGKILLed mid-run.</summary>
public class ProcessClusterTests
{
    /// <summary>A fresh run folder under the temp directory (a learner writes one like train does).</summary>
    private static string Output() => Path.Combine(Path.GetTempPath(), $"advantage-cluster-test-{Guid.NewGuid():N}");

    internal static TrainingProgress? Parse(string line) => ProgressLine.Parse(line);

    [Fact]
    public async Task A_learner_and_two_worker_processes_train_a_killed_worker_shrinks_the_round_and_a_restarted_one_rejoins()
    {
        int port = Ports.Free();
        var progress = new ProgressLog();
        var processes = new List<TrainProcess>();
        string[] common = ["--failure-pause", "4"];
        TrainProcess Worker(string name) =>
            new(name, ["worker", "--join", $"127.0.0.1:{port}", "--learner-lost-after", "30", .. common]);
        try
        {
            processes.Add(new TrainProcess("learner",
                ["learner", "--port", port.ToString(CultureInfo.InvariantCulture), "--workers", "2", "--envs-per-worker", "4", "--max-steps", "1000000000", "--target-return", "1000000", "--output", Output(), .. common],
                line => { if (Parse(line) is { } p) progress.Add(p); }));
            var a = Worker("worker-a");
            processes.Add(a);
            processes.Add(Worker("worker-b"));

            var both = await progress.WaitFor(p => p.Workers == 2 && p.Version >= 20, TimeSpan.FromSeconds(120), "both workers training");

            var clock = Stopwatch.StartNew();
            a.Kill();
            var shrunk = await progress.WaitFor(p => p.Workers == 1 && p.Version > both.Version, TimeSpan.FromSeconds(120), "the round to go on with one worker");
            // Failure detection (4 s pause, 1 s heartbeats) plus downing and removal take seconds; a learner that waited for
            // the dead worker forever would never get here. The bound is one a machine at load 20 meets.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), $"It took {clock.Elapsed} to go on without the killed worker.");
            var alone = await progress.WaitFor(p => p.Workers == 1 && p.Version >= shrunk.Version + 20, TimeSpan.FromSeconds(30), "training to continue with one worker");

            processes.Add(Worker("worker-a2"));
            var rejoined = await progress.WaitFor(p => p.Workers == 2 && p.Version >= alone.Version + 20, TimeSpan.FromSeconds(90), "the restarted worker to rejoin");
            Assert.True(rejoined.Steps > alone.Steps);
            Assert.Equal(0, rejoined.RejectedRollouts);
        }
        catch (Exception e) when (e is TimeoutException or Xunit.Sdk.XunitException)
        {
            throw new Exception(e.Message + "\n" + string.Join("\n", processes.Select(p => p.Tail())), e);
        }
        finally
        {
            foreach (var p in processes) p.Dispose();
        }
    }

    [Fact]
    public async Task A_SIGKILLed_learner_restarted_from_its_checkpoint_resumes_and_the_worker_process_comes_back_to_it()
    {
        int port = Ports.Free();
        string folder = Directory.CreateTempSubdirectory("advantage-learner-kill-").FullName;
        string checkpoint = Path.Combine(folder, "learner.ckpt");
        var processes = new List<TrainProcess>();
        string[] learnerArgs = ["learner", "--port", port.ToString(CultureInfo.InvariantCulture), "--workers", "1", "--envs-per-worker", "4", "--max-steps", "1000000000",
            "--target-return", "1000000", "--checkpoint", checkpoint, "--checkpoint-interval", "10", "--failure-pause", "4", "--output", Path.Combine(folder, "run"), "--overwrite"];
        try
        {
            var before = new ProgressLog();
            var learner = new TrainProcess("learner", learnerArgs, line => { if (Parse(line) is { } p) before.Add(p); });
            processes.Add(learner);
            processes.Add(new TrainProcess("worker", ["worker", "--join", $"127.0.0.1:{port}", "--failure-pause", "2"]));
            await before.WaitFor(p => p.Workers == 1 && p.Version >= 50, TimeSpan.FromSeconds(120), "the first learner to train");
            // A checkpoint written while training (at most one interval old) is what the next learner starts from.
            // Rounds are fast (hundreds per second), so the first checkpoints may predate any training: wait for one that does not.
            using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            using (var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(100)))
                while (SavedVersion(checkpoint) < 1 && await ticks.WaitForNextTickAsync(wait.Token)) { }
            learner.Kill();
            long saved = SavedVersion(checkpoint);
            Assert.True(saved > 0, $"The checkpoint is at version {saved}.");

            var after = new ProgressLog();
            var listening = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
            var clock = Stopwatch.StartNew();
            processes.Add(new TrainProcess("learner-2", learnerArgs, line =>
            {
                if (line.StartsWith("Learner listening", StringComparison.Ordinal)) listening.TrySetResult(clock.Elapsed);
                if (Parse(line) is { } p) after.Add(p);
            }));
            var back = await after.WaitFor(p => p.Workers == 1, TimeSpan.FromSeconds(60), "the worker process to come back to the new learner");
            var since = clock.Elapsed - await listening.Task;
            Assert.True(back.Version >= saved, $"The restarted learner is at version {back.Version}; its checkpoint had {saved}.");
            // The learner comes back at once, so the worker is still detecting the loss: failure detection (2 s pause
            // plus heartbeats), the node's grace (2 s), a fresh actor system and a join all count: under 10 s on a quiet
            // machine. Asserted is a bound a machine at load 20 meets, which a worker that waited for a learner's return
            // that never comes (its old address) would still miss.
            Assert.True(since < TimeSpan.FromSeconds(45), $"The worker came back {since.TotalSeconds:F1} s after the new learner listened.");
            await after.WaitFor(p => p.Workers == 1 && p.Version >= back.Version + 20, TimeSpan.FromSeconds(90), "the worker process to train with the new learner");
        }
        catch (Exception e) when (e is TimeoutException or Xunit.Sdk.XunitException)
        {
            throw new Exception(e.Message + "\n" + string.Join("\n", processes.Select(p => p.Tail())), e);
        }
        finally
        {
            foreach (var p in processes) p.Dispose();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static long SavedVersion(string path)
    {
        try
        {
            return File.Exists(path) ? Advantage.Learning.Checkpoint.Load(path).Progress!.Version : -1;
        }
        catch (IOException)
        {
            return -1; // replaced while being read; the next poll reads the new one
        }
    }
}

/// <summary>A cluster learner stopped by SIGTERM finishes its update and writes its checkpoint and run folder before it exits.</summary>
public class LearnerSignalTests
{
    [Fact]
    public async Task SIGTERM_to_a_training_cluster_learner_writes_its_checkpoint_and_run_folder_and_exits_0()
    {
        int port = Ports.Free();
        string folder = Directory.CreateTempSubdirectory("advantage-learner-term-").FullName;
        string checkpoint = Path.Combine(folder, "learner.ckpt"), output = Path.Combine(folder, "run");
        var training = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var processes = new List<TrainProcess>();
        try
        {
            var learner = new TrainProcess("learner", ["learner", "--port", port.ToString(CultureInfo.InvariantCulture), "--workers", "1", "--max-steps", "1000000000",
                "--target-return", "1000000", "--checkpoint", checkpoint, "--output", output],
                line => { if (line.Contains(" workers=1 ", StringComparison.Ordinal) && !line.Contains(" version=0 ", StringComparison.Ordinal)) training.TrySetResult(); });
            processes.Add(learner);
            processes.Add(new TrainProcess("worker", ["worker", "--join", $"127.0.0.1:{port}"]));
            await training.Task.WaitAsync(TimeSpan.FromSeconds(120));
            learner.Signal(15);
            Assert.Equal(0, await learner.WaitForExit(TimeSpan.FromSeconds(120)));
            var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json"))).RootElement;
            Assert.Equal("Stopped", summary.GetProperty("stop_reason").GetString());
            long updates = summary.GetProperty("updates").GetInt64();
            Assert.True(updates > 0);
            // Both checkpoints hold the final state: nothing trained is lost.
            Assert.Equal(updates, Advantage.Learning.Checkpoint.Load(checkpoint).Progress!.Version);
            Assert.Equal(updates, Advantage.Learning.Checkpoint.Load(Path.Combine(output, "last.ckpt")).Progress!.Version);
            Assert.True(File.Exists(Path.Combine(output, "model.ckpt")));
        }
        catch (Exception e) when (e is TimeoutException or Xunit.Sdk.XunitException)
        {
            throw new Exception(e.Message + "\n" + string.Join("\n", processes.Select(p => p.Tail())), e);
        }
        finally
        {
            foreach (var p in processes) p.Dispose();
            Directory.Delete(folder, recursive: true);
        }
    }
}
