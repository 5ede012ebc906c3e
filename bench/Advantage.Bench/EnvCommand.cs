using System.CommandLine;
using System.Globalization;

namespace Advantage.Bench;

/// <summary>The <c>envs</c> subcommand: learning quality on the tuned presets of <see cref="EnvPresets"/>.</summary>
internal static class EnvCommand
{
    public static Command Create()
    {
        var algo = new Option<string>("--algo") { Description = "a2c (A2CPresets, judged on the last 100 training episodes) or ppo (PpoPresets at the zoo's budgets, judged on 100 deterministic evaluation episodes)", DefaultValueFactory = _ => "a2c" };
        var envs = new Option<string?>("--envs") { Description = "Comma-separated environment ids [default: every environment of the --algo table]" };
        var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds, run one at a time", DefaultValueFactory = _ => "1,2,3" };
        var output = new Option<string?>("--out") { Description = "Folder for envs.json and the PNG curves [default: bench/results/envs, or envs-ppo with --algo ppo]" };
        var interval = new Option<double>("--interval") { Description = "Seconds between curve samples (the progress interval)", DefaultValueFactory = _ => 1.0 };
        var maxSteps = new Option<long?>("--max-steps") { Description = "Override every preset's step budget (for a quick check; the targets assume the presets' budgets)" };
        var verbose = new Option<bool>("--verbose") { Description = "Print every progress sample" };
        var command = new Command("envs", "Learning quality: train each environment's tuned preset for its full step budget on each seed, write envs.json and one PNG learning curve per environment.")
        {
            algo, envs, seeds, output, interval, maxSteps, verbose,
        };
        command.SetAction(parse =>
        {
            string algorithm = parse.GetValue(algo)!;
            if (algorithm is not ("a2c" or "ppo"))
            {
                Console.Error.WriteLine($"--algo {algorithm}: the envs tables exist for a2c and ppo.");
                return 2;
            }
            var presets = algorithm == "ppo" ? EnvPresets.Ppo : EnvPresets.All;
            string[] ids = (parse.GetValue(envs) ?? string.Join(",", presets.Select(p => p.EnvironmentId))).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            string folder = parse.GetValue(output) ?? Path.Combine("bench", "results", algorithm == "ppo" ? "envs-ppo" : "envs");
            if (SeedList.Parse(parse.GetValue(seeds)!) is not { } seedList) return 2;
            double seconds = parse.GetValue(interval);
            if (ids.Length == 0 || seedList.Length == 0 || !(seconds > 0))
            {
                Console.Error.WriteLine("--envs and --seeds must list at least one entry and --interval must be positive.");
                return 2;
            }
            return EnvBench.Run(new EnvBench.Settings(ids, seedList, folder, TimeSpan.FromSeconds(seconds),
                parse.GetValue(maxSteps), parse.GetValue(verbose)) { Presets = presets });
        });
        return command;
    }
}
