using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Advantage.Learning;

namespace Advantage.Actors;

/// <summary>Where a run executed, for its summary.</summary>
/// <param name="Name">"in-process" or "cluster".</param>
/// <param name="Nodes">Processes taking part (1 in one process; the cluster's members when it ended).</param>
internal sealed record Placement(string Name, int Nodes);

/// <summary>
/// The run folder of <see cref="TrainingOptions.OutputDirectory"/>, written by the learner that owns it, in every placement:
/// <c>progress.csv</c> (a row every <see cref="TrainingOptions.LogInterval"/> updates), <c>episodes.csv</c> (every episode),
/// and at the end <c>learning_curve.png</c>, <c>model.ckpt</c> and <c>summary.json</c> (the checkpoints and TensorBoard
/// events have writers of their own). It is written on the learner's thread, so everything is on disk before the run's
/// completion says it ended, and the files are closed before that. A file that cannot be written (a full disk) is given up
/// with one problem naming it, never with an exception into the run: training goes on, and the result lists what is missing.
/// </summary>
/// <remarks>
/// A run resumed into the folder that holds its earlier part continues it: the rows and episodes up to the resumed
/// checkpoint are kept (later ones belong to a trajectory the resume discards), new ones are appended, wall time and the
/// rejected and restart counters continue from the earlier part, and the curve is drawn from every episode.
/// </remarks>
internal sealed class RunFolder
{
    /// <summary>progress.csv's columns.</summary>
    public const string ProgressHeader = "updates,steps,seconds,mean_return,episodes,policy_loss,value_loss,entropy,grad_norm,explained_variance,steps_per_second";

    /// <summary>episodes.csv's columns.</summary>
    public const string EpisodesHeader = "episode,steps,return,length,worker";

    private readonly string folder;
    private readonly TrainingOptions options;
    private readonly RunDisk disk;
    private readonly List<(long Steps, double Return)> episodes = [];
    private readonly List<string> problems = [];
    private readonly Earlier earlier;
    private Log? progress;
    private Log? episodeLog;
    private bool closed;
    private readonly CollapseWatch collapse = new();

    /// <summary>
    /// Whether to watch for a collapse at all: only a categorical policy's entropy has a floor of zero that means
    /// "deterministic"; a Gaussian's is negative whenever its standard deviation is small (MountainCarContinuous's
    /// preset starts there), so near-zero entropy says nothing about it.
    /// </summary>
    public bool WatchCollapse { get; init; } = true;

    /// <summary>What the folder held of the run's earlier part (zero for a fresh run).</summary>
    private readonly record struct Earlier(double Seconds, long Rejected, long Restarts, int Resumes, long ShortRounds = 0);

    /// <summary>Opens the folder (creating it) and its logs; continues them when <paramref name="resumed"/> is the run's earlier part.</summary>
    /// <exception cref="RunWriteException">The folder cannot be created.</exception>
    public RunFolder(string folder, TrainingOptions options, CheckpointProgress? resumed, RunDisk disk)
    {
        this.folder = folder;
        this.options = options;
        this.disk = disk;
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (DiskProblem.Is(e))
        {
            throw new RunWriteException(folder, e);
        }
        earlier = resumed is null ? default : Continue(resumed);
        progress = Open("progress.csv", ProgressHeader, resumed is not null);
        episodeLog = Open("episodes.csv", EpisodesHeader, resumed is not null);
    }

    /// <summary>The folder.</summary>
    public string Path => folder;

    /// <summary>Total wall time of the run's earlier parts, which this part's seconds continue.</summary>
    public double SecondsBefore => earlier.Seconds;

    /// <summary>Takes an event of the run into the logs.</summary>
    public void Write(TrainingEvent trainingEvent)
    {
        if (closed) return;
        if (trainingEvent is UpdateFinished update && WatchCollapse) collapse.Observe(update.Steps, update.MeanReturn, update.Metrics.Entropy);
        switch (trainingEvent)
        {
            case EpisodeFinished e:
                episodes.Add((e.Steps, e.Return));
                Append(ref episodeLog, string.Join(",", I(e.Episode), I(e.Steps), F(e.Return), I(e.Length), I(e.WorkerId)));
                break;
            case UpdateFinished u when u.Version % options.LogInterval == 0:
                var m = u.Metrics;
                Append(ref progress, string.Join(",", I(u.Version), I(u.Steps), F(earlier.Seconds + u.Seconds), F(u.MeanReturn), I(u.Episodes),
                    F(m.PolicyLoss), F(m.ValueLoss), F(m.Entropy), F(m.GradNorm), F(m.ExplainedVariance), F(u.StepsPerSecond)));
                break;
        }
    }

    /// <summary>Pushes the logs to disk (at every progress report and checkpoint), so a crash loses little and a resume finds the rows.</summary>
    public void Flush()
    {
        Flush(ref progress);
        Flush(ref episodeLog);
    }

