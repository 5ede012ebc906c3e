using System.Globalization;
using System.Text.Json;
using Advantage.Actors;
using Advantage.Learning;

namespace Advantage.Cli.Tests;

/// <summary>advantage-train's own commands, run as a user would: train, eval of its checkpoints, resume.</summary>
public sealed class TrainCliTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);
    private readonly string folder = Directory.CreateTempSubdirectory("advantage-cli-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public async Task Train_writes_checkpoints_eval_plays_them_and_resume_continues_the_counters()
    {
        string first = Path.Combine(folder, "first"), second = Path.Combine(folder, "second");
        string[] budget = ["--target-return", "1000000", "--checkpoint-interval", "10", "--quiet"];
        var (code, output) = await TrainCli.Run(["--max-steps", "3000", "--output", first, .. budget], Limit);
        Assert.True(code == 0, output);
        var last = Checkpoint.Load(Path.Combine(first, "last.ckpt"));
        Assert.True(last.CanResume);
        Assert.True(last.Progress!.Steps >= 3000, $"{last.Progress.Steps}");
        Assert.True(File.Exists(Path.Combine(first, "model.ckpt")));

        (code, output) = await TrainCli.Run(["eval", "--checkpoint", Path.Combine(first, "last.ckpt"), "--episodes", "3"], Limit);
        Assert.True(code == 0, output);
        Assert.Contains("CartPole-v1: mean return", output);
        Assert.Contains($"checkpoint at version {last.Progress.Version}", output);

        // README writes `train --resume ...`: `train` names the default command.
        (code, output) = await TrainCli.Run(["train", "--resume", Path.Combine(first, "last.ckpt"), "--max-steps", "6000", "--output", second, .. budget], Limit);
        Assert.True(code == 0, output);
        var resumed = Checkpoint.Load(Path.Combine(second, "last.ckpt"));
        Assert.True(resumed.Progress!.Steps >= 6000 && resumed.Progress.Version > last.Progress.Version, $"{resumed.Progress}");
        Assert.True(resumed.Progress.Steps - last.Progress.Steps < 6000, "The resumed run counted from the checkpoint's steps, not from zero.");

        // A bare model plays but does not resume.
        (code, output) = await TrainCli.Run(["--resume", Path.Combine(first, "model.ckpt"), "--output", Path.Combine(folder, "third")], Limit);
        Assert.Equal(2, code);
        Assert.Contains("bare model", output);
    }

    [Fact]
    public async Task Resume_into_the_same_folder_appends_to_progress_and_keeps_the_totals()
    {
        // Issue 22 item 12: --resume R/last.ckpt --output R truncated progress.csv to its header and restarted wall_seconds.
        string run = Path.Combine(folder, "run");
        string[] common = ["--target-return", "1000000", "--checkpoint-interval", "10", "--log-every", "1", "--quiet", "--output", run];
        var (code, output) = await TrainCli.Run(["--max-steps", "3000", .. common], Limit);
        Assert.True(code == 0, output);
        string[] before = File.ReadAllLines(Path.Combine(run, "progress.csv"));
        double firstSeconds = Summary(run).GetProperty("wall_seconds").GetDouble();

        (code, output) = await TrainCli.Run(["--resume", Path.Combine(run, "last.ckpt"), "--max-steps", "6000", .. common], Limit);
        Assert.True(code == 0, output);
        string[] after = File.ReadAllLines(Path.Combine(run, "progress.csv"));
        Assert.Equal(before, after.Take(before.Length));
        var versions = after.Skip(1).Select(l => long.Parse(l.Split(',')[0], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Enumerable.Range(1, versions.Length).Select(v => (long)v), versions);
        var summary = Summary(run);
        Assert.Equal(versions[^1], summary.GetProperty("updates").GetInt64());
        Assert.Equal(1, summary.GetProperty("resumes").GetInt32());
        Assert.Equal(firstSeconds + summary.GetProperty("session_seconds").GetDouble(), summary.GetProperty("wall_seconds").GetDouble(), 2);
        Assert.True(File.Exists(Path.Combine(run, "learning_curve.png")));
    }

    [Fact]
    public void A_run_whose_disk_filled_up_ends_with_one_line_naming_it_and_exit_code_3()
    {
        // Issue 22 item 13 at the command line: the library's result (made here as a full disk leaves it) becomes one line.
        var progress = new TrainingProgress(4000, 2, 2000, 50, 30, 40, 1, 0, 0, null);
        var result = new TrainingResult(StopReason.Failed, false, progress, [1f], new Learning.Networks.NetworkSpec(4, [8], 2, false))
        {
            Detail = "Cannot write '/r/last.ckpt': the disk is full (No space left on device)",
            CheckpointPath = "/r/last.ckpt",
            CheckpointVersion = 30,
            OutputProblems = ["The final checkpoint (version 40) was not written: cannot write '/r/last.ckpt': the disk is full (No space left on device); the newest checkpoint on disk is '/r/last.ckpt' (version 30).",
                "summary.json was not written: cannot write '/r/summary.json': the disk is full (No space left on device)"],
        };
        var output = new StringWriter();
        var error = new StringWriter();
        int code = RunHost.Report(result, new IOException("No space left on device", 28), new TrainingOptions(), "/r", output, error);

        Assert.Equal(3, code);
        Assert.Equal("", output.ToString());
        string line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("Training failed: Cannot write '/r/last.ckpt': the disk is full (No space left on device). The run folder /r is incomplete: " +
            "newest good checkpoint: /r/last.ckpt (version 30); summary.json was not written either.", line);
    }

    private static JsonElement Summary(string run) => JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement;
}
