using Advantage.Learning;
using Akka.Event;

namespace Advantage.Actors;

/// <summary>
/// Everything the learner records about its run, step 5 of ARCHITECTURE.md, One synchronous round: every training
/// event to the event stream, the run folder (progress rows, episodes, the closing curve, model and summary) and
/// TensorBoard; the resumable checkpoint at its cadence and at the end (<see cref="CheckpointWriter"/>); the evaluation
/// bookkeeping (the best score, <c>best.ckpt</c>, what the stop conditions see of it); and the files the run could not
/// write, which end up in <see cref="TrainingResult.OutputProblems"/>. It decides nothing about rounds or stopping: the
/// learner actor hands it what happened. Whatever it cannot write is said, never skipped in silence; only a
/// checkpoint that cannot be written throws (the learner ends the run rather than train on without a way back).
/// </summary>
internal sealed class RunRecorder
{
    /// <summary>
    /// How long periodic checkpoint writes may keep failing for want of a file descriptor (EMFILE, ENFILE) before the
    /// run ends. A full descriptor table is what a flood of connections at a cluster learner's port does (each costs one
    /// until Akka.Remote's handshake timeout drops it), and it passes; the previous checkpoint stays whole (writes are
    /// atomic), so the run trains on and retries at the next interval. Past this, or on any other write error (a full or
    /// read-only disk does not pass), it would be training on without a way back: it ends.
    /// </summary>
    internal static readonly TimeSpan CheckpointFailureTolerance = TimeSpan.FromSeconds(60);

    private readonly TrainingOptions options;
    private readonly LearnerHosting hosting;
    private readonly ILoggingAdapter log;
    private readonly EventStream events;
    private readonly Func<long> currentVersion;
    private readonly CheckpointWriter checkpoints;
    private readonly List<string> outputProblems = [];
    private RunFolder? runFolder;
    private TensorBoardLog? tensorBoard;
    private System.Diagnostics.Stopwatch? checkpointFailing;
    private bool failing;
    private EvaluationFinished? lastEvaluation;
    private int evaluations;
    private int evaluationsSinceBest;
    private double bestEvaluation = double.NaN;

    /// <param name="options">The run's options, with their run-folder defaults applied.</param>
    /// <param name="hosting">Where the run is hosted: its name, its own checkpoint file, its disk, what it resumed.</param>
    /// <param name="log">The learner's log.</param>
    /// <param name="events">The actor system's event stream, where every training event goes.</param>
    /// <param name="currentVersion">The learner's parameter version now (what a TensorBoard failure says events stop at).</param>
    public RunRecorder(TrainingOptions options, LearnerHosting hosting, ILoggingAdapter log, EventStream events, Func<long> currentVersion)
    {
        this.options = options;
        this.hosting = hosting;
        this.log = log;
        this.events = events;
        this.currentVersion = currentVersion;
        var paths = new List<string>();
        if (options.CheckpointDirectory is { } directory) paths.Add(Path.Combine(directory, "last.ckpt"));
        if (hosting.CheckpointPath is { } own) paths.Add(own);
        checkpoints = new CheckpointWriter(paths, options.CheckpointInterval, hosting.Disk);
    }

    /// <summary>Whether the final checkpoint was written.</summary>
    public bool FinalCheckpointWritten { get; private set; }

    /// <summary>The files the run could not write so far, each in a sentence.</summary>
    public string[] OutputProblems => outputProblems.ToArray();

