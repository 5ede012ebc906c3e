using System.CommandLine;
using Advantage.Actors;
using Advantage.Learning;
using Akka.Actor;
using Akka.Configuration;

namespace Advantage.Cli;

/// <summary>The default command: train in this process until the target or the step budget.</summary>
internal static class TrainCommand
{
    private const string Description = "Train an agent (A2C, PPO or IMPALA: --algo) with Akka.NET worker and learner actors, in this process. Algorithm options default to " +
        "the algorithm's measured preset for the environment (A2CPresets, PpoPresets, ImpalaPresets); options given here override it. The same options run a cluster (learner, local-cluster).";

    /// <summary>
    /// The root command trains, and so does its <c>train</c> subcommand: the README and users write
    /// <c>advantage-train train --resume ...</c>, which should mean what <c>advantage-train --resume ...</c> means.
    /// </summary>
    /// <param name="args">The command line, read only for its <c>--algo</c>: whose preset <c>--help</c> shows.</param>
    public static RootCommand Create(IReadOnlyList<string>? args = null)
    {
        string? algorithm = TrainingFlags.AlgorithmIn(args ?? []);
        var root = new RootCommand(Description);
        var markdown = new Option<bool>("--help-markdown")
        {
            Description = "Print every training flag as Markdown tables, with each registered algorithm's default on " +
                TrainingFlags.DefaultEnvironment + " (README.md's list is this output), and exit",
        };
        root.Options.Add(markdown);
        Configure(root, algorithm, markdown);
        var train = new Command("train", "The default command, by name: " + Description);
        Configure(train, algorithm, null);
        root.Subcommands.Add(train);
        return root;
    }

    private static void Configure(Command command, string? algorithm, Option<bool>? markdown)
    {
        var flags = new TrainingFlags(algorithm);
        flags.AddTo(command);
        command.SetAction(parse =>
        {
            if (markdown is not null && parse.GetValue(markdown))
            {
                Console.Out.Write(FlagReference.Markdown(Algorithms.All));
                return 0;
            }
            var bound = flags.Bind(parse);
            if (bound.Options is null) return RunHost.Refuse("Invalid options:", bound.Problems);
            if (RunHost.PrepareFolder(bound) is not { } folder) return 2;
            var config = ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING");
            using var system = ActorSystem.Create("advantage", config);
            int code = RunHost.Execute(system, bound, folder, "in-process", (options, progress) => Training.Start(system, options, progress));
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
            return code;
        });
    }
}
