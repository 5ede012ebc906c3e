using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Advantage.Actors;
using Advantage.Environments;
using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Samples.Train;

/// <summary>Where a run executes, for its folder's summary.</summary>
/// <param name="Name">"in-process" or "cluster".</param>
/// <param name="Nodes">Processes taking part (1 in one process; the learner plus worker nodes on a cluster, as far as known).</param>
public sealed record Placement(string Name, int Nodes);

/// <summary>
/// Runs one training run and writes its folder, the same in every placement: <c>progress.csv</c> (a row every
/// <c>--log-every</c> updates), <c>summary.json</c>, <c>learning_curve.png</c>, TensorBoard events, <c>last.ckpt</c>
/// (and <c>best.ckpt</c> with evaluation) and <c>model.ckpt</c>. Ctrl-C and SIGTERM stop it gracefully: the current
/// update finishes and everything above is written.
/// </summary>
public static class RunHost
{
    /// <summary>Prints the problems and returns exit code 2: a mistake of the user's, said in one line each.</summary>
    public static int Refuse(string what, IEnumerable<string> problems)
    {
        Console.Error.WriteLine(what);
        foreach (string p in problems) Console.Error.WriteLine($"  - {p}");
        return 2;
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

    /// <summary>
    /// Runs <paramref name="start"/> in <paramref name="system"/> with the folder's checkpoint and TensorBoard paths,
    /// writes the folder, and returns the exit code (0 when the run ended on its own or was stopped, 1 when it failed).
    /// </summary>
    public static int Execute(ActorSystem system, BoundRun bound, string folder, Func<Placement> placement, Func<TrainingOptions, Action<TrainingProgress>, TrainingRun> start, Func<TrainingProgress, string>? progressLine = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(start);
        var options = bound.Options! with { CheckpointDirectory = folder, TensorBoardDirectory = Path.Combine(folder, "tensorboard") };
        var algorithm = options.Algorithm;
        using var curve = new StreamWriter(Path.Combine(folder, "progress.csv"));
        curve.WriteLine("updates,steps,seconds,mean_return,episodes,policy_loss,value_loss,entropy,grad_norm,explained_variance,steps_per_second");
        var episodes = new List<(long Steps, double Return)>();
        var collector = system.ActorOf(Props.Create(() => new RunCollector(episodes, curve, bound.LogEvery)), $"run-collector-{Guid.NewGuid():N}");
        system.EventStream.Subscribe(collector, typeof(EpisodeFinished));
        system.EventStream.Subscribe(collector, typeof(UpdateFinished));
        system.EventStream.Subscribe(collector, typeof(EvaluationFinished));
        foreach (string change in bound.Changed) Console.WriteLine($"Resumed run changes {change}.");
        Console.WriteLine($"Training {algorithm.Algorithm.ToUpperInvariant()} on {options.EnvironmentId} ({placement().Name}): {algorithm.Workers} workers x {algorithm.EnvironmentsPerWorker} environments, rollout {algorithm.RolloutLength}, " +
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
        int exitCode = 0;
        try
        {
            result = run.Completion.GetAwaiter().GetResult();
        }
        catch (TrainingFailedException e)
        {
            Console.Error.WriteLine($"Training failed: {e.InnerException?.GetType().Name}: {e.InnerException?.Message}");
            result = e.Result;
            exitCode = 1;
        }
        var final = result.Progress;
        // The collector may be thousands of events behind on a loaded machine; give it time, but never lose the rest of the
        // folder to it. Nor wait for an answer that cannot come: a run also ends because its actor system shut down (a
        // cluster node that was downed), and then the collector is gone with it.
        var flushed = collector.Ask<bool>(RunCollector.Flush.Instance, TimeSpan.FromSeconds(60));
        Task.WaitAny(flushed, system.WhenTerminated);
        if (!flushed.IsCompletedSuccessfully)
        {
            Console.Error.WriteLine(system.WhenTerminated.IsCompleted
                ? "The actor system stopped before the progress log caught up; progress.csv and the learning curve may miss the last updates."
                : "The progress log did not catch up within 60 s; progress.csv and the learning curve may miss the last updates.");
        }
        lock (episodes)
            LearningCurve.Save(Path.Combine(folder, "learning_curve.png"), $"{algorithm.Algorithm.ToUpperInvariant()} on {options.EnvironmentId}, seed {algorithm.Seed}", episodes, options.ReturnWindow);
        // The policy as the run ended (statistics and action bounds with it), as a bare model: it plays, it does not resume (last.ckpt does).
        result.ToCheckpoint().WithOptimizerState(null).Save(Path.Combine(folder, "model.ckpt"));
        var where = placement();
        var summary = new Dictionary<string, object?>
        {
            ["environment"] = options.EnvironmentId,
            ["placement"] = where.Name,
            ["nodes"] = where.Nodes,
            ["algorithm"] = algorithm.Algorithm,
            ["solved"] = result.Solved,
            ["stop_reason"] = result.Reason.ToString(),
            ["stop_detail"] = result.Detail,
            ["steps"] = final.Steps,
            ["updates"] = final.Version,
            ["wall_seconds"] = Math.Round(final.Seconds, 3),
            ["mean_return"] = double.IsNaN(final.MeanReturn) ? null : Math.Round(final.MeanReturn, 3),
            ["return_window"] = options.ReturnWindow,
            ["steps_per_second"] = Math.Round(final.StepsPerSecond, 1),
            ["episodes"] = final.Episodes,
            ["rejected_rollouts"] = final.RejectedRollouts,
            ["worker_restarts"] = final.WorkerRestarts,
            ["seed"] = algorithm.Seed,
            ["workers"] = algorithm.Workers,
            ["envs_per_worker"] = algorithm.EnvironmentsPerWorker,
            ["rollout"] = algorithm.RolloutLength,
            ["resumed_from_version"] = options.ResumeFrom?.Progress?.Version,
            ["parameters_sha256"] = Hash(result.Parameters),
            ["finished_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        };
        File.WriteAllText(Path.Combine(folder, "summary.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"{(result.Solved ? "Solved" : "Stopped")} ({result.Reason}): {final.Steps:N0} steps in {final.Seconds:F2} s " +
            $"({final.StepsPerSecond:N0} steps/s), mean return over the last {options.ReturnWindow} episodes {final.MeanReturn:F1}. Wrote {folder}.");
        return exitCode;
    }

    /// <summary>SHA-256 of the parameters' bytes: equal hashes mean bit-identical networks.</summary>
    public static string Hash(float[] parameters) =>
        Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(parameters.AsSpan())));

    private static string Line(TrainingProgress p)
    {
        var u = p.LastUpdate;
        return $"steps {p.Steps,10:N0}  t {p.Seconds,6:F1}s  {p.StepsPerSecond,9:N0} steps/s  mean return {p.MeanReturn,7:F1}  episodes {p.Episodes,6}  " +
            $"pi {u?.PolicyLoss,7:F3}  v {u?.ValueLoss,8:F3}  H {u?.Entropy,5:F3}  ev {u?.ExplainedVariance,6:F3}";
    }

    /// <summary>A host-side actor that follows the run on the event stream, as any host actor would.</summary>
    /// <summary>How the run's advantages are estimated, for the banner.</summary>
    private static string Estimator(AlgorithmOptions algorithm) => algorithm switch
    {
        ImpalaOptions impala => $"asynchronous V-trace lambda {impala.TraceLambda} (batches of {impala.Asynchrony!.BatchRollouts} rollouts, max lag {impala.MaxLag})",
        { Estimator: AdvantageEstimator.Gae } => $"GAE lambda {algorithm.GaeLambda}",
        _ => "n-step returns",
    };

    private sealed class RunCollector : ReceiveActor
    {
        public sealed record Flush
        {
            public static readonly Flush Instance = new();
        }

        public RunCollector(List<(long Steps, double Return)> episodes, StreamWriter curve, int logEvery)
        {
            Receive<EpisodeFinished>(e => { lock (episodes) episodes.Add((e.Steps, e.Return)); });
            Receive<UpdateFinished>(u =>
            {
                if (u.Version % logEvery != 0) return;
                var m = u.Metrics;
                curve.WriteLine(string.Join(",", u.Version, u.Steps, F(u.Seconds), F(u.MeanReturn), u.Episodes,
                    F(m.PolicyLoss), F(m.ValueLoss), F(m.Entropy), F(m.GradNorm), F(m.ExplainedVariance), F(u.StepsPerSecond)));
            });
            Receive<EvaluationFinished>(e => Console.WriteLine(
                $"evaluation at {e.Steps:N0} steps (version {e.Version}): mean return {e.Result.MeanReturn:F1} +/- {e.Result.StdReturn:F1}{(e.IsBest ? ", new best" : "")}"));
            Receive<Flush>(_ =>
            {
                curve.Flush();
                Sender.Tell(true);
            });
        }
    }

    private static string F(double value) => double.IsFinite(value) ? value.ToString("G6", CultureInfo.InvariantCulture) : "";
}