    /// <summary>
    /// Opens the run folder and TensorBoard's events, when the options ask for them. <paramref name="watchCollapse"/>:
    /// whether the run folder watches for a collapsing policy (a discrete policy's entropy).
    /// </summary>
    /// <remarks>A run folder that cannot be made throws (the learner fails the run); TensorBoard that cannot be written is only said.</remarks>
    public void Open(bool watchCollapse)
    {
        if (options.OutputDirectory is { } output) runFolder = new RunFolder(output, options, hosting.Resumed, hosting.Disk) { WatchCollapse = watchCollapse };
        if (options.TensorBoardDirectory is not { } board) return;
        try
        {
            tensorBoard = new TensorBoardLog(board, TensorBoardLog.Hyperparameters(options));
        }
        catch (Exception e) when (DiskProblem.Is(e))
        {
            log.Warning("TensorBoard events cannot be written; training goes on without them: {0}", e.Message);
            outputProblems.Add($"No TensorBoard events: {DiskProblem.Describe(board, e)}");
        }
    }

    /// <summary>One training event: to the event stream, the run folder (a progress row per update) and TensorBoard.</summary>
    public void Publish(TrainingEvent trainingEvent)
    {
        events.Publish(trainingEvent);
        runFolder?.Write(trainingEvent);
        try
        {
            tensorBoard?.Write(trainingEvent);
        }
        catch (Exception e) when (DiskProblem.Is(e))
        {
            log.Warning("Writing TensorBoard events failed; training goes on without them: {0}", e.Message);
            outputProblems.Add($"TensorBoard events stop at version {currentVersion()}: {DiskProblem.Describe(tensorBoard!.Folder, e)}");
            tensorBoard = null;
        }
    }

    /// <summary>Puts the run folder's rows on disk (at every progress report and checkpoint).</summary>
    public void Flush() => runFolder?.Flush();

    /// <summary>The run is failing: its one error line has said what happened, so the files it then cannot write are said at Info.</summary>
    public void MarkFailing() => failing = true;

    /// <summary>
    /// The resumable checkpoint, when the update that produced <paramref name="version"/> ends an interval;
    /// <paramref name="checkpointAt"/> is only called then.
    /// </summary>
    /// <exception cref="RunWriteException">It could not be written, for another reason than a short spell without file descriptors.</exception>
    public void CheckpointIfDue(long version, long steps, Func<Checkpoint> checkpointAt)
    {
        if (!checkpoints.Due(version)) return;
        IReadOnlyList<string> written;
        try
        {
            written = checkpoints.Write(checkpointAt());
        }
        catch (IOException e) when (DiskProblem.Passes(e)
                                    && (checkpointFailing ??= System.Diagnostics.Stopwatch.StartNew()).Elapsed < CheckpointFailureTolerance)
        {
            log.Warning("The checkpoint at version {0} could not be written ({1}); the previous one stays, retrying at the next interval for up to {2} s.",
                version, e.Message, CheckpointFailureTolerance.TotalSeconds);
            return;
        }
        Written(written, version, steps);
    }

    /// <summary>
    /// The run's last checkpoint, written whatever ended it. A write that fails is said, in the log and in the result's
    /// <see cref="TrainingResult.OutputProblems"/> (with the older checkpoint that remains), never skipped in silence.
    /// </summary>
    public void FinalCheckpoint(long version, long steps, Func<Checkpoint> checkpointAt)
    {
        if (checkpoints.Paths.Count == 0) return;
        IReadOnlyList<string> written;
        try
        {
            written = checkpoints.Write(checkpointAt());
        }
        catch (Exception e)
        {
            // Whatever it was (a full disk, or a bug in taking the checkpoint), the run is ending: say it, do not throw.
            string remains = NewestCheckpoint() is { } newest
                ? $"the newest checkpoint on disk is '{newest.Path}' (version {newest.Version})"
                : "no checkpoint of this run is on disk";
            string problem = $"The final checkpoint (version {version}) was not written: {(DiskProblem.Is(e) ? e.Message : $"{e.GetType().Name}: {e.Message}")}; {remains}.";
            Say(problem);
            outputProblems.Add(problem);
            return;
        }
        FinalCheckpointWritten = true;
        Written(written, version, steps);
    }

