using Xunit.Abstractions;

namespace Advantage.Packaging.Tests;

/// <summary>
/// Issue 19's "done when", as a new user meets it: a console app outside the repository, built from the packages
/// alone, with an environment of its own (an inventory simulation: 4 observations, 5 discrete actions, 100-day
/// episodes). The app checks the environment, trains it with an output folder and gets the whole run folder, loads
/// the result as a <c>TrainedPolicy</c> and acts with the run's observation normaliser; then the command-line trainer
/// runs the same environment on a two-node <c>local-cluster</c> through <c>--environments</c>.
/// </summary>
[Collection(PackedFeedCollection.Name)]
public sealed class OwnEnvironmentTests(PackedFeed feed, ITestOutputHelper output)
{
    [Fact]
    public void A_consumer_with_its_own_environment_checks_it_trains_it_acts_with_the_result_and_runs_it_on_a_local_cluster()
    {
        string folder = Path.Combine(feed.ConsumerRoot(), "inventory");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "Inventory.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Advantage.Actors" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "Inventory.cs"), """
            using Advantage.Environments;

            namespace Inventory;

            /// <summary>A shop's stock: observe stock, yesterday's demand, the day and the order in transit; order 0-4 crates.</summary>
            public sealed class Shop : IEnvironment
            {
                private Random random = new(0);
                private int stock, lastDemand, inTransit, day;

                public Space ObservationSpace { get; } = Box.Uniform([4], 0f, 20f);

                public Space ActionSpace { get; } = new Discrete(5);

                public void Reset(int? seed, Span<float> observation)
                {
                    if (seed is int s) random = new Random(s);
                    stock = 5 + random.Next(5);
                    lastDemand = 0;
                    inTransit = 0;
                    day = 0;
                    Observe(observation);
                }

                public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
                {
                    stock = Math.Min(20, stock + inTransit);
                    inTransit = (int)action[0];
                    int demand = random.Next(5);
                    int sold = Math.Min(stock, demand);
                    stock -= sold;
                    lastDemand = demand;
                    day++;
                    Observe(observation);
                    return StepResult.Continuing(sold - 0.1 * stock - 0.5 * (demand - sold) - 0.2 * inTransit);
                }

                private void Observe(Span<float> observation)
                {
                    observation[0] = stock;
                    observation[1] = lastDemand;
                    observation[2] = Math.Min(day, 100) / 5f;
                    observation[3] = inTransit;
                }
            }

            /// <summary>The same shop whose sales sensor fails after 3,000 steps of uptime (in this process): rewards become NaN.</summary>
            public sealed class FailingSensor(IEnvironment inner) : IEnvironment
            {
                private static int uptime;

                public Space ObservationSpace => inner.ObservationSpace;

                public Space ActionSpace => inner.ActionSpace;

                public void Reset(int? seed, Span<float> observation) => inner.Reset(seed, observation);

                public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
                {
                    StepResult result = inner.Step(action, observation);
                    return Interlocked.Increment(ref uptime) > 3_000 ? result with { Reward = double.NaN } : result;
                }
            }

            /// <summary>What the command line and cluster nodes find in this assembly.</summary>
            public sealed class InventoryEnvironments : IEnvironmentRegistration
            {
                public EnvironmentRegistry Register(EnvironmentRegistry registry) =>
                    registry.Register("Inventory-v0", () => new TimeLimit(new Shop(), 100));
            }
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), """
            using Advantage.Actors;
            using Advantage.Environments;
            using Advantage.Learning;
            using Akka.Actor;
            using Akka.Configuration;
            using Inventory;

            var registry = new InventoryEnvironments().Register(EnvironmentRegistry.Builtin);
            var report = EnvironmentChecker.Check(registry, "Inventory-v0");
            Console.WriteLine($"check: {report.Summary}");
            if (report.HasErrors) return 1;

