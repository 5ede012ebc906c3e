using Advantage.Actors;
using Advantage.Actors.Simulation;
using Advantage.Environments;
using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Bench;

/// <summary>
/// CartPole-v1 to the target through the simulation API (2 gateways x 16 stream actors, each owning one CartPole) against
/// the built-in worker path (2 workers x 16 environments), same algorithm preset and seed; the two paths alternate in
/// every repeat, each in a fresh ActorSystem, so a change in machine load shows in both.
/// </summary>
public static class SimulationBench
{
    public sealed record Sample(string Path, int Repeat, bool Solved, long Steps, double Seconds);

    public sealed record Result(string Benchmark, string Algorithm, int Seed, MachineInfo Machine, IReadOnlyList<Sample> Samples,
        double BuiltInMedianSeconds, double SimulationMedianSeconds, double Ratio, string LoadAverageAfter);

    private sealed class Stream : ReceiveActor
    {
        public Stream(IActorRef gateway, int stream, int seed)
        {
            var env = EnvironmentRegistry.Builtin.Make("CartPole-v1");
            var observation = new float[4];
            env.Reset(seed, observation);
            gateway.Tell(new Decide(stream, (float[])observation.Clone()));
            Receive<Decision>(decision =>
            {
                var step = env.Step(decision.Action, observation);
                gateway.Tell(new Outcome(stream, step.Reward, step.Terminated, step.Truncated, step.Truncated ? (float[])observation.Clone() : null));
                if (step.IsFinished) env.Reset(null, observation);
                gateway.Tell(new Decide(stream, (float[])observation.Clone()));
            });
        }
    }

    public static int Run(string algorithm, int seed, int repeats, string output)
    {
        var machine = MachineInfo.Capture();
        AlgorithmOptions options = algorithm == "impala" ? ImpalaPresets.For("CartPole-v1").WithSeed(seed) : A2CPresets.For("CartPole-v1").WithSeed(seed);
        var training = new TrainingOptions { Algorithm = options, MaxSteps = 1_000_000, TargetMeanReturn = 475 };
        var samples = new List<Sample>();
        for (int r = 0; r < repeats; r++)
        {
            foreach (string path in new[] { "built-in", "simulation" })
            {
                using var system = ActorSystem.Create("bench", "akka.loglevel = WARNING");
                TrainingResult result;
                if (path == "built-in")
                {
                    result = Training.Start(system, training).Completion.GetAwaiter().GetResult();
                }
                else
                {
                    var run = SimulationTraining.Start(system, training, new SimulationOptions { Simulations = 2, StreamsPerSimulation = 16 });
                    for (int g = 0; g < 2; g++)
                        for (int s = 0; s < 16; s++)
                        {
                            int gateway = g, stream = s;
                            system.ActorOf(Props.Create(() => new Stream(run.Gateways[gateway], stream, 1000 * gateway + stream)));
                        }
                    result = run.Completion.GetAwaiter().GetResult();
                }
                var sample = new Sample(path, r, result.Solved, result.Progress.Steps, result.Progress.Seconds);
                Console.WriteLine($"repeat {r} {path,-10}: solved {sample.Solved}, {sample.Steps:N0} steps, {sample.Seconds:F2} s");
                samples.Add(sample);
                system.Terminate().Wait();
            }
        }
        static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }
        // An unsolved run counts as the slowest possible: its time stands, and it is flagged in the samples.
        double builtIn = Median(samples.Where(s => s.Path == "built-in").Select(s => s.Seconds));
        double simulation = Median(samples.Where(s => s.Path == "simulation").Select(s => s.Seconds));
        string after = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "";
        var resultJson = new Result("simulation", algorithm, seed, machine, samples, builtIn, simulation, simulation / builtIn, after);
        Report.Write(output, resultJson);
        Console.WriteLine($"median: built-in {builtIn:F2} s, simulation {simulation:F2} s, ratio {simulation / builtIn:F2}; wrote {output}");
        return 0;
    }
}
