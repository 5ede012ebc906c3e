using System.Globalization;
using System.Text.Json;
using Advantage.Learning;

namespace Advantage.Actors.Tests;

/// <summary>
/// The run folder is the library's: any run that names an <see cref="TrainingOptions.OutputDirectory"/> writes all of it,
/// closes it before its completion says it ended, continues it on resume, and survives a disk that fills up.
/// </summary>
public sealed class RunFolderTests : ActorTestKit, IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private readonly string folder = Path.Combine(Path.GetTempPath(), "advantage-folder-" + Guid.NewGuid().ToString("N"));

    void IDisposable.Dispose()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    private TrainingOptions Tiny(bool normalize = false) => new TrainingOptions()
        .WithAlgorithm(new A2COptions { Workers = 1, EnvironmentsPerWorker = 2, RolloutLength = 5, HiddenSizes = [8], Seed = 3, LearningRate = 3e-3, NormalizeObservations = normalize })
        .WithMaxSteps(1_000_000)
        .WithoutTargetMeanReturn()
        .WithOutputDirectory(folder)
        .WithLogInterval(1);

    private static TrainingOptions StopAt(TrainingOptions options, long version) =>
        options.WithStopCondition(StopCondition.When($"version {version}", c => c.Progress.Version >= version));

    private string FilePath(string name) => Path.Combine(folder, name);

    private JsonElement Summary() => JsonDocument.Parse(File.ReadAllText(FilePath("summary.json"))).RootElement;

    private string[] Rows(string name) => File.ReadAllLines(FilePath(name)).Skip(1).ToArray();

    private static long Column(string row, int index) => long.Parse(row.Split(',')[index], CultureInfo.InvariantCulture);

    private string[] Leftovers() => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Where(f => f.Contains(".tmp", StringComparison.Ordinal)).ToArray();

    [Fact]
    public async Task A_library_run_with_an_output_folder_writes_the_whole_folder()
    {
        var options = StopAt(Tiny(normalize: true), 12)
            .WithCheckpointInterval(5)
            .WithEvaluation(new EvaluationOptions().WithEveryUpdates(4).WithEpisodes(1).WithMaxEpisodeSteps(50));
        var result = await Training.RunAsync(Sys, options).WaitAsync(Limit);

        Assert.Equal(StopReason.StopConditionMet, result.Reason);
        Assert.Empty(result.OutputProblems);
        Assert.True(result.FinalCheckpointWritten);
        Assert.Equal(FilePath("last.ckpt"), result.CheckpointPath);
        Assert.Equal(result.Progress.Version, result.CheckpointVersion);
        Assert.Equal(result.Progress.Version, Checkpoint.Load(FilePath("last.ckpt")).Progress!.Version);
        Assert.True(Checkpoint.Load(FilePath("best.ckpt")).CanResume);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(folder, "tensorboard"), "events.out.tfevents*"));

        // model.ckpt is the bare model to play: the final weights with the observation statistics they were trained with.
        var model = Checkpoint.Load(FilePath("model.ckpt"));
        Assert.False(model.CanResume);
        Assert.Equal(result.Parameters, model.Parameters);
        Assert.NotNull(model.ObservationStatistics);
        Assert.Equal("CartPole-v1", model.EnvironmentId);

        Assert.Equal(RunFolder.ProgressHeader, File.ReadLines(FilePath("progress.csv")).First());
        var rows = Rows("progress.csv");
        Assert.Equal(Enumerable.Range(1, (int)result.Progress.Version).Select(v => (long)v), rows.Select(r => Column(r, 0)));
        var episodes = Rows("episodes.csv");
        Assert.Equal(result.Progress.Episodes, episodes.Length);
        Assert.Equal(Enumerable.Range(1, episodes.Length).Select(e => (long)e), episodes.Select(r => Column(r, 0)));

        byte[] png = File.ReadAllBytes(FilePath("learning_curve.png"));
        Assert.True(png.Length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G');

        var summary = Summary();
        Assert.Equal("in-process", summary.GetProperty("placement").GetString());
        Assert.Equal("StopConditionMet", summary.GetProperty("stop_reason").GetString());
        Assert.Equal(result.Progress.Steps, summary.GetProperty("steps").GetInt64());
        Assert.Equal(result.Progress.Version, summary.GetProperty("updates").GetInt64());
        Assert.Equal(result.Progress.Episodes, summary.GetProperty("episodes").GetInt64());
        Assert.Equal(RunFolder.Hash(result.Parameters), summary.GetProperty("parameters_sha256").GetString());
        Assert.True(summary.GetProperty("final_checkpoint_written").GetBoolean());
        Assert.Equal(0, summary.GetProperty("output_problems").GetArrayLength());
        Assert.Empty(Leftovers());
    }

    [Fact]
    public async Task The_progress_log_is_complete_and_closed_when_the_completion_says_the_run_ended()
    {
        // Issue 22 item 6: the CLI's collector actor outlived its writer. Here the learner owns the logs and closes them first.
        var result = await Training.RunAsync(Sys, StopAt(Tiny(), 8)).WaitAsync(Limit);
        foreach (string name in new[] { "progress.csv", "episodes.csv" })
        {
            // Nobody holds the file any more: an exclusive open succeeds (a writer still open would hold its lock).
            using var exclusive = new FileStream(FilePath(name), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        }
        Assert.Equal(result.Progress.Version, Column(Rows("progress.csv")[^1], 0));
        Assert.Equal(result.Progress.Episodes, Column(Rows("episodes.csv")[^1], 0));
    }

    [Fact]
    public async Task Resuming_into_the_same_folder_appends_to_its_logs_and_keeps_the_totals()
    {
        var first = await Training.RunAsync(Sys, StopAt(Tiny(), 10).WithCheckpointInterval(4)).WaitAsync(Limit);
        double firstSeconds = Summary().GetProperty("wall_seconds").GetDouble();
        Assert.Equal(10, Rows("progress.csv").Length);

        var resumed = Tiny().WithResumeFrom(Checkpoint.Load(FilePath("last.ckpt")));
        var second = await Training.RunAsync(Sys, StopAt(resumed, 20)).WaitAsync(Limit);

        var rows = Rows("progress.csv");
        Assert.Equal(Enumerable.Range(1, 20).Select(v => (long)v), rows.Select(r => Column(r, 0)));
        Assert.Single(File.ReadAllLines(FilePath("progress.csv")), l => l == RunFolder.ProgressHeader);
        // The seconds column continues across the resume instead of starting again at zero.
        var seconds = rows.Select(r => double.Parse(r.Split(',')[2], CultureInfo.InvariantCulture)).ToArray();
        Assert.True(seconds[10] >= seconds[9], $"row 11 at {seconds[10]} s, row 10 at {seconds[9]} s");
        var episodes = Rows("episodes.csv");
        Assert.Equal(second.Progress.Episodes, episodes.Length);
        Assert.Equal(Enumerable.Range(1, episodes.Length).Select(e => (long)e), episodes.Select(r => Column(r, 0)));
        Assert.True(first.Progress.Episodes < episodes.Length);

        var summary = Summary();
        Assert.Equal(1, summary.GetProperty("resumes").GetInt32());
        Assert.Equal(20, summary.GetProperty("updates").GetInt64());
        double session = summary.GetProperty("session_seconds").GetDouble();
        Assert.Equal(firstSeconds + session, summary.GetProperty("wall_seconds").GetDouble(), 2);
        Assert.True(firstSeconds > 0);
    }

    [Fact]
    public void A_resume_from_an_earlier_checkpoint_keeps_the_rows_up_to_it_and_drops_the_discarded_ones()
    {
        Directory.CreateDirectory(folder);
        File.WriteAllLines(FilePath("progress.csv"), [RunFolder.ProgressHeader, .. Enumerable.Range(1, 6).Select(v => $"{v},{v * 10},{v * 0.5},1,{v},0,0,0,0,0,100")]);
        File.WriteAllLines(FilePath("episodes.csv"), [RunFolder.EpisodesHeader, .. Enumerable.Range(1, 9).Select(e => $"{e},{e * 7},{e},{e},0")]);
        var resumed = new CheckpointProgress(Version: 4, Steps: 40, Episodes: 5, RecentReturns: []);

        var runFolder = new RunFolder(folder, Tiny(), resumed, RunDisk.Real);
        runFolder.Write(new UpdateFinished("r", 5, 50, new UpdateMetrics(0, 0, 0, 0, 0, 10), 100) { Seconds = 0.25, Episodes = 6 });
        runFolder.Write(new EpisodeFinished("r", 50, 6, 3.0, 3, 0));
        runFolder.Flush();

        Assert.Equal(2.0, runFolder.SecondsBefore);
        Assert.Equal([1L, 2, 3, 4, 5], Rows("progress.csv").Select(r => Column(r, 0)));
        Assert.Equal("2.25", Rows("progress.csv")[^1].Split(',')[2]);
        Assert.Equal([1L, 2, 3, 4, 5, 6], Rows("episodes.csv").Select(r => Column(r, 0)));
    }

    [Fact]
    public async Task A_final_checkpoint_that_could_not_be_written_is_said_in_the_result_and_the_summary()
    {
        // Issue 22 item 7: the out-of-descriptors retry window swallowed the final write and the run reported a normal end.
        var disk = new FillingDisk(path => path.EndsWith("last.ckpt", StringComparison.Ordinal) || path.Contains("last.ckpt.tmp", StringComparison.Ordinal), TooManyOpenFiles);
        var options = Tiny().WithCheckpointInterval(2).WithStopCondition(StopCondition.When("version 5", c =>
        {
            if (c.Progress.Version < 5) return false;
            disk.Full = true;
            return true;
        }));
        var result = await Training.Start(Sys, options, null, disk).Completion.WaitAsync(Limit);

        Assert.Equal(StopReason.StopConditionMet, result.Reason);
        Assert.Equal(5, result.Progress.Version);
        Assert.False(result.FinalCheckpointWritten);
        Assert.Equal(FilePath("last.ckpt"), result.CheckpointPath);
        Assert.Equal(4, result.CheckpointVersion);
        Assert.Equal(4, Checkpoint.Load(FilePath("last.ckpt")).Progress!.Version);
        string problem = Assert.Single(result.OutputProblems);
        Assert.Contains("final checkpoint (version 5) was not written", problem);
        Assert.Contains("out of file descriptors", problem);

        var summary = Summary();
        Assert.False(summary.GetProperty("final_checkpoint_written").GetBoolean());
        Assert.Equal(4, summary.GetProperty("checkpoint_version").GetInt64());
        Assert.Equal(problem, summary.GetProperty("output_problems")[0].GetString());
        Assert.Empty(Leftovers());
    }

    [Fact]
    public async Task A_full_disk_ends_the_run_naming_it_keeps_the_newest_checkpoint_removes_temporary_files_and_writes_the_summary_when_it_fits()
    {
        // Issue 22 item 13, checkpoints no longer fit (a 50 kB checkpoint on a nearly full disk) but a small summary does.
        var disk = new FillingDisk(path => path.Contains(".ckpt", StringComparison.Ordinal));
        var options = Tiny().WithCheckpointInterval(2).WithStopCondition(StopCondition.When("never", c =>
        {
            if (c.Progress.Version >= 4) disk.Full = true;
            return false;
        }));
        var failed = await Assert.ThrowsAsync<TrainingFailedException>(() => Training.Start(Sys, options, null, disk).Completion.WaitAsync(Limit));
        var result = failed.Result;

        Assert.Equal(StopReason.Failed, result.Reason);
        Assert.IsAssignableFrom<IOException>(failed.InnerException);
        Assert.StartsWith($"Cannot write '{FilePath("last.ckpt")}': the disk is full", result.Detail);
        Assert.DoesNotContain("\n", result.Detail);
        Assert.Equal(FilePath("last.ckpt"), result.CheckpointPath);
        Assert.Equal(4, result.CheckpointVersion);
        Assert.Equal(4, Checkpoint.Load(FilePath("last.ckpt")).Progress!.Version);
        Assert.False(result.FinalCheckpointWritten);
        Assert.Empty(Leftovers());
        Assert.False(File.Exists(FilePath("model.ckpt")));

        var summary = Summary();
        Assert.Equal("Failed", summary.GetProperty("stop_reason").GetString());
        Assert.Equal(4, summary.GetProperty("checkpoint_version").GetInt64());
        Assert.Contains(summary.GetProperty("output_problems").EnumerateArray(), p => p.GetString()!.Contains("model.ckpt", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_disk_with_no_room_at_all_says_the_summary_was_not_written()
    {
        var disk = new FillingDisk(_ => true);
        var options = Tiny().WithCheckpointInterval(2).WithStopCondition(StopCondition.When("never", c =>
        {
            if (c.Progress.Version >= 4) disk.Full = true;
            return false;
        }));
        var failed = await Assert.ThrowsAsync<TrainingFailedException>(() => Training.Start(Sys, options, null, disk).Completion.WaitAsync(Limit));
        var result = failed.Result;

        Assert.Equal(StopReason.Failed, result.Reason);
        Assert.Equal(4, Checkpoint.Load(FilePath("last.ckpt")).Progress!.Version);
        Assert.False(File.Exists(FilePath("summary.json")));
        Assert.Contains(result.OutputProblems, p => p.StartsWith("summary.json was not written: ", StringComparison.Ordinal) && p.Contains("the disk is full", StringComparison.Ordinal));
        Assert.Contains(result.OutputProblems, p => p.StartsWith("progress.csv is missing its last rows", StringComparison.Ordinal));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public async Task An_output_folder_that_cannot_be_created_fails_the_run_in_one_line_naming_it()
    {
        Directory.CreateDirectory(folder);
        string blocked = Path.Combine(folder, "a-file");
        File.WriteAllText(blocked, "");
        var options = Tiny().WithOutputDirectory(Path.Combine(blocked, "run"));
        var failed = await Assert.ThrowsAsync<TrainingFailedException>(() => Training.RunAsync(Sys, options).WaitAsync(Limit));
        Assert.Equal(StopReason.Failed, failed.Result.Reason);
        Assert.StartsWith($"Cannot write '{Path.Combine(blocked, "run")}'", failed.Result.Detail);
        Assert.DoesNotContain("\n", failed.Result.Detail);
    }

    private const int NoSpace = 28, TooManyOpenFiles = 24;

    /// <summary>A disk that, once <see cref="Full"/>, refuses writes to the files <paramref name="refuses"/> names, part-way through like a real one.</summary>
    private sealed class FillingDisk(Func<string, bool> refuses, int errno = NoSpace) : RunDisk
    {
        public volatile bool Full;

        public override Stream Create(string path) => new Filling(base.Create(path), () => Full && refuses(path), errno);

        public override Stream Append(string path) => new Filling(base.Append(path), () => Full && refuses(path), errno);
    }

    /// <summary>Writes through to the real file until the disk is full, then writes a few bytes more and throws as the OS would.</summary>
    private sealed class Filling(Stream inner, Func<bool> full, int errno) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (full())
            {
                inner.Write(buffer[..Math.Min(buffer.Length, 16)]);
                inner.Flush();
                throw new IOException(errno == NoSpace ? "No space left on device" : "Too many open files", errno);
            }
            inner.Write(buffer);
        }

        public override void Flush()
        {
            if (full()) throw new IOException(errno == NoSpace ? "No space left on device" : "Too many open files", errno);
            inner.Flush();
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
