using Advantage.Actors.Simulation;
using Advantage.Environments;
using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Actors.Tests;

// README, "Training on your own actor simulation": the code as written there (the folder aside).

// One entity of your simulation: asks its gateway for each action, reports what followed.
public sealed class Pole : ReceiveActor
{
    public Pole(IActorRef gateway, int stream)
    {
        var env = EnvironmentRegistry.Builtin.Make("CartPole-v1"); // stands in for your entity's own state
        var observation = new float[4];
        env.Reset(stream, observation);
        gateway.Tell(new Decide(stream, (float[])observation.Clone()));
        Receive<Decision>(decision =>
        {
            var step = env.Step(decision.Action, observation);
            gateway.Tell(new Outcome(stream, step.Reward, step.Terminated, step.Truncated,
                step.Truncated ? (float[])observation.Clone() : null));
            if (step.IsFinished) env.Reset(null, observation);
            gateway.Tell(new Decide(stream, (float[])observation.Clone()));
        });
    }
}

public sealed class ReadmeSimulationTests : ActorTestKit
{
    [Fact]
    public async Task The_README_simulation_example_runs_as_written_and_writes_its_run_folder()
    {
        var system = Sys;
        string folder = Path.Combine(Path.GetTempPath(), "advantage-readme-sim-" + Guid.NewGuid().ToString("N"));
        try
        {
            // README begins
            var run = SimulationTraining.Start(system,
                new TrainingOptions { Algorithm = A2CPresets.For("CartPole-v1"), TargetMeanReturn = 475, OutputDirectory = folder },
                new SimulationOptions { Simulations = 2, StreamsPerSimulation = 16 });
            for (int g = 0; g < run.Gateways.Count; g++)
                for (int s = 0; s < 16; s++)
                {
                    int gateway = g, stream = s;
                    system.ActorOf(Props.Create(() => new Pole(run.Gateways[gateway], stream)));
                }
            var result = await run.Completion;
            Console.WriteLine($"{result.Reason} after {result.Progress.Steps} steps");
            // README ends
            Assert.True(result.Solved, $"{result.Reason} after {result.Progress.Steps} steps, mean {result.Progress.MeanReturn:F1}");
            Assert.Contains("\"solved\": true", File.ReadAllText(Path.Combine(folder, "summary.json")));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, true);
        }
    }
}
