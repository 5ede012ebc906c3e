using System.Runtime.InteropServices;
using Advantage.Actors;
using Advantage.Environments;
using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Cli;

/// <summary>
/// Runs one training run with its folder, the same in every placement. The library writes the folder (the run's
/// <see cref="TrainingOptions.OutputDirectory"/>): <c>progress.csv</c> (a row every <c>--log-every</c> updates),
/// <c>episodes.csv</c>, <c>summary.json</c>, <c>learning_curve.png</c>, TensorBoard events, <c>last.ckpt</c> (and
/// <c>best.ckpt</c> with evaluation) and <c>model.ckpt</c>; this shell picks the folder, prints, and turns Ctrl-C and SIGTERM
/// into a graceful stop (the current update finishes and everything above is written).
/// </summary>
internal static class RunHost
{
    /// <summary>Prints the problems and returns exit code 2: a mistake of the user's, said in one line each.</summary>
    public static int Refuse(string what, IEnumerable<string> problems)
    {
        Console.Error.WriteLine(what);
        foreach (string p in problems) Console.Error.WriteLine($"  - {p}");
        return 2;
    }

    /// <summary>
    /// The checkpoint file that <c>--checkpoint</c> names: the file itself, or a finished run folder's model.ckpt (as
    /// <see cref="TrainedPolicy.Load"/> reads it). Null, after one line naming the flag, when there is none.
    /// </summary>
    internal static string? CheckpointFile(string from)
    {
        string file = Directory.Exists(from) ? Path.Combine(from, TrainedPolicy.RunFolderModel) : from;
        if (File.Exists(file)) return file;
        Console.Error.WriteLine(Directory.Exists(from)
            ? $"--checkpoint: '{from}' is a folder without {TrainedPolicy.RunFolderModel}; pass a finished run's folder or a checkpoint file."
            : $"--checkpoint: no checkpoint at '{from}'.");
        return null;
    }

    /// <summary>
    /// The run folder to write: the user's (refused when it is a file, cannot be created, or holds another run and
    /// <c>--overwrite</c> is not given; a run resumed from a checkpoint inside it may continue there), or a fresh
    /// default name. Null (after printing why) when it cannot be used.
    /// </summary>
    public static string? PrepareFolder(BoundRun bound)
    {
        var options = bound.Options!;
        string folder = bound.Output ?? Path.Combine("runs", $"{options.EnvironmentId.Replace('/', '-')}-seed{options.Algorithm.Seed}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        if (bound.Output is null)
        {
            string candidate = folder;
            for (int i = 2; Directory.Exists(candidate) || File.Exists(candidate); i++) candidate = $"{folder}-{i}";
            folder = candidate;
        }
        if (File.Exists(folder))
        {
            Console.Error.WriteLine($"--output: '{folder}' is a file, not a folder.");
            return null;
        }
        bool resumingHere = options.ResumeFrom is not null && bound.Output is not null;
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any() && !bound.Overwrite && !resumingHere)
        {
            Console.Error.WriteLine($"--output: '{folder}' already holds files (another run?); give --overwrite to write over them, or another folder.");
            return null;
        }
        try
        {
            Directory.CreateDirectory(folder);
            string probe = Path.Combine(folder, $".write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            Console.Error.WriteLine($"--output: cannot write to '{folder}': {e.Message}");
            return null;
        }
        return Path.GetFullPath(folder);
    }

    /// <summary>Exit code of a run that ended but could not write all of its folder (a full or read-only disk, no file descriptors left).</summary>
    public const int OutputIncomplete = 3;

    /// <summary>
    /// Runs <paramref name="start"/> in <paramref name="system"/> with the run folder set, prints the run, and returns the exit
    /// code: 0 when the run ended on its own or was stopped, 1 when it failed, <see cref="OutputIncomplete"/> when something it
    /// had to write was not written (the one line printed says what, and which checkpoint to resume from).
    /// </summary>
    public static int Execute(ActorSystem system, BoundRun bound, string folder, string placement, Func<TrainingOptions, Action<TrainingProgress>, TrainingRun> start, Func<TrainingProgress, string>? progressLine = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(start);
        var options = bound.Options! with { OutputDirectory = folder };
        var algorithm = options.Algorithm;
        foreach (string change in bound.Changed) Console.WriteLine($"Resumed run changes {change}.");
        Console.WriteLine($"Training {algorithm.Algorithm.ToUpperInvariant()} on {options.EnvironmentId} ({placement}): {algorithm.Workers} workers x {algorithm.EnvironmentsPerWorker} environments, rollout {algorithm.RolloutLength}, " +
            $"{Estimator(algorithm)}, lr {algorithm.LearningRate}{(algorithm.LearningRateSchedule == ScheduleKind.Linear ? " (linear to 0)" : "")}, seed {algorithm.Seed}; " +
            $"stop at {(options.TargetMeanReturn is double t ? $"mean return {t} or " : "")}{options.MaxSteps:N0} steps. Run folder: {folder}");
        // Ctrl-C, SIGTERM (timeout, docker stop, systemd) and SIGQUIT all end the run the same way: after the current update,
        // with everything written. Registered before the run starts, so an early signal is not the default (abrupt) exit.
        TrainingRun? run = null;
        bool stopAsked = false;
        var gate = new Lock();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            lock (gate)
            {
                stopAsked = true;
                run?.Stop();
            }
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Stop);
        // Evaluations are printed by a host actor that follows the run's events, and is stopped with the run.
        var printer = system.ActorOf(Props.Create(() => new EvaluationPrinter()), $"evaluation-printer-{Guid.NewGuid():N}");
        try
        {
            try
            {
                var started = start(options, progress =>
                {
                    if (!bound.Quiet) Console.WriteLine(progressLine?.Invoke(progress) ?? Line(progress));
                });
                lock (gate)
                {
                    run = started;
                    if (stopAsked) run.Stop();
                }
            }
            catch (Exception e) when (e is InvalidDataException or OptionsValidationException or EnvironmentCheckException)
            {
                // An environment that fails its check: one line with the first error; `check --env` lists them all.
                Console.Error.WriteLine($"Cannot start the run: {e.Message}{(e is EnvironmentCheckException ? $" Run `advantage-train check --env {options.EnvironmentId}` for every finding." : "")}");
                return 2;
            }
            TrainingResult result;
            Exception? failure = null;
            try
            {
                result = run.Completion.GetAwaiter().GetResult();
            }
            catch (TrainingFailedException e)
            {
                result = e.Result;
                failure = e.InnerException ?? e;
            }
            return Report(result, failure, options, folder, Console.Out, Console.Error);
        }
        finally
        {
            system.Stop(printer);
        }
    }

