using System.CommandLine;
using Advantage.Environments;

namespace Advantage.Cli;

/// <summary>
/// <c>check --env ID</c>: runs <see cref="EnvironmentChecker"/> on an environment and prints every finding. A thin shell:
/// the rules are the library's, the same a training run applies (more cheaply) before it starts.
/// </summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var env = new Option<string>("--env") { Description = "Environment id", Required = true };
        var steps = new Option<int>("--steps") { Description = "Random-action steps", DefaultValueFactory = _ => EnvironmentCheckOptions.Default.Steps };
        var environments = EnvironmentAssemblies.Option();
        var seed = new Option<int>("--seed") { Description = "Seed of the checked episodes and actions (the second seed compared is this + 1)", DefaultValueFactory = _ => 0 };
        var command = new Command("check", "Check an environment against the contract training relies on: spaces, lengths, finite and bounded values, " +
            "time limits, seeding. Exit code 0 when it has no errors (warnings are printed), 2 when it has.") { env, steps, seed, environments };
        command.SetAction(parse =>
        {
            string id = parse.GetValue(env)!;
            var (registry, notLoaded) = EnvironmentAssemblies.Load(parse, environments);
            if (registry is null)
            {
                Console.Error.WriteLine(notLoaded);
                return 2;
            }
            if (!registry.Contains(id))
            {
                Console.Error.WriteLine($"--env: unknown environment '{id}'; known: {string.Join(", ", registry.Ids)} (your own with --environments).");
                return 2;
            }
            var options = EnvironmentCheckOptions.Default.WithSteps(parse.GetValue(steps)).WithSeed(parse.GetValue(seed));
            if (options.Problems() is { Count: > 0 } problems) return RunHost.Refuse("Invalid options:", problems.Select(p => p.Replace("Steps =", "--steps:", StringComparison.Ordinal)));
            var report = EnvironmentChecker.Check(registry, id, options);
            Console.WriteLine(report);
            return report.HasErrors ? 2 : 0;
        });
        return command;
    }
}
