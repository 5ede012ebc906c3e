using System.Globalization;
using System.Text.Json;

namespace Advantage.Cluster.Tests;

/// <summary>
/// The user's environments from their own assembly (<c>--environments</c>) in a cluster (the flag itself, in every
/// command, is Advantage.Cli.Tests' EnvironmentsFlagTests), and cluster worker nodes that end with the run: they leave
/// and exit 0 with one line, a node without the run's environment exits 2 and the learner names it, and SIGTERM or SIGINT stop a node without a token of the caller's.
/// </summary>
public sealed class YourEnvironmentsTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);
    private readonly string folder = Directory.CreateTempSubdirectory("advantage-your-envs-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static void AssertNoTrace(string output)
    {
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Exception", output);
    }

    [Fact]
    public async Task Local_cluster_trains_the_users_environment_and_every_process_ends_cleanly()
    {
        string run = Path.Combine(folder, "local");
        var (code, text) = await TrainCli.Run(["local-cluster", "--nodes", "2", "--workers", "1", "--env", "Corridor-v0", "--environments", TestEnvironmentsAssembly.Corridor(),
            "--max-steps", "3000", "--output", run], Limit);
        Assert.True(code == 0, $"exit code {code}: {text}");
        Assert.Equal("StepBudgetExhausted", JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement.GetProperty("stop_reason").GetString());
        AssertNoTrace(text);
    }

    [Fact]
    public async Task When_the_run_ends_a_worker_process_leaves_and_exits_0_with_one_line_and_nobody_prints_a_trace()
    {
        int port = Ports.Free();
        var learner = new TrainProcess("learner", ["learner", "--port", I(port), "--workers", "1", "--env", "Corridor-v0", "--environments", TestEnvironmentsAssembly.Corridor(),
            "--max-steps", "3000", "--output", Path.Combine(folder, "run")]);
        using var worker = new TrainProcess("worker", ["worker", "--join", $"127.0.0.1:{I(port)}", "--environments", TestEnvironmentsAssembly.Corridor()]);
        using (learner)
        {
            Assert.True(await learner.WaitForExit(Limit) == 0, learner.Tail());
            Assert.True(await worker.WaitForExit(TimeSpan.FromSeconds(30)) == 0, worker.Tail());
        }
        string said = worker.Tail(1000);
        Assert.Contains("Worker node done: the run ended (StepBudgetExhausted); left the cluster.", said);
        Assert.DoesNotContain("joining the learner again", said);
        AssertNoTrace(said);
        AssertNoTrace(learner.Tail(1000));
    }

    [Fact]
    public async Task A_worker_process_without_the_runs_environment_exits_2_and_the_learner_names_it()
    {
        int port = Ports.Free();
        using var learner = new TrainProcess("learner", ["learner", "--port", I(port), "--workers", "1", "--env", "Corridor-v0", "--environments", TestEnvironmentsAssembly.Corridor(),
            "--max-steps", "3000", "--output", Path.Combine(folder, "run")]);
        using var worker = new TrainProcess("worker", ["worker", "--join", $"127.0.0.1:{I(port)}"]);
        Assert.True(await worker.WaitForExit(Limit) == 2, worker.Tail());
        const string reason = "it does not have the run's environment 'Corridor-v0' (it has CartPole-v1,";
        Assert.Contains("Worker node cannot take part: refused by the learner at 127.0.0.1:" + I(port) + ": " + reason, worker.Tail(1000));
        AssertNoTrace(worker.Tail(1000));
        string learnerSaid = learner.Tail(1000);
        Assert.Contains("Refused node akka.tcp://advantage@127.0.0.1:", learnerSaid);
        Assert.Contains(reason, learnerSaid);
        Assert.False(learner.HasExited);
    }

    [Fact]
    public async Task A_worker_refused_by_TLS_says_why_once_then_every_10_s_and_exits_2_after_its_bound()
    {
        using var files = new TestCertificates();
        var cluster = files.SelfSigned("cluster");
        var stranger = files.SelfSigned("stranger");
        int port = Ports.Free();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var learner = new TrainProcess("learner", ["learner", "--port", I(port), "--workers", "1", "--max-steps", "1000000000", "--output", Path.Combine(folder, "run"),
            "--tls-cert", cluster.CertificatePath, "--tls-password", cluster.CertificatePassword],
            line => { if (line.StartsWith("Learner listening", StringComparison.Ordinal)) listening.TrySetResult(); });
        await listening.Task.WaitAsync(Limit);
        using var worker = new TrainProcess("worker", ["worker", "--join", $"127.0.0.1:{I(port)}", "--tls-cert", stranger.CertificatePath, "--tls-password", stranger.CertificatePassword,
            "--tls-give-up-after", "12"]);
        Assert.True(await worker.WaitForExit(Limit) == 2, worker.Tail());
        var lines = worker.Tail(10_000).Split('\n').Skip(1).ToList();
        // The reason once; a line per 10 s after it; the last line. Before: about 24 lines a second, forever.
        Assert.True(lines.Count <= 5, string.Join("\n", lines));
        Assert.Single(lines, l => l.Contains("TLS refuses the connection to the learner at 127.0.0.1:" + I(port) + ": TLS: refused", StringComparison.Ordinal)
            && l.Contains("is not the cluster's certificate; giving up after 12 s", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("! Worker node cannot take part: TLS refused every connection to the learner", StringComparison.Ordinal));
        AssertNoTrace(string.Join("\n", lines));
        // The learner says it too, but at most once per 10 s, with a count of what it left out.
        Assert.True(learner.Tail(10_000).Split('\n').Count(l => l.Contains("TLS", StringComparison.Ordinal)) <= 4, learner.Tail());
        AssertNoTrace(learner.Tail(10_000));
    }

    [Theory]
    [InlineData(15)]
    [InlineData(2)]
    public async Task A_signal_stops_a_worker_process_gracefully(int signal)
    {
        int port = Ports.Free();
        var training = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var learner = new TrainProcess("learner", ["learner", "--port", I(port), "--workers", "1", "--max-steps", "1000000000", "--target-return", "1000000",
            "--output", Path.Combine(folder, "run")]);
        using var worker = new TrainProcess("worker", ["worker", "--join", $"127.0.0.1:{I(port)}"],
            line => { if (line.Contains(" started 1 workers", StringComparison.Ordinal)) training.TrySetResult(); });
        await training.Task.WaitAsync(Limit);
        worker.Signal(signal);
        Assert.True(await worker.WaitForExit(TimeSpan.FromSeconds(30)) == 0, worker.Tail());
        Assert.True(worker.Tail(1000).Contains("Worker node done: stopped; left the cluster.", StringComparison.Ordinal), worker.Tail());
        AssertNoTrace(worker.Tail(1000));
        Assert.False(learner.HasExited);
    }
}