    /// <summary>
    /// Ends the folder: closes the logs, then writes <c>learning_curve.png</c>, <c>model.ckpt</c> and, last, <c>summary.json</c>
    /// (which lists every problem, <paramref name="runProblems"/> included). Returns the problems of the folder's own files,
    /// <c>summary.json</c>'s among them when it could not be written.
    /// </summary>
    public IReadOnlyList<string> Finish(TrainingResult result, Checkpoint model, Placement placement, IReadOnlyList<string> runProblems)
    {
        if (closed) return [];
        Close(ref progress);
        Close(ref episodeLog);
        closed = true;
        var algorithm = options.Algorithm;
        Try("learning_curve.png", path => disk.WriteAtomically(path,
            LearningCurve.Png($"{algorithm.Algorithm.ToUpperInvariant()} on {options.EnvironmentId}, seed {algorithm.Seed}", episodes, options.ReturnWindow)));
        Try("model.ckpt", path => model.Save(path, disk.Create));
        var final = result.Progress;
        var summary = new Dictionary<string, object?>
        {
            ["environment"] = options.EnvironmentId,
            ["placement"] = placement.Name,
            ["nodes"] = placement.Nodes,
            ["algorithm"] = algorithm.Algorithm,
            ["solved"] = result.Solved,
            ["stop_reason"] = result.Reason.ToString(),
            ["stop_detail"] = result.Detail,
            ["steps"] = final.Steps,
            ["updates"] = final.Version,
            ["wall_seconds"] = Math.Round(earlier.Seconds + final.Seconds, 3),
            ["session_seconds"] = Math.Round(final.Seconds, 3),
            ["resumes"] = earlier.Resumes + (options.ResumeFrom is null ? 0 : 1),
            ["mean_return"] = double.IsNaN(final.MeanReturn) ? null : Math.Round(final.MeanReturn, 3),
            ["return_window"] = options.ReturnWindow,
            ["steps_per_second"] = Math.Round(final.StepsPerSecond, 1),
            ["episodes"] = final.Episodes,
            ["rejected_rollouts"] = earlier.Rejected + final.RejectedRollouts,
            ["worker_restarts"] = earlier.Restarts + final.WorkerRestarts,
            // A simulation run's rounds that closed without some simulations (0 for built-in workers), over every part of the run.
            ["short_rounds"] = earlier.ShortRounds + result.ShortRounds,
            ["seed"] = algorithm.Seed,
            ["workers"] = algorithm.Workers,
            ["envs_per_worker"] = algorithm.EnvironmentsPerWorker,
            ["rollout"] = algorithm.RolloutLength,
            ["resumed_from_version"] = options.ResumeFrom?.Progress?.Version,
            ["parameters_sha256"] = Hash(result.Parameters),
            // A policy whose entropy stayed near zero while returns fell (CollapseWatch); null when none was seen.
            ["collapse"] = collapse.Collapse is { } c
                ? new Dictionary<string, object?> { ["steps"] = c.Steps, ["entropy"] = c.Entropy, ["best_mean_return"] = Math.Round(c.BestMeanReturn, 3), ["mean_return"] = Math.Round(c.MeanReturn, 3), ["message"] = collapse.Describe() }
                : null,
            ["final_checkpoint_written"] = result.FinalCheckpointWritten,
            ["checkpoint"] = result.CheckpointPath,
            ["checkpoint_version"] = result.CheckpointPath is null ? null : result.CheckpointVersion,
            ["output_problems"] = runProblems.Concat(problems).ToArray(),
            ["finished_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        };
        if (!Try("summary.json", path => disk.WriteAtomically(path, JsonSerializer.SerializeToUtf8Bytes(summary, new JsonSerializerOptions { WriteIndented = true }))))
            problems[^1] = $"summary.json was not written: {problems[^1]}";
        return problems.ToArray();
    }

    /// <summary>SHA-256 of the parameters' bytes: equal hashes mean bit-identical networks.</summary>
    public static string Hash(float[] parameters) =>
        Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(parameters.AsSpan())));

