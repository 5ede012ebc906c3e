namespace Advantage.Cli.Tests;

/// <summary>
/// What the command line itself refuses, in every command: a value that does not parse, an unknown option or command,
/// a required option left out, and the eval and cluster commands' own checks. Each is a mistake of the user's: one line
/// naming the flag (or field), exit code 2, no stack trace and no page of help.
/// </summary>
public sealed class CommandLineTests(ShortRun trained) : IClassFixture<ShortRun>, IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);
    private readonly string folder = Directory.CreateTempSubdirectory("advantage-command-line-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static void AssertOneLine(int code, string text, string expected)
    {
        Assert.True(code == 2, $"exit code {code}: {text}");
        Assert.Equal(expected, Assert.Single(Lines(text)));
    }

    private static void AssertRefused(int code, string text, string expected)
    {
        Assert.True(code == 2, $"exit code {code}: {text}");
        Assert.Contains(expected, text);
        Assert.DoesNotContain("   at ", text);
        Assert.DoesNotContain("Exception", text);
        Assert.DoesNotContain("Usage:", text);
    }

    public static TheoryData<string[], string> ParseMistakes() => new()
    {
        { ["--lr", "abc"], "--lr: 'abc' is not a number." },
        { ["--seed"], "--seed needs a value; see advantage-train --help." },
        { ["--workers", "two"], "--workers: 'two' is not a whole number." },
        { ["--workers", "1.5"], "--workers: '1.5' is not a whole number." },
        { ["--normalize-rewards", "maybe"], "'maybe' is not an option or argument of advantage-train; see advantage-train --help." },
        { ["--bogus"], "'--bogus' is not an option or argument of advantage-train; see advantage-train --help." },
        { ["nosuchcommand"], "'nosuchcommand' is not an option or argument of advantage-train; see advantage-train --help." },
        { ["eval"], "--checkpoint is required; see advantage-train eval --help." },
        { ["export", "--checkpoint", "x.ckpt"], "--output is required; see advantage-train export --help." },
        { ["check", "--env", "CartPole-v1", "--steps", "many"], "--steps: 'many' is not a whole number." },
        { ["local-cluster", "--nodes", "abc"], "--nodes: 'abc' is not a whole number." },
        { ["worker", "--join", "127.0.0.1:1", "--learner-lost-after", "soon"], "--learner-lost-after: 'soon' is not a number." },
        { ["learner", "--port", "http"], "--port: 'http' is not a whole number." },
    };

    [Theory]
    [MemberData(nameof(ParseMistakes))]
    public async Task A_value_or_name_the_command_line_cannot_read_is_one_line_and_exit_code_2(string[] args, string expected)
    {
        var (code, text) = await TrainCli.Run(args, Limit);
        AssertOneLine(code, text, expected);
    }

    [Fact]
    public async Task Help_still_wins_over_a_mistake_beside_it()
    {
        var (code, text) = await TrainCli.Run(["--lr", "abc", "--help"], Limit);
        Assert.True(code == 0, $"exit code {code}: {text}");
        Assert.Contains("Usage:", text);
    }

    [Fact]
    public async Task Eval_names_the_flag_of_each_mistake()
    {
        string model = Path.Combine(trained.Run, "model.ckpt");
        var (code, text) = await TrainCli.Run(["eval", "--checkpoint", model, "--episodes", "0"], Limit);
        AssertOneLine(code, text, "--episodes: 0 is outside [1, 1000000].");

        string missing = Path.Combine(folder, "missing.ckpt");
        (code, text) = await TrainCli.Run(["eval", "--checkpoint", missing], Limit);
        AssertOneLine(code, text, $"--checkpoint: no checkpoint at '{missing}'.");

        string corrupt = Path.Combine(folder, "corrupt.ckpt");
        File.WriteAllText(corrupt, "not a checkpoint");
        (code, text) = await TrainCli.Run(["eval", "--checkpoint", corrupt], Limit);
        AssertRefused(code, text, "--checkpoint: ");
        Assert.Single(Lines(text));

        (code, text) = await TrainCli.Run(["eval", "--checkpoint", model, "--env", "NoSuchEnv-v9"], Limit);
        AssertRefused(code, text, "--env: unknown environment 'NoSuchEnv-v9'; known: CartPole-v1");
        Assert.Single(Lines(text));
    }

    [Fact]
    public async Task The_cluster_commands_refuse_bad_node_options_before_binding_anything()
    {
        var (code, text) = await TrainCli.Run(["learner", "--port", "0", "--output", Path.Combine(folder, "learner")], Limit);
        AssertRefused(code, text, "--port 0: the learner needs a fixed port");
        (code, text) = await TrainCli.Run(["learner", "--port", "70000", "--output", Path.Combine(folder, "learner")], Limit);
        AssertRefused(code, text, "Port = 70000 is outside [0, 65535]");
        (code, text) = await TrainCli.Run(["learner", "--port", "4053", "--max-inbound-connections", "0", "--output", Path.Combine(folder, "learner")], Limit);
        AssertRefused(code, text, "MaxInboundConnections = 0 is outside [1, 1000000]");
        Assert.False(Directory.Exists(Path.Combine(folder, "learner")), "Nothing is created for a refused learner.");

        (code, text) = await TrainCli.Run(["worker", "--join", "nohost"], Limit);
        AssertRefused(code, text, "Learner = 'nohost' must be host:port");
        (code, text) = await TrainCli.Run(["worker", "--join", "127.0.0.1:1", "--workers", "0"], Limit);
        AssertRefused(code, text, "Workers = 0 is outside [1, 1024]");
        (code, text) = await TrainCli.Run(["worker", "--join", "127.0.0.1:1", "--learner-lost-after", "0.1"], Limit);
        AssertRefused(code, text, "LearnerLostAfter");
    }

    [Fact]
    public async Task A_missing_resume_checkpoint_is_refused_before_the_run_folder_is_made()
    {
        string missing = Path.Combine(folder, "none", "last.ckpt"), output = Path.Combine(folder, "resumed");
        var (code, text) = await TrainCli.Run(["--resume", missing, "--output", output], Limit);
        AssertRefused(code, text, "--resume: ");
        Assert.Contains(missing, text);
        Assert.False(Directory.Exists(output), "Nothing is created for a refused run.");
    }
}