            var options = new TrainingOptions
            {
                Algorithm = A2CPresets.For("Inventory-v0").WithSeed(1) with { NormalizeObservations = true },
                EnvironmentId = "Inventory-v0",
                Environments = registry,
                MaxSteps = 10_000,
                OutputDirectory = "run",
            };
            using var system = ActorSystem.Create("inventory", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
            TrainingResult result = await Training.Start(system, options).Completion;
            await system.Terminate();
            Console.WriteLine($"finished: {result.Reason} at {result.Progress.Steps} steps");
            string[] missing = new[] { "progress.csv", "summary.json", "learning_curve.png", "model.ckpt", "last.ckpt", "tensorboard" }
                .Where(f => !File.Exists(Path.Combine("run", f)) && !Directory.Exists(Path.Combine("run", f))).ToArray();
            Console.WriteLine($"run folder missing: [{string.Join(", ", missing)}]");

            using var policy = TrainedPolicy.Load("run");
            float[] observation = [6, 2, 3, 0];
            PolicyDecision decision = policy.Decide(observation, deterministic: true);
            bool normalised = policy.ObservationStatistics is not null && !policy.Normalize(observation).SequenceEqual(observation);
            Console.WriteLine($"policy: order {decision.ActionIndex} crates, value {decision.Value:F2}, normaliser applied: {normalised}");

            // A fault that the check before the run cannot see (it appears after 3,000 steps; the check takes 1,500): the run must end, not hang.
            var broken = registry.Register("BrokenInventory-v0", () => new TimeLimit(new FailingSensor(new Shop()), 100));
            using var brokenSystem = ActorSystem.Create("broken", ConfigurationFactory.ParseString("akka.loglevel = OFF"));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            string brokenLine;
            try
            {
                TrainingResult notFailed = await Training.Start(brokenSystem, options with
                {
                    EnvironmentId = "BrokenInventory-v0",
                    Environments = broken,
                    MaxSteps = 1_000_000,
                    MaxWorkerRestarts = 3,
                    OutputDirectory = "broken-run",
                }).Completion;
                brokenLine = $"broken: not failed but {notFailed.Reason}";
            }
            catch (TrainingFailedException failed)
            {
                brokenLine = $"broken: {failed.Result.Reason} after {clock.Elapsed.TotalSeconds:F0} s, steps {failed.Result.Progress.Steps}, cause: {failed.Result.Detail}";
            }
            await brokenSystem.Terminate();
            Console.WriteLine(brokenLine);
            Console.WriteLine($"broken run folder has summary: {File.Exists(Path.Combine("broken-run", "summary.json"))}");
            return missing.Length == 0 && normalised && decision.ActionIndex is >= 0 and < 5 ? 0 : 1;
            """);

        ChildResult app = Consumers.BuildAndRun(folder, "Inventory.dll", [], output);
        Assert.Contains("check: ", app.Output);
        Assert.Contains("finished: StepBudgetExhausted at 10000 steps", app.Output);
        Assert.Contains("run folder missing: []", app.Output);
        Assert.Contains("normaliser applied: True", app.Output);
        Assert.Contains("broken: Failed after ", app.Output);
        Assert.Matches(@"broken: Failed after \d+ s, steps \d+, cause: .*(NaN|non-finite|finite)", app.Output);
        Assert.Contains("broken run folder has summary: True", app.Output);

        // The same assembly on a two-node local cluster, through the command-line trainer.
        string dll = Path.Combine(folder, "bin", "Release", "net10.0", "Inventory.dll");
        string cli = Path.Combine(Repository.Root, "src", "Cli", "bin", Repository.Configuration, "net10.0", "advantage-train.dll");
        Assert.True(File.Exists(cli), $"{cli} is missing: the test project builds src/Cli first.");
        string runFolder = Path.Combine(folder, "cluster-run");
        ChildResult cluster = ChildProcess.Run(ChildProcess.Dotnet,
            [cli, "local-cluster", "--environments", dll, "--env", "Inventory-v0", "--nodes", "2", "--workers", "1",
             "--max-steps", "4000", "--output", runFolder, "--quiet"],
            folder, TimeSpan.FromMinutes(5));
        output.WriteLine(cluster.Describe(lastLines: int.MaxValue));
        Assert.True(cluster.Succeeded, cluster.Describe());
        string summary = File.ReadAllText(Path.Combine(runFolder, "summary.json"));
        Assert.Contains("\"placement\": \"cluster\"", summary);
    }
}
