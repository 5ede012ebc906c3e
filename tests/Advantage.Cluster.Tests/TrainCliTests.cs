using Advantage.Learning;

namespace Advantage.Cluster.Tests;

/// <summary>The Train sample's own commands, run as a user would: train, eval of its checkpoints, resume.</summary>
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
}
