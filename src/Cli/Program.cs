using System.Globalization;
using Advantage.Samples.Train;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// Standard error opens lazily, on first use; its first use may be a failure's message at a moment when the process
// is out of file descriptors (a flood of connections at a learner's port), which would crash instead of report.
_ = Console.Error;

// The root command trains in-process; subcommands (evaluation, cluster roles) hang off it.
var root = TrainCommand.Create(args);
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(CheckCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
ClusterCommands.AddTo(root, args);
return CommandLineMistakes.Invoke(root, args);
