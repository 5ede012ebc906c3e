using System.Globalization;
using Advantage.Actors;
using Advantage.Actors.Simulation;
using Advantage.Environments;
using Advantage.Learning;
using Advantage.Samples.Simulation;
using Akka.Actor;

// Trains routers of an actor-based queueing simulation (a clock actor drives time; 2 simulations x 16 router actors
// decide where each arriving job goes) with simulation-driven training, then compares the trained policy with a fixed
// heuristic (least work left) on the same simulated job streams.
int seed = 1;
string output = Path.Combine(Path.GetTempPath(), "advantage-simulation");
string algo = "a2c";
long maxSteps = 300_000;
double target = -9.0;
for (int i = 0; i < args.Length; i++)
{
    string flag = args[i];
    string? value = i + 1 < args.Length ? args[++i] : null;
    string? problem = null;
    switch (flag)
    {
        case "--seed": if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed) || seed < 0) problem = "--seed must be an integer in [0, 2147483647]"; break;
        case "--output": if (string.IsNullOrWhiteSpace(value)) problem = "--output must name a folder"; else output = value; break;
        case "--algo": if (value is not ("a2c" or "ppo" or "impala")) problem = "--algo must be one of a2c, ppo, impala"; else algo = value; break;
        case "--max-steps": if (!long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out maxSteps) || maxSteps < 1 || maxSteps > 1_000_000_000) problem = "--max-steps must be an integer in [1, 1000000000]"; break;
        case "--target-return": if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out target) || !double.IsFinite(target)) problem = "--target-return must be a finite number"; break;
        default: problem = $"unknown option '{flag}' (known: --seed, --output, --algo, --max-steps, --target-return)"; break;
    }
    if (problem is not null)
    {
        Console.Error.WriteLine($"error: {problem}.");
        return 2;
    }
}

const int Simulations = 2, Routers = 16, EvaluationEpisodes = 10;
AlgorithmOptions algorithm = algo switch
{
    "ppo" => new PpoOptions { Seed = seed, RolloutLength = 32, Gamma = 0.9, HiddenSizes = [64, 64] },
    "impala" => new ImpalaOptions { Seed = seed, LearningRate = 2e-3, Gamma = 0.9, HiddenSizes = [64, 64] },
    _ => new A2COptions { Seed = seed, LearningRate = 2e-3, Gamma = 0.9, HiddenSizes = [64, 64] },
};
var options = new TrainingOptions
{
    EnvironmentId = "Queueing-routers",
    Environments = EnvironmentRegistry.Empty,
    Algorithm = algorithm,
    MaxSteps = maxSteps,
    TargetMeanReturn = target,
    OutputDirectory = output,
};
var simulation = new SimulationOptions
{
    Simulations = Simulations,
    StreamsPerSimulation = Routers,
    ObservationSpace = Box.Uniform([4], 0f, float.MaxValue),
    ActionSpace = new Discrete(3),
};

using var system = ActorSystem.Create("simulation");
SimulationRun run;
try
{
    run = SimulationTraining.Start(system, options, simulation);
}
catch (OptionsValidationException e)
{
    Console.Error.WriteLine($"error: {string.Join(" ", e.Problems)}");
    return 2;
}
for (int s = 0; s < Simulations; s++)
{
    var gateway = run.Gateways[s];
    int site = s;
    system.ActorOf(Props.Create(() => new Clock(Routers, (clock, r) => Props.Create(() => new Router(clock, gateway, r, seed * 1000 + site * 100 + r, 0, null)))), $"clock-{s}");
}
var result = await run.Completion;
Console.WriteLine($"Training ({algo}, seed {seed}): {result.Reason}, solved {result.Solved}, {result.Progress.Steps:N0} decisions, {result.Progress.Seconds:F1} s, mean return {result.Progress.MeanReturn:F2} (target {target}); run folder {output}");
foreach (var child in new[] { "clock-0", "clock-1" }) system.ActorSelection($"/user/{child}").Tell(PoisonPill.Instance);

// Evaluation on the same job streams (seeds apart from training's): the trained policy, greedy, against the heuristic.
var server = PolicyServing.Start(system, result.ToCheckpoint(), new PolicyServerOptions());
double Evaluate(string name, Props deciderProps)
{
    var decider = system.ActorOf(deciderProps, $"decider-{name}");
    var inbox = Inbox.Create(system);
    system.ActorOf(Props.Create(() => new Clock(Routers, (clock, r) => Props.Create(() => new Router(clock, decider, r, 777_000 + r, EvaluationEpisodes, inbox.Receiver)))), $"evaluation-{name}");
    var all = new List<double>();
    for (int r = 0; r < Routers; r++) all.AddRange((double[])inbox.Receive(TimeSpan.FromMinutes(2)));
    return all.Average();
}
double policyReturn = Evaluate("trained", Props.Create(() => new ServedDecider(server)));
double heuristicReturn = Evaluate("heuristic", Props.Create(() => new FixedDecider(Queueing.LeastWorkLeft)));
Console.WriteLine($"Evaluation, {Routers} routers x {EvaluationEpisodes} episodes of {Queueing.JobsPerEpisode} jobs (return = -sum of job times / 10, higher is better):");
Console.WriteLine($"  trained policy (served by PolicyServer):  {policyReturn:F2}");
Console.WriteLine($"  heuristic (least work left):            {heuristicReturn:F2}");
Console.WriteLine(policyReturn > heuristicReturn ? "The trained policy beats the heuristic." : "The trained policy does not beat the heuristic.");
await system.Terminate();
return 0;
