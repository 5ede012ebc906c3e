using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Advantage.Actors;
using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Actor;
using Akka.Configuration;

namespace Advantage.Samples.Train;

/// <summary>The default command: train in this process until the target or the step budget.</summary>
internal static class TrainCommand
{
    public static RootCommand Create()
    {
        var defaults = new A2COptions();

        var env = new Option<string>("--env") { Description = $"Environment id ({string.Join(", ", EnvironmentRegistry.Builtin.Ids)})", DefaultValueFactory = _ => "CartPole-v1" };
        var workers = new Option<int>("--workers") { Description = "Worker actors", DefaultValueFactory = _ => 2 };
        var envsPerWorker = new Option<int>("--envs-per-worker") { Description = "Environments per worker", DefaultValueFactory = _ => 8 };
        var rollout = new Option<int>("--rollout") { Description = "Rollout length T (steps per environment per update)", DefaultValueFactory = _ => defaults.RolloutLength };
        var gamma = new Option<double>("--gamma") { Description = "Discount factor", DefaultValueFactory = _ => defaults.Gamma };
        var gaeLambda = new Option<double?>("--gae-lambda") { Description = "Use GAE with this lambda (default: n-step returns)" };
        var lr = new Option<double>("--lr") { Description = "Learning rate", DefaultValueFactory = _ => defaults.LearningRate };
        var entCoef = new Option<double>("--ent-coef") { Description = "Entropy bonus coefficient", DefaultValueFactory = _ => defaults.EntropyCoefficient };
        var vfCoef = new Option<double>("--vf-coef") { Description = "Value loss coefficient", DefaultValueFactory = _ => defaults.ValueCoefficient };
        var maxGradNorm = new Option<double>("--max-grad-norm") { Description = "Global gradient-norm clip", DefaultValueFactory = _ => defaults.MaxGradNorm };
        var optimizer = new Option<OptimizerKind>("--optimizer") { Description = "RmsProp or Adam", DefaultValueFactory = _ => defaults.Optimizer };
        var normAdv = new Option<bool>("--normalize-advantages") { Description = "Normalise advantages per batch" };
        var normObs = new Option<bool>("--normalize-observations") { Description = "Normalise observations with running statistics learned by the learner" };
        var normRew = new Option<bool>("--normalize-rewards") { Description = "Scale rewards by the running std of the discounted return" };
        var body = new Option<BodyKind>("--body") { Description = "Network trunk: FullyConnected, MinAtarConv or NatureConv", DefaultValueFactory = _ => BodyKind.FullyConnected };
        var logStdInit = new Option<double>("--log-std-init") { Description = "Initial log std of a Gaussian policy (Box actions)", DefaultValueFactory = _ => 0.0 };
        var hidden = new Option<int[]>("--hidden") { Description = "Hidden layer widths", DefaultValueFactory = _ => [64, 64], AllowMultipleArgumentsPerToken = true };
        var seed = new Option<int>("--seed") { Description = "Seed for environments, sampling and initial weights", DefaultValueFactory = _ => 1 };
        var maxSteps = new Option<long>("--max-steps") { Description = "Step budget", DefaultValueFactory = _ => 1_000_000 };
        var target = new Option<double?>("--target-return") { Description = "Stop when the mean return of the last 100 episodes reaches this (default: 475 on CartPole-v1, none elsewhere)" };
        var output = new Option<string?>("--output") { Description = "Run folder (default: runs/<env>-<seed>-<time>)" };
        var device = new Option<string>("--device") { Description = "Torch device for the learner", DefaultValueFactory = _ => "cpu" };
        var quiet = new Option<bool>("--quiet") { Description = "Print only the summary" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run saved in this checkpoint (its algorithm options and environment are used)" };
        var checkpointEvery = new Option<int>("--checkpoint-interval") { Description = "Write last.ckpt every this many updates (0: only at the end)", DefaultValueFactory = _ => 500 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Evaluate with deterministic actions every this many updates, keeping best.ckpt (0: never)", DefaultValueFactory = _ => 0 };
        var evalEpisodes = new Option<int>("--eval-episodes") { Description = "Episodes per evaluation", DefaultValueFactory = _ => 10 };

        var root = new RootCommand("Train an A2C agent with Akka.NET worker and learner actors. Algorithm options default to the environment's measured preset (A2CPresets; CartPole-v1: 2 x 16 envs, lr 5e-3, GAE 0.9, gamma 0.98, vf-coef 0.25); options given here override it.")
        {
            env, workers, envsPerWorker, rollout, gamma, gaeLambda, lr, entCoef, vfCoef, maxGradNorm, optimizer, normAdv, normObs, normRew, body, logStdInit, hidden, seed,
            maxSteps, target, output, device, quiet, resume, checkpointEvery, evalEvery, evalEpisodes,
        };

        root.SetAction(parse =>
        {
            string envId = parse.GetValue(env)!;
            // Start from the environment's measured preset (A2CPresets); any option given on the command line wins.
            var preset = A2CPresets.For(parse.GetValue(env)!);
            T Pick<T>(Option<T> option, T presetValue) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option)! : presetValue;
            var algorithm = preset with
            {
                Workers = Pick(workers, preset.Workers),
                EnvironmentsPerWorker = Pick(envsPerWorker, preset.EnvironmentsPerWorker),
                RolloutLength = Pick(rollout, preset.RolloutLength),
                Gamma = Pick(gamma, preset.Gamma),
                LearningRate = Pick(lr, preset.LearningRate),
                EntropyCoefficient = Pick(entCoef, preset.EntropyCoefficient),
                ValueCoefficient = Pick(vfCoef, preset.ValueCoefficient),
                MaxGradNorm = Pick(maxGradNorm, preset.MaxGradNorm),
                Optimizer = Pick(optimizer, preset.Optimizer),
                NormalizeAdvantages = Pick(normAdv, preset.NormalizeAdvantages),
                NormalizeObservations = Pick(normObs, preset.NormalizeObservations),
                NormalizeRewards = Pick(normRew, preset.NormalizeRewards),
                Body = Pick(body, preset.Body),
                InitialLogStd = Pick(logStdInit, preset.InitialLogStd),
                HiddenSizes = Pick(hidden, preset.HiddenSizes.ToArray()),
                Seed = parse.GetValue(seed),
                Device = parse.GetValue(device)!,
            };
            if (parse.GetValue(gaeLambda) is double lambda) algorithm = algorithm.WithGae(lambda);
            Checkpoint? resumeFrom = null;
            if (parse.GetValue(resume) is { } resumePath)
            {
                resumeFrom = ResumeCheckpoint.Load(resumePath);
                if (resumeFrom is null) return 2;
                algorithm = resumeFrom.Options!;
                envId = resumeFrom.EnvironmentId ?? envId;
            }
            double? targetReturn = parse.GetValue(target) ?? (envId == "CartPole-v1" ? 475.0 : null);
            var options = new TrainingOptions
            {
                Algorithm = algorithm,
                EnvironmentId = envId,
                MaxSteps = parse.GetValue(maxSteps),
                TargetMeanReturn = targetReturn,
                ResumeFrom = resumeFrom,
                CheckpointInterval = parse.GetValue(checkpointEvery),
                Evaluation = parse.GetValue(evalEvery) is > 0 and int every ? new EvaluationOptions { EveryUpdates = every, Episodes = parse.GetValue(evalEpisodes) } : null,
            };
            var problems = options.Problems();
            if (problems.Count > 0)
            {
                Console.Error.WriteLine("Invalid options:");
                foreach (var p in problems) Console.Error.WriteLine($"  - {p}");
                return 2;
            }

            string folder = parse.GetValue(output) ?? Path.Combine("runs", $"{envId}-seed{algorithm.Seed}-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
            Directory.CreateDirectory(folder);
            options = options with { CheckpointDirectory = folder, TensorBoardDirectory = Path.Combine(folder, "tensorboard") };
            bool isQuiet = parse.GetValue(quiet);
            using var curve = new StreamWriter(Path.Combine(folder, "progress.csv"));
            curve.WriteLine("steps,seconds,mean_return_100,episodes,policy_loss,value_loss,entropy,grad_norm,explained_variance,steps_per_second");

            var config = ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING");
            using var system = ActorSystem.Create("advantage", config);
            var episodes = new List<(long Steps, double Return)>();
            var collector = system.ActorOf(Props.Create(() => new EpisodeCollector(episodes)), "episodes");
            system.EventStream.Subscribe(collector, typeof(EpisodeFinished));
            system.EventStream.Subscribe(collector, typeof(EvaluationFinished));
            Console.WriteLine($"Training A2C on {envId}: {algorithm.Workers} workers x {algorithm.EnvironmentsPerWorker} environments, rollout {algorithm.RolloutLength}, " +
                $"{(algorithm.Estimator == AdvantageEstimator.Gae ? $"GAE lambda {algorithm.GaeLambda}" : "n-step returns")}, seed {algorithm.Seed}; " +
                $"stop at {(targetReturn is double t ? $"mean return {t} or " : "")}{options.MaxSteps:N0} steps. Output: {folder}");
            var run = Training.Start(system, options, progress =>
            {
                var u = progress.LastUpdate;
                curve.WriteLine(string.Join(",",
                    progress.Steps, F(progress.Seconds), F(progress.MeanReturn), progress.Episodes,
                    F(u?.PolicyLoss), F(u?.ValueLoss), F(u?.Entropy), F(u?.GradNorm), F(u?.ExplainedVariance), F(progress.StepsPerSecond)));
                if (!isQuiet)
                    Console.WriteLine($"steps {progress.Steps,10:N0}  t {progress.Seconds,6:F1}s  {progress.StepsPerSecond,9:N0} steps/s  " +
                        $"mean return {progress.MeanReturn,7:F1}  episodes {progress.Episodes,6}  " +
                        $"pi {u?.PolicyLoss,7:F3}  v {u?.ValueLoss,8:F3}  H {u?.Entropy,5:F3}  ev {u?.ExplainedVariance,6:F3}");
            });
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; run.Stop(); };
            var result = run.Completion.GetAwaiter().GetResult();
            var final = result.Progress;
            collector.Ask<bool>(EpisodeCollector.Flush.Instance, TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
            lock (episodes)
                LearningCurve.Save(Path.Combine(folder, "learning_curve.png"), $"A2C on {envId}, seed {algorithm.Seed}", episodes);

            new Checkpoint(result.Spec, result.Parameters, new Dictionary<string, string>
            {
                ["environment"] = envId,
                ["steps"] = final.Steps.ToString(CultureInfo.InvariantCulture),
                ["version"] = final.Version.ToString(CultureInfo.InvariantCulture),
                ["seed"] = algorithm.Seed.ToString(CultureInfo.InvariantCulture),
            })
            {
                EnvironmentId = envId,
                // A run that normalised observations must evaluate with the same statistics: take them from the final training checkpoint.
                ObservationStatistics = File.Exists(Path.Combine(folder, "last.ckpt")) ? Checkpoint.Load(Path.Combine(folder, "last.ckpt")).ObservationStatistics : null,
            }.Save(Path.Combine(folder, "model.ckpt"));
            var summary = new Dictionary<string, object?>
            {
                ["environment"] = envId,
                ["solved"] = result.Solved,
                ["stop_reason"] = result.Reason.ToString(),
                ["steps"] = final.Steps,
                ["wall_seconds"] = Math.Round(final.Seconds, 3),
                ["mean_return_100"] = double.IsNaN(final.MeanReturn) ? null : Math.Round(final.MeanReturn, 3),
                ["steps_per_second"] = Math.Round(final.StepsPerSecond, 1),
                ["episodes"] = final.Episodes,
                ["updates"] = final.Version,
                ["rejected_rollouts"] = final.RejectedRollouts,
                ["worker_restarts"] = final.WorkerRestarts,
                ["seed"] = algorithm.Seed,
                ["workers"] = algorithm.Workers,
                ["envs_per_worker"] = algorithm.EnvironmentsPerWorker,
                ["rollout"] = algorithm.RolloutLength,
                ["resumed_from_version"] = resumeFrom?.Progress?.Version,
                ["stop_detail"] = result.Detail,
            };
            File.WriteAllText(Path.Combine(folder, "summary.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"{(result.Solved ? "Solved" : "Stopped")} ({result.Reason}): {final.Steps:N0} steps in {final.Seconds:F2} s " +
                $"({final.StepsPerSecond:N0} steps/s), mean return over the last 100 episodes {final.MeanReturn:F1}. Wrote {folder}.");
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
            return 0;
        });
        return root;
    }

    /// <summary>A host-side actor that follows the run on the event stream, as any host actor would.</summary>
    private sealed class EpisodeCollector : ReceiveActor
    {
        public sealed record Flush
        {
            public static readonly Flush Instance = new();
        }

        public EpisodeCollector(List<(long Steps, double Return)> episodes)
        {
            Receive<EpisodeFinished>(e => { lock (episodes) episodes.Add((e.Steps, e.Return)); });
            Receive<EvaluationFinished>(e => Console.WriteLine(
                $"evaluation at {e.Steps:N0} steps (version {e.Version}): mean return {e.Result.MeanReturn:F1} +/- {e.Result.StdReturn:F1}{(e.IsBest ? ", new best" : "")}"));
            Receive<Flush>(_ => Sender.Tell(true));
        }
    }

    private static string F(double? value) => value is double v && double.IsFinite(v) ? v.ToString("G6", CultureInfo.InvariantCulture) : "";
}