    /// <summary>
    /// Reads what the folder holds of the run up to <paramref name="resumed"/>: keeps those rows and episodes (rewriting a log
    /// only when it went further), loads the episodes for the curve, and takes the totals from the summary that ended at the
    /// resumed version, else from the last kept row.
    /// </summary>
    private Earlier Continue(CheckpointProgress resumed)
    {
        var rows = Keep("progress.csv", ProgressHeader, fields => long.Parse(fields[0], CultureInfo.InvariantCulture) <= resumed.Version);
        var kept = Keep("episodes.csv", EpisodesHeader, fields => long.Parse(fields[0], CultureInfo.InvariantCulture) <= resumed.Episodes);
        foreach (var fields in kept) episodes.Add((long.Parse(fields[1], CultureInfo.InvariantCulture), Parse(fields[2])));
        double seconds = rows.Count > 0 ? Parse(rows[^1][2]) : 0;
        try
        {
            string summaryPath = System.IO.Path.Combine(folder, "summary.json");
            if (File.Exists(summaryPath) && JsonNode.Parse(File.ReadAllText(summaryPath)) is JsonObject summary
                && summary["updates"]?.GetValue<long>() == resumed.Version)
            {
                return new Earlier(summary["wall_seconds"]?.GetValue<double>() ?? seconds, summary["rejected_rollouts"]?.GetValue<long>() ?? 0,
                    summary["worker_restarts"]?.GetValue<long>() ?? 0, summary["resumes"]?.GetValue<int>() ?? 0, summary["short_rounds"]?.GetValue<long>() ?? 0);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException)
        {
            // An unreadable summary costs only the earlier totals; the rows still say how long the earlier part ran.
        }
        return new Earlier(double.IsFinite(seconds) ? seconds : 0, 0, 0, 0);
    }

    /// <summary>The data rows of a log of this format that <paramref name="keep"/> accepts; the file is rewritten without the others.</summary>
    private List<string[]> Keep(string name, string header, Func<string[], bool> keep)
    {
        string path = System.IO.Path.Combine(folder, name);
        var kept = new List<string[]>();
        if (!File.Exists(path)) return kept;
        try
        {
            var lines = File.ReadAllLines(path);
            if (lines.Length == 0 || lines[0] != header) return kept;
            bool dropped = false;
            var keptLines = new List<string> { header };
            foreach (string line in lines.Skip(1))
            {
                var fields = line.Split(',');
                bool ok;
                try
                {
                    ok = fields.Length == header.Count(c => c == ',') + 1 && keep(fields);
                }
                catch (FormatException)
                {
                    ok = false;
                }
                if (!ok)
                {
                    dropped = true;
                    continue;
                }
                kept.Add(fields);
                keptLines.Add(line);
            }
            if (dropped) disk.WriteAtomically(path, Encoding.UTF8.GetBytes(string.Join("\n", keptLines) + "\n"));
        }
        catch (Exception e) when (DiskProblem.Is(e))
        {
            problems.Add($"{name}: the earlier rows could not be kept: {DiskProblem.Describe(path, e)}");
        }
        return kept;
    }

    /// <summary>Opens a log: appended to when continuing a log of the same format, else created with its header.</summary>
    private Log? Open(string name, string header, bool continuing)
    {
        string path = System.IO.Path.Combine(folder, name);
        try
        {
            bool append = continuing && File.Exists(path) && File.ReadLines(path).FirstOrDefault() == header;
            var writer = new StreamWriter(append ? disk.Append(path) : disk.Create(path), new UTF8Encoding(false)) { NewLine = "\n" };
            if (!append) writer.WriteLine(header);
            return new Log(name, path, writer);
        }
        catch (Exception e) when (DiskProblem.Is(e))
        {
            problems.Add($"{name} was not written: {DiskProblem.Describe(path, e)}");
            return null;
        }
    }

    private void Append(ref Log? log, string line)
    {
        if (log is null) return;
        try
        {
            log.Writer.WriteLine(line);
        }
        catch (Exception e) when (DiskProblem.Is(e))
        {
            GiveUp(ref log, e);
        }
    }

    private void Flush(ref Log? log)
    {
        if (log is null) return;
        try
        {
            log.Writer.Flush();
        }
        catch (Exception e) when (DiskProblem.Is(e))
        {
            GiveUp(ref log, e);
        }
    }

    private void Close(ref Log? log)
    {
        Flush(ref log);
        log?.Writer.Dispose();
        log = null;
    }

    /// <summary>Stops writing a log that failed, with one problem for it (the rows it lost are its last ones).</summary>
    private void GiveUp(ref Log? log, Exception e)
    {
        problems.Add($"{log!.Name} is missing its last rows: {DiskProblem.Describe(log.Path, e)}");
        try
        {
            log.Writer.Dispose();
        }
        catch (Exception again) when (DiskProblem.Is(again))
        {
            // The buffer it could not write is lost with it; the problem above says so.
        }
        log = null;
    }

    /// <summary>
    /// Writes one file of the folder; a failure becomes a problem naming it. True when written. Any exception, not only the
    /// disk's: the run has ended by now, and a plot that cannot be drawn must not keep the summary from being written.
    /// </summary>
    private bool Try(string name, Action<string> write)
    {
        string path = System.IO.Path.Combine(folder, name);
        try
        {
            write(path);
            return true;
        }
        catch (Exception e)
        {
            problems.Add(DiskProblem.Is(e) ? DiskProblem.Describe(path, e) : $"cannot write '{path}': {e.GetType().Name}: {e.Message}");
            return false;
        }
    }

    private sealed record Log(string Name, string Path, StreamWriter Writer);

    private static string I(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string F(double value) => double.IsFinite(value) ? value.ToString("G6", CultureInfo.InvariantCulture) : "";

    private static double Parse(string value) => value.Length == 0 ? double.NaN : double.Parse(value, CultureInfo.InvariantCulture);
}
