// Trains A2C on CartPole-v1 (or your own environment, see MyEnvironments.cs) inside an ActorSystem this program owns,
// then saves the network.
// Usage: dotnet run -c Release [-- MAX_STEPS [ENV_ID]]   (default: CartPole-v1 until the mean return of 100 episodes
// reaches 475, or 1M steps; ENV_ID may be Corridor-v0, the example environment of this app)
using Advantage.Actors;
using Advantage.Environments;
using Advantage.Learning;
using Akka.Actor;
using Akka.Configuration;
using CartPoleApp;

long maxSteps = args.Length > 0 ? long.Parse(args[0]) : 1_000_000;
string environment = args.Length > 1 ? args[1] : "CartPole-v1";
var options = new TrainingOptions
{
    Algorithm = A2CPresets.For(environment).WithSeed(1),      // measured hyperparameters where there are some; override any field
    EnvironmentId = environment,
    Environments = new MyEnvironments().Register(EnvironmentRegistry.Builtin),   // the built-in set plus yours
    MaxSteps = maxSteps,
    TargetMeanReturn = environment == "CartPole-v1" ? 475 : null,
};

using var system = ActorSystem.Create("cartpole", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
TrainingRun run = Training.Start(system, options, p =>
    Console.WriteLine($"{p.Steps,9} steps  {p.Seconds,5:F1} s  mean return {p.MeanReturn,6:F1}"));
TrainingResult result = await run.Completion;
Console.WriteLine($"{result.Reason}: {result.Progress.Steps} steps in {result.Progress.Seconds:F1} s, mean return {result.Progress.MeanReturn:F1}");

result.Save("cartpole.ckpt");   // weights, observation statistics, options, counters; TrainedPolicy.Load("cartpole.ckpt") acts with it
Console.WriteLine("Saved cartpole.ckpt");
await system.Terminate();
