using System.CommandLine;
using Advantage.Actors;
using Akka.Actor;
using Akka.Configuration;

namespace Advantage.Samples.Train;

/// <summary>The default command: train in this process until the target or the step budget.</summary>
internal static class TrainCommand
{
    private const string Description = "Train an A2C agent with Akka.NET worker and learner actors, in this process. Algorithm options default to the environment's " +
        "measured preset (A2CPresets); options given here override it. The same options run a cluster (learner, local-cluster).";

    /// <summary>
    /// The root command trains, and so does its <c>train</c> subcommand: the README and users write
    /// <c>advantage-train train --resume ...</c>, which should mean what <c>advantage-train --resume ...</c> means.
    /// </summary>
    public static RootCommand Create()
    {
        var root = new RootCommand(Description);
        Configure(root);
        var train = new Command("train", "The default command, by name: " + Description);
        Configure(train);
        root.Subcommands.Add(train);
        return root;
    }

    private static void Configure(Command command)
    {
        var flags = new TrainingFlags();
        flags.AddTo(command);
        command.SetAction(parse =>
        {
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
