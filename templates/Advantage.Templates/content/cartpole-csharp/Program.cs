// Trains A2C on CartPole-v1 inside an ActorSystem this program owns, then saves the network.
// Usage: dotnet run -c Release [-- MAX_STEPS]   (default: until the mean return of 100 episodes reaches 475, or 1M steps)
using Advantage.Actors;
using Advantage.Learning;
using Akka.Actor;
using Akka.Configuration;

long maxSteps = args.Length > 0 ? long.Parse(args[0]) : 1_000_000;
var options = new TrainingOptions
{
    Algorithm = A2CPresets.For("CartPole-v1").WithSeed(1),   // measured hyperparameters; override any field
    EnvironmentId = "CartPole-v1",
    MaxSteps = maxSteps,
    TargetMeanReturn = 475,
};

using var system = ActorSystem.Create("cartpole", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
TrainingRun run = Training.Start(system, options, p =>
    Console.WriteLine($"{p.Steps,9} steps  {p.Seconds,5:F1} s  mean return {p.MeanReturn,6:F1}"));
TrainingResult result = await run.Completion;
Console.WriteLine($"{result.Reason}: {result.Progress.Steps} steps in {result.Progress.Seconds:F1} s, mean return {result.Progress.MeanReturn:F1}");

result.Save("cartpole.ckpt");   // weights, observation statistics, options, counters; TrainedPolicy.Load("cartpole.ckpt") acts with it
Console.WriteLine("Saved cartpole.ckpt");
await system.Terminate();
