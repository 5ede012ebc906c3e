using System.CommandLine;
using Advantage.Environments;
using Advantage.Learning;

namespace Advantage.Cli;

/// <summary><c>eval --checkpoint PATH</c>: plays a saved policy with deterministic actions and prints mean and std of the return.</summary>
internal static class EvalCommand
{
    /// <summary>More episodes than this is a typo, not an evaluation.</summary>
    private const int MaxEpisodes = 1_000_000;

    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint file (model.ckpt, last.ckpt or best.ckpt) or a finished run folder", Required = true };
        var episodes = new Option<int>("--episodes") { Description = "Episodes to play", DefaultValueFactory = _ => 10 };
        var env = new Option<string?>("--env") { Description = "Environment id (default: the one the checkpoint was trained on)" };
        var seed = new Option<int>("--seed") { Description = "Episode i resets with seed + i", DefaultValueFactory = _ => 1_000_003 };

        var environments = EnvironmentAssemblies.Option();

        var command = new Command("eval", "Evaluate a checkpoint with deterministic actions.") { checkpoint, episodes, env, seed, environments, AlgorithmAssemblies.Option() };
        command.SetAction(parse =>
        {
            var (registry, notLoaded) = EnvironmentAssemblies.Load(parse, environments);
            if (registry is null)
            {
                Console.Error.WriteLine(notLoaded);
                return 2;
            }
            string path = parse.GetValue(checkpoint)!;
            int count = parse.GetValue(episodes);
            if (count is < 1 or > MaxEpisodes)
            {
                Console.Error.WriteLine($"--episodes: {count} is outside [1, {MaxEpisodes}].");
                return 2;
            }
            if (RunHost.CheckpointFile(path) is null) return 2;
            TrainedPolicy policy;
            try
            {
                policy = TrainedPolicy.Load(path);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"--checkpoint: {e.Message}");
                return 2;
            }
            using var _ = policy;
            var saved = policy.Checkpoint;
            string? envId = parse.GetValue(env) ?? saved.EnvironmentId;
            if (envId is null || !registry.Contains(envId))
            {
                Console.Error.WriteLine(parse.GetValue(env) is null
                    ? $"--env: the checkpoint names no environment; pass --env with one of: {string.Join(", ", registry.Ids)} (your own with --environments)."
                    : $"--env: unknown environment '{envId}'; known: {string.Join(", ", registry.Ids)} (your own with --environments).");
                return 2;
            }
            var probe = registry.Make(envId);
            var spec = Advantage.Learning.Networks.NetworkSpec.For(probe.ObservationSpace, probe.ActionSpace, saved.Spec.HiddenSizes, saved.Spec.InitialLogStd, saved.Spec.Body, saved.Spec.SeparateNetworks,
                saved.Spec.StateDependentNoise, saved.Spec.SdeSampleFrequency);
            if (!spec.Equals(saved.Spec))
            {
                Console.Error.WriteLine($"Cannot evaluate: '{path}' holds a network for {saved.Spec.ObservationSize} observations and {saved.Spec.ActionSize} actions" +
                    $"{(saved.EnvironmentId is { } trained ? $" (trained on '{trained}')" : "")}; '{envId}' has {spec.ObservationSize} and {spec.ActionSize}.");
                return 2;
            }
            var started = System.Diagnostics.Stopwatch.StartNew();
            var result = Evaluation.Run(policy, () => registry.Make(envId), count, parse.GetValue(seed));
            Console.WriteLine($"{envId}: mean return {result.MeanReturn:F2} +/- {result.StdReturn:F2} over {count} episodes " +
                $"(deterministic actions, mean length {result.MeanLength:F1}, {started.Elapsed.TotalSeconds:F2} s)" +
                (saved.Progress is { } p ? $"; checkpoint at version {p.Version}, {p.Steps:N0} steps." : "."));
            return 0;
        });
        return command;
    }
}
