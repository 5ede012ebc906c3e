using System.Globalization;
using System.Text.Json;

namespace Advantage.Cli.Tests;

/// <summary>
/// <c>--algorithms</c>: an algorithm written outside the library (samples/CustomAlgorithm's REINFORCE), loaded from its dll,
/// trains through the CLI and shows its own flags; a bad assembly is one line and exit code 2.
/// </summary>
public sealed class AlgorithmsFlagTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);
    private readonly string folder = Directory.CreateTempSubdirectory("advantage-your-algos-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Algorithm(string run) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement.GetProperty("algorithm").GetString()!;

    [Fact]
    public async Task Train_eval_and_export_run_the_users_algorithm()
    {
        string run = Path.Combine(folder, "train");
        var (code, text) = await TrainCli.Run(["--algorithms", CustomAlgorithmAssembly.Reinforce(), "--algo", "reinforce", "--huber-delta", "5", "--max-steps", "2000", "--output", run, "--quiet"], Limit);
        Assert.True(code == 0, text);
        Assert.Equal("reinforce", Algorithm(run));

        // Its checkpoint names the algorithm: reading it needs the same assembly.
        (code, text) = await TrainCli.Run(["eval", "--checkpoint", Path.Combine(run, "model.ckpt"), $"--algorithms={CustomAlgorithmAssembly.Reinforce()}", "--episodes", "2"], Limit);
        Assert.True(code == 0, text);
        Assert.StartsWith("CartPole-v1: mean return ", text);
        (code, text) = await TrainCli.Run(["export", "--checkpoint", Path.Combine(run, "model.ckpt"), "--output", Path.Combine(folder, "policy.onnx"), "--algorithms", CustomAlgorithmAssembly.Reinforce()], Limit);
        Assert.True(code == 0, text);
        Assert.True(File.Exists(Path.Combine(folder, "policy.onnx")), text);
    }

    [Fact]
    public async Task Local_cluster_passes_the_assembly_to_its_learner_and_workers()
    {
        string run = Path.Combine(folder, "cluster");
        var (code, text) = await TrainCli.Run(["local-cluster", "--nodes", "1", "--port", I(Ports.Free()), "--algorithms", CustomAlgorithmAssembly.Reinforce(), "--algo", "reinforce", "--max-steps", "2000", "--output", run, "--quiet"], Limit);
        Assert.True(code == 0, text);
        Assert.Equal("reinforce", Algorithm(run));
    }

    [Fact]
    public async Task Help_for_the_users_algorithm_shows_its_own_flag()
    {
        // Named twice (repeatable): the same registration again is a no-op, not a clash.
        var (code, text) = await TrainCli.Run(["--algorithms", CustomAlgorithmAssembly.Reinforce(), "--algo", "reinforce", $"--algorithms:{CustomAlgorithmAssembly.Reinforce()}", "--help"], Limit);
        Assert.True(code == 0, text);
        Assert.Contains("--huber-delta", text);
        Assert.Contains("--algorithms", text);

        // Without the assembly the flag does not exist.
        (code, text) = await TrainCli.Run(["--help"], Limit);
        Assert.True(code == 0, text);
        Assert.DoesNotContain("--huber-delta", text);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("eval")]
    [InlineData("worker")]
    public async Task A_bad_algorithms_assembly_is_one_line_and_exit_2(string command)
    {
        string run = Path.Combine(folder, "run");
        string[] rest = command switch
        {
            "train" => ["--output", run],
            "eval" => ["eval", "--checkpoint", Path.Combine(folder, "none.ckpt")],
            _ => ["worker", "--join", "127.0.0.1:1"],
        };
        string missing = Path.Combine(folder, "NoSuch.dll");
        string notAssembly = Path.Combine(folder, "Text.dll");
        File.WriteAllText(notAssembly, "not an assembly");
        // An assembly that exports no IAlgorithmRegistration: Advantage.Environments.
        string nothing = Path.Combine(Path.GetDirectoryName(TrainProcess.Executable())!, "Advantage.Environments.dll");
        foreach (var (path, says) in new[] { (missing, "does not exist"), (notAssembly, "is not a .NET assembly"), (nothing, "exports no algorithms") })
        {
            var (code, text) = await TrainCli.Run([.. rest, "--algorithms", path], Limit);
            Assert.True(code == 2, $"exit code {code}: {text}");
            string line = Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.StartsWith($"--algorithms: '{path}' {says}", line);
        }
        Assert.False(Directory.Exists(run));
    }
}
