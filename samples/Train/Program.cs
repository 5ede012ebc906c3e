using System.Globalization;
using Advantage.Samples.Train;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// The root command trains in-process; subcommands (evaluation, cluster roles) hang off it.
var root = TrainCommand.Create();
root.Subcommands.Add(EvalCommand.Create());
ClusterCommands.AddTo(root);
return root.Parse(args).Invoke();