    private void Written(IReadOnlyList<string> written, long version, long steps)
    {
        checkpointFailing = null;
        foreach (string path in written)
            Publish(new CheckpointWritten(hosting.Run, path, CheckpointKind.Latest, version, steps));
        runFolder?.Flush();
    }

    /// <summary>
    /// The newest checkpoint of this run on disk: the last one written, or, before any, the one a resumed run continues
    /// (a fresh run does not claim a file an earlier run left in its folder).
    /// </summary>
    public (string Path, long Version)? NewestCheckpoint() =>
        checkpoints.LastPath is { } path ? (path, checkpoints.LastVersion) : hosting.Resumed is not null ? checkpoints.Existing() : null;

    /// <summary>Writes the end of the run folder (curve, model, summary) and adds its problems to the result.</summary>
    public TrainingResult Close(TrainingResult result, Func<Placement> placement)
    {
        if (runFolder is null) return result;
        // model.ckpt: the policy as the run ended (statistics and action bounds with it), as a bare model: it plays, it does not resume (last.ckpt does).
        var folderProblems = runFolder.Finish(result, result.ToCheckpoint().WithOptimizerState(null), placement(), outputProblems);
        runFolder = null;
        if (folderProblems.Count == 0) return result;
        foreach (string problem in folderProblems) Say($"Run folder: {problem}");
        outputProblems.AddRange(folderProblems);
        return result with { OutputProblems = outputProblems.ToArray() };
    }

    /// <summary>
    /// A file the run could not write: a warning when the run otherwise ends well; when it is failing, its one error line has
    /// said what happened already (a full disk fails every file after it), so the rest is in the result, and here at Info.
    /// </summary>
    private void Say(string problem)
    {
        if (failing) log.Info(problem);
        else log.Warning(problem);
    }

    /// <summary>What the stop conditions see: the progress with the evaluations so far.</summary>
    public StopCheck Check(TrainingProgress progress) => new(progress, lastEvaluation, evaluations, evaluationsSinceBest, bestEvaluation);

    /// <summary>
    /// One evaluation done: counted, and when it is the best so far, written as <c>best.ckpt</c>. The best score lives
    /// here, not in the evaluator: it survives the evaluator's restarts.
    /// </summary>
    public void Evaluated(EvaluatorActor.Evaluated evaluated)
    {
        evaluations++;
        bool isBest = double.IsNaN(bestEvaluation) || evaluated.Result.MeanReturn > bestEvaluation;
        string? bestPath = null;
        if (isBest)
        {
            evaluationsSinceBest = 0;
            bestEvaluation = evaluated.Result.MeanReturn;
            bestPath = WriteBest(evaluated);
        }
        else
        {
            evaluationsSinceBest++;
        }
        lastEvaluation = new EvaluationFinished(hosting.Run, evaluated.Version, evaluated.Steps, evaluated.Result, isBest);
        Publish(lastEvaluation);
        if (bestPath is not null) Publish(new CheckpointWritten(hosting.Run, bestPath, CheckpointKind.Best, evaluated.Version, evaluated.Steps));
    }

    /// <summary>Writes the scored checkpoint as <c>best.ckpt</c> (with its score), when the run has a checkpoint folder; null when it did not.</summary>
    private string? WriteBest(EvaluatorActor.Evaluated evaluated)
    {
        if (options.CheckpointDirectory is not { } directory) return null;
        string path = Path.Combine(directory, "best.ckpt");
        var metadata = new Dictionary<string, string>(evaluated.Snapshot.Metadata)
        {
            ["evaluation_mean_return"] = evaluated.Result.MeanReturn.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["evaluation_episodes"] = evaluated.Result.Returns.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        try
        {
            (evaluated.Snapshot with { Metadata = metadata }).Save(path);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Evaluation is a side show: a best.ckpt that cannot be written is said, not fatal (last.ckpt decides that).
            log.Warning("The best checkpoint (version {0}) could not be written: {1}", evaluated.Version, e.Message);
            return null;
        }
    }
}
