using System.Globalization;
using Advantage.Cli;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// Standard error opens lazily, on first use; its first use may be a failure's message at a moment when the process
// is out of file descriptors (a flood of connections at a learner's port), which would crash instead of report.
_ = Console.Error;

// Your algorithms first: --algo's values, the algorithms' own flags and --help are built from the registered descriptors.
if (AlgorithmAssemblies.Load(args) is { } notLoaded)
{
    Console.Error.WriteLine(notLoaded);
    return 2;
}

// The root command trains in-process; subcommands (evaluation, cluster roles) hang off it.
var root = TrainCommand.Create(args);
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(CheckCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
ClusterCommands.AddTo(root, args);
return CommandLineMistakes.Invoke(root, args);
