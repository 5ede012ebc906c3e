namespace Advantage.Cli.Tests;

/// <summary>A short CartPole-v1 run whose checkpoints the export tests read (trained once for the class).</summary>
public sealed class ShortRun : IDisposable
{
    public ShortRun()
    {
        Folder = Directory.CreateTempSubdirectory("advantage-export-").FullName;
        Run = Path.Combine(Folder, "run");
        var (code, output) = TrainCli.Run(["--max-steps", "1000", "--target-return", "1000000", "--quiet", "--output", Run], TimeSpan.FromMinutes(2)).GetAwaiter().GetResult();
        Assert.True(code == 0, output);
    }

    public string Folder { get; }

    public string Run { get; }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

/// <summary><c>export</c>: every mistake is one line naming the flag, exit code 2, and leaves the output as it was (what a good export writes is Advantage.Onnx.Tests').</summary>
public sealed class ExportCommandTests(ShortRun trained) : IClassFixture<ShortRun>
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    public static TheoryData<string, string, string> Mistakes() => new()
    {
        { "missing", "none", "--checkpoint: no checkpoint at" },
        { "corrupt", "fresh", "--checkpoint: " },
        { "folder-without-model", "fresh", "is a folder without model.ckpt" },
        { "good", "exists", "--output: '" },
        { "good", "under-a-file", "--output: cannot write" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public async Task A_mistake_is_one_line_naming_the_flag_and_exit_code_2(string checkpointKind, string outputKind, string expected)
    {
        string dir = Directory.CreateTempSubdirectory("advantage-export-mistake-").FullName;
        try
        {
            string checkpoint = checkpointKind switch
            {
                "missing" => Path.Combine(dir, "missing.ckpt"),
                "folder-without-model" => Directory.CreateDirectory(Path.Combine(dir, "empty-run")).FullName,
                "corrupt" => Corrupt(Path.Combine(dir, "corrupt.ckpt")),
                _ => Path.Combine(trained.Run, "model.ckpt"),
            };
            string output = outputKind switch
            {
                "exists" => Existing(Path.Combine(dir, "model.onnx")),
                "under-a-file" => Path.Combine(Existing(Path.Combine(dir, "a-file")), "model.onnx"),
                _ => Path.Combine(dir, "model.onnx"),
            };
            byte[]? before = File.Exists(output) ? File.ReadAllBytes(output) : null;
            var (code, text) = await TrainCli.Run(["export", "--checkpoint", checkpoint, "--output", output], Limit);
            Assert.True(code == 2, $"exit code {code}: {text}");
            Assert.Contains(expected, text);
            Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.DoesNotContain("   at ", text);
            Assert.DoesNotContain("Exception", text);
            if (before is not null) Assert.Equal(before, File.ReadAllBytes(output));
            else Assert.False(File.Exists(output));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Corrupt(string path)
    {
        File.WriteAllText(path, "not a checkpoint");
        return path;
    }

    private static string Existing(string path)
    {
        File.WriteAllText(path, "already here");
        return path;
    }
}
