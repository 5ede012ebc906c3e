using System.Globalization;
using System.Text.Json;

namespace Advantage.Cli.Tests;

/// <summary><c>--environments</c>: the user's environments from their own assembly in train, eval and check; a bad assembly is one line and exit code 2 in every command.</summary>
public sealed class EnvironmentsFlagTests : IDisposable
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
    public async Task Train_and_eval_load_the_users_assembly()
    {
        string run = Path.Combine(folder, "train");
        var (code, text) = await TrainCli.Run(["--env", "Corridor-v0", "--environments", TestEnvironmentsAssembly.Corridor(), "--max-steps", "2000", "--output", run, "--quiet"], Limit);
        Assert.True(code == 0, text);
        Assert.Equal("Corridor-v0", JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement.GetProperty("environment").GetString());
        (code, text) = await TrainCli.Run(["eval", "--checkpoint", Path.Combine(run, "model.ckpt"), "--environments", TestEnvironmentsAssembly.Corridor(), "--episodes", "2"], Limit);
        Assert.True(code == 0, text);
        Assert.StartsWith("Corridor-v0: mean return ", text);
    }

    [Fact]
    public async Task Check_checks_an_environment_of_the_users_assembly()
    {
        var (code, text) = await TrainCli.Run(["check", "--env", "Corridor-v0", "--environments", TestEnvironmentsAssembly.Corridor()], Limit);
        Assert.True(code == 0, text);
        Assert.Contains("passes its check", text);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("check")]
    [InlineData("eval")]
    [InlineData("worker")]
    [InlineData("learner")]
    [InlineData("local-cluster")]
    public async Task A_bad_environments_assembly_is_one_line_and_exit_2_in_every_command(string command)
    {
        string run = Path.Combine(folder, "run");
        string[] rest = command switch
        {
            "train" => ["--output", run],
            "eval" => ["eval", "--checkpoint", Path.Combine(folder, "none.ckpt")],
            "check" => ["check", "--env", "Corridor-v0"],
            "worker" => ["worker", "--join", "127.0.0.1:1"],
            _ => [command, "--port", I(Ports.Free()), "--output", run],
        };
        string missing = Path.Combine(folder, "NoSuch.dll");
        var (code, text) = await TrainCli.Run([.. rest, "--environments", missing], Limit);
        Assert.True(code == 2, $"exit code {code}: {text}");
        Assert.Contains($"--environments: '{missing}' does not exist", text);
        AssertNoTrace(text);

        // An assembly that exports no IEnvironmentRegistration: Advantage.Environments itself.
        string nothing = Path.Combine(Path.GetDirectoryName(TrainProcess.Executable())!, "Advantage.Environments.dll");
        (code, text) = await TrainCli.Run([.. rest, "--environments", nothing], Limit);
        Assert.True(code == 2, $"exit code {code}: {text}");
        Assert.Contains($"--environments: '{nothing}' exports no environments", text);
        AssertNoTrace(text);
        Assert.False(Directory.Exists(run));
    }
}
