using System.CommandLine;
using System.Globalization;

namespace Advantage.Bench;

/// <summary>The <c>envs</c> subcommand: learning quality on the tuned presets of <see cref="EnvPresets"/>.</summary>
internal static class EnvCommand
{
    public static Command Create()
    {
        var envs = new Option<string>("--envs") { Description = "Comma-separated environment ids", DefaultValueFactory = _ => string.Join(",", EnvPresets.All.Select(p => p.EnvironmentId)) };
        var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds, run one at a time", DefaultValueFactory = _ => "1,2,3" };
        var output = new Option<string>("--out") { Description = "Folder for envs.json and the PNG curves", DefaultValueFactory = _ => Path.Combine("bench", "results", "envs") };
        var interval = new Option<double>("--interval") { Description = "Seconds between curve samples (the progress interval)", DefaultValueFactory = _ => 1.0 };
        var maxSteps = new Option<long?>("--max-steps") { Description = "Override every preset's step budget (for a quick check; the targets assume the presets' budgets)" };
        var verbose = new Option<bool>("--verbose") { Description = "Print every progress sample" };
        var command = new Command("envs", "Learning quality: train each environment's tuned preset for its full step budget on each seed, write envs.json and one PNG learning curve per environment.")
        {
            envs, seeds, output, interval, maxSteps, verbose,
        };
        command.SetAction(parse =>
        {
            string[] ids = parse.GetValue(envs)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (SeedList.Parse(parse.GetValue(seeds)!) is not { } seedList) return 2;
            double seconds = parse.GetValue(interval);
            if (ids.Length == 0 || seedList.Length == 0 || !(seconds > 0))
            {
                Console.Error.WriteLine("--envs and --seeds must list at least one entry and --interval must be positive.");
                return 2;
            }
            return EnvBench.Run(new EnvBench.Settings(ids, seedList, parse.GetValue(output)!, TimeSpan.FromSeconds(seconds),
                parse.GetValue(maxSteps), parse.GetValue(verbose)));
        });
        return command;
    }
}
