using System.Text.Json;

namespace Advantage.Cluster.Tests;

/// <summary><c>local-cluster</c>: its <c>--workers</c> counts worker actors per process, and the run's checks see the total.</summary>
public sealed class LocalClusterTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("advantage-local-cluster-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public async Task Checks_that_depend_on_the_worker_total_see_nodes_times_workers_per_node()
    {
        // 2 nodes x 1 worker x 1 environment x rollout 2 = 4 transitions a round: 4 minibatches fit the run, though not one node.
        string output = Path.Combine(folder, "ppo");
        var (code, text) = await TrainCli.Run(
            ["local-cluster", "--algo", "ppo", "--nodes", "2", "--workers", "1", "--envs-per-worker", "1", "--rollout", "2", "--minibatches", "4",
             "--max-steps", "40", "--target-return", "1000000", "--output", output, "--quiet"], TimeSpan.FromSeconds(120));
        Assert.True(code == 0, $"exit code {code}: {text}");
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json"))).RootElement;
        Assert.Equal("StepBudgetExhausted", summary.GetProperty("stop_reason").GetString());
    }
}
