using System.Globalization;
using Advantage.Actors;
using Advantage.Learning;
using Advantage.Samples.CustomAlgorithm;
using Akka.Actor;

// An algorithm written outside the library, trained through the same public seam as the built-in ones: register its
// descriptor, put its options in TrainingOptions.Algorithm, and Training runs it, writes the run folder and checkpoints it.
int seed = 1;
string output = Path.Combine("runs", "reinforce-CartPole-v1");
for (int i = 0; i < args.Length; i += 2)
{
    string? value = i + 1 < args.Length ? args[i + 1] : null;
    if (args[i] == "--seed" && int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int s)) seed = s;
    else if (args[i] == "--output" && value is not null) output = value;
    else
    {
        Console.Error.WriteLine($"{args[i]}: this sample takes --seed N and --output DIR.");
        return 2;
    }
}

Algorithms.Register(Reinforce.Descriptor);
var options = new TrainingOptions
{
    Algorithm = Learners.Preset(ReinforceOptions.AlgorithmName, "CartPole-v1") with { Seed = seed },
    EnvironmentId = "CartPole-v1",
    TargetMeanReturn = 475,
    MaxSteps = 1_000_000,
    OutputDirectory = output,
};
using var system = ActorSystem.Create("custom-algorithm", "akka.loglevel = WARNING");
var result = await Training.RunAsync(system, options, progress =>
    Console.WriteLine($"steps {progress.Steps,9:N0}  mean return {progress.MeanReturn,6:F1}"));
Console.WriteLine($"{result.Reason}: {(result.Solved ? "solved" : "not solved")} at {result.Progress.Steps:N0} steps. Wrote {output}.");
return result.Solved ? 0 : 1;
