using System.Globalization;
using System.Text.Json;

namespace Advantage.Cluster.Tests;

/// <summary>
/// One run, any placement: the same seed and topology in one process, as a local cluster, and as a learner and
/// worker processes started by hand give the same numbers after every update and the same final parameters.
/// </summary>
public sealed class PlacementTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(180);
    private readonly string folder = Directory.CreateTempSubdirectory("advantage-placement-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    // 2 workers x 16 environments x rollout 5 = 160 steps per update: 100 updates, every one logged.
    private static readonly string[] Run = ["--envs-per-worker", "16", "--seed", "4", "--max-steps", "16000", "--target-return", "1000000", "--log-every", "1", "--quiet"];

    [Fact]
    public async Task In_process_local_cluster_and_hand_started_nodes_give_bit_identical_updates()
    {
        string inProcess = Path.Combine(folder, "in-process"), local = Path.Combine(folder, "local-cluster"), byHand = Path.Combine(folder, "by-hand");
        var (code, output) = await TrainCli.Run(["--workers", "2", "--output", inProcess, .. Run], Limit);
        Assert.True(code == 0, output);
        (code, output) = await TrainCli.Run(["local-cluster", "--nodes", "2", "--workers", "1", "--output", local, .. Run], Limit);
        Assert.True(code == 0, output);

        int port = Ports.Free();
        var processes = new List<TrainProcess>();
        try
        {
            var learner = new TrainProcess("learner", ["learner", "--port", port.ToString(CultureInfo.InvariantCulture), "--workers", "2", "--output", byHand, .. Run]);
            processes.Add(learner);
            processes.Add(new TrainProcess("worker-a", ["worker", "--join", $"127.0.0.1:{port}"]));
            processes.Add(new TrainProcess("worker-b", ["worker", "--join", $"127.0.0.1:{port}"]));
            using var wait = new CancellationTokenSource(Limit);
            while (!learner.HasExited) await Task.Delay(100, wait.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("The hand-started cluster did not finish:\n" + string.Join("\n", processes.Select(p => p.Tail())));
        }
        finally
        {
            foreach (var p in processes) p.Dispose();
        }

        var expected = Summary(inProcess);
        Assert.Equal("in-process", expected.GetProperty("placement").GetString());
        Assert.Equal(100, expected.GetProperty("updates").GetInt64());
        string[] curve = Curve(inProcess);
        Assert.Equal(101, curve.Length);
        foreach (string other in new[] { local, byHand })
        {
            var summary = Summary(other);
            Assert.Equal("cluster", summary.GetProperty("placement").GetString());
            Assert.Equal(expected.GetProperty("steps").GetInt64(), summary.GetProperty("steps").GetInt64());
            Assert.Equal(expected.GetProperty("episodes").GetInt64(), summary.GetProperty("episodes").GetInt64());
            Assert.Equal(expected.GetProperty("parameters_sha256").GetString(), summary.GetProperty("parameters_sha256").GetString());
            // Every update's losses, entropy, gradient norm and mean return agree (wall-clock columns aside).
            Assert.Equal(curve, Curve(other));
            foreach (string file in new[] { "last.ckpt", "model.ckpt", "learning_curve.png" })
                Assert.True(File.Exists(Path.Combine(other, file)), $"{other} lacks {file}");
        }
    }

    private static JsonElement Summary(string run) => JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement;

    /// <summary>progress.csv without the wall-clock columns (seconds and steps per second).</summary>
    private static string[] Curve(string run) =>
        File.ReadAllLines(Path.Combine(run, "progress.csv"))
            .Select(line => line.Split(','))
            .Select(f => string.Join(",", f.Where((_, i) => i != 2 && i != f.Length - 1)))
            .ToArray();
}