    /// <summary>
    /// Prints how the run ended and returns the exit code. A run that could not write what it had to (its final checkpoint,
    /// a file of its folder) says so in one line, with the checkpoint to resume from and whether summary.json was written.
    /// </summary>
    /// <param name="result">How the run ended.</param>
    /// <param name="failure">The cause when the run failed; null when it ended otherwise.</param>
    /// <param name="options">The run's options.</param>
    /// <param name="folder">The run folder.</param>
    /// <param name="output">Where the normal end is printed.</param>
    /// <param name="error">Where a failure or an incomplete folder is printed.</param>
    public static int Report(TrainingResult result, Exception? failure, TrainingOptions options, string folder, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var final = result.Progress;
        bool failed = failure is not null;
        bool incomplete = result.OutputProblems.Count > 0 || failure is IOException or UnauthorizedAccessException;
        if (incomplete)
        {
            string resume = result.CheckpointPath is { } path
                ? $"newest good checkpoint: {path} (version {result.CheckpointVersion}{(result.FinalCheckpointWritten ? ", the final state" : "")})"
                : "no checkpoint of this run was written";
            string summary = result.OutputProblems.Any(p => p.StartsWith("summary.json was not written", StringComparison.Ordinal))
                ? "summary.json was not written either"
                : "summary.json written";
            string what = failed
                ? $"Training failed: {result.Detail}"
                : $"{(result.Solved ? "Solved" : "Stopped")} ({result.Reason}) at {final.Steps:N0} steps, but {char.ToLowerInvariant(result.OutputProblems[0][0])}{result.OutputProblems[0][1..]}";
            error.WriteLine($"{what.TrimEnd('.')}. The run folder {folder} is incomplete: {resume}; {summary}.");
            return OutputIncomplete;
        }
        if (failed)
        {
            error.WriteLine($"Training failed: {result.Detail}");
            return 1;
        }
        output.WriteLine($"{(result.Solved ? "Solved" : "Stopped")} ({result.Reason}): {final.Steps:N0} steps in {final.Seconds:F2} s " +
            $"({final.StepsPerSecond:N0} steps/s), mean return over the last {options.ReturnWindow} episodes {final.MeanReturn:F1}. Wrote {folder}.");
        if (CollapseMessage(folder) is { } collapse) output.WriteLine(collapse);
        return 0;
    }

    /// <summary>The summary's collapse message (a policy whose entropy stayed near zero while returns fell), if the run saw one.</summary>
    private static string? CollapseMessage(string folder)
    {
        try
        {
            string path = Path.Combine(folder, "summary.json");
            if (!File.Exists(path)) return null;
            return System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))?["collapse"]?["message"]?.GetValue<string>();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string Line(TrainingProgress p)
    {
        var u = p.LastUpdate;
        return $"steps {p.Steps,10:N0}  t {p.Seconds,6:F1}s  {p.StepsPerSecond,9:N0} steps/s  mean return {p.MeanReturn,7:F1}  episodes {p.Episodes,6}  " +
            $"pi {u?.PolicyLoss,7:F3}  v {u?.ValueLoss,8:F3}  H {u?.Entropy,5:F3}  ev {u?.ExplainedVariance,6:F3}";
    }

    /// <summary>How the run's advantages are estimated, for the banner.</summary>
    private static string Estimator(AlgorithmOptions algorithm) => algorithm switch
    {
        ImpalaOptions impala => $"asynchronous V-trace lambda {impala.TraceLambda} (batches of {impala.Asynchrony!.BatchRollouts} rollouts, max lag {impala.MaxLag})",
        { Estimator: AdvantageEstimator.Gae } => $"GAE lambda {algorithm.GaeLambda}",
        _ => "n-step returns",
    };

    /// <summary>A host-side actor that follows the run's evaluations on the event stream, as any host actor would.</summary>
    private sealed class EvaluationPrinter : ReceiveActor
    {
        public EvaluationPrinter()
        {
            Receive<EvaluationFinished>(e => Console.WriteLine(
                $"evaluation at {e.Steps:N0} steps (version {e.Version}): mean return {e.Result.MeanReturn:F1} +/- {e.Result.StdReturn:F1}{(e.IsBest ? ", new best" : "")}"));
        }

        protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(EvaluationFinished));

        protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
    }
}
