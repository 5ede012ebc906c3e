/// Training from F#: an environment written as an object expression, registered under an id in an
/// EnvironmentRegistry, trained by Training.Start inside an ActorSystem the test owns.
module Advantage.FSharp.Tests.TrainingTests

open System
open Advantage.Actors
open Advantage.Environments
open Advantage.Learning
open Akka.Actor
open Akka.Configuration
open Xunit

/// "Go right to win": a corridor of `length` cells. Action 1 steps right, action 0 steps left (the wall
/// at 0 holds); reaching the last cell pays 1 and ends the MDP, every other step pays 0. The observation
/// is the position scaled to [0, 1].
let corridor (length: int) : IEnvironment =
    let position = ref 0
    { new IEnvironment with
        member _.ObservationSpace = Box.Uniform([ 1 ], 0f, 1f)
        member _.ActionSpace = Discrete 2
        member _.Reset(_seed, observation) =
            position.Value <- 0
            observation[0] <- 0f
        member _.Step(action, observation) =
            position.Value <- if action[0] = 1f then position.Value + 1 else max 0 (position.Value - 1)
            observation[0] <- float32 position.Value / float32 length
            if position.Value = length then StepResult.Terminal 1.0 else StepResult.Continuing 0.0 }

/// Six cells within ten steps: a random policy gets there in about 1 episode of 5 (mean return 0.2);
/// the target asks for 19 of the last 20.
let private options =
    TrainingOptions(
        Algorithm = A2COptions(Workers = 1, EnvironmentsPerWorker = 8, HiddenSizes = [ 16 ], LearningRate = 3e-3, Seed = 5),
        Environments = EnvironmentRegistry.Empty.Register("Corridor-v0", fun () -> TimeLimit(corridor 6, 10)),
        EnvironmentId = "Corridor-v0",
        MaxSteps = 20_000L,
        TargetMeanReturn = 0.95,
        ReturnWindow = 20)

[<Fact>]
let ``a seeded run learns an F# corridor registered in an EnvironmentRegistry`` () =
    task {
        use system = ActorSystem.Create("fsharp-training", ConfigurationFactory.ParseString "akka.loglevel = WARNING")
        let reports = ResizeArray<TrainingProgress>()
        let run = Training.Start(system, options, fun p -> lock reports (fun () -> reports.Add p))
        let! result = run.Completion.WaitAsync(TimeSpan.FromSeconds 30.0)
        do! system.Terminate()

        let final = result.Progress
        Assert.True(result.Solved, $"Not solved: {result.Reason} after {final.Steps} steps, mean return {final.MeanReturn:F2}")
        Assert.Equal(StopReason.TargetReached, result.Reason)
        Assert.True(final.MeanReturn >= 0.95)
        Assert.True(final.Steps < 20_000L)
        Assert.Equal(2, result.Spec.ActionSize)
        lock reports (fun () -> Assert.NotEmpty reports)
    }

[<Fact>]
let ``options read naturally from F#: WithX copies, a target to set and to clear`` () =
    let changed = options.WithMaxSteps(1_000L).WithoutTargetMeanReturn()
    Assert.Equal(1_000L, changed.MaxSteps)
    Assert.Equal(None, Option.ofNullable changed.TargetMeanReturn)
    Assert.Equal(Some 0.95, Option.ofNullable options.TargetMeanReturn)
    Assert.Equal(Some 2.0, Option.ofNullable (changed.WithTargetMeanReturn(2.0).TargetMeanReturn))
    Assert.Empty(options.Problems())

[<Fact>]
let ``the optimizer's RMSprop alpha and epsilon are set from F# on every algorithm's options`` () =
    // F# cannot copy-and-update a C# record, so a property without a WithX method cannot be changed from F# at all.
    let a2c = A2COptions().WithRmsPropAlpha(0.9).WithOptimizerEpsilon(1e-7)
    let ppo = PpoOptions().WithRmsPropAlpha(0.8).WithOptimizerEpsilon(1e-6)
    let impala = ImpalaOptions().WithRmsPropAlpha(0.7).WithOptimizerEpsilon(1e-3)
    Assert.Equal((0.9, 1e-7), (a2c.RmsPropAlpha, a2c.OptimizerEpsilon))
    Assert.Equal((0.8, 1e-6), (ppo.RmsPropAlpha, ppo.OptimizerEpsilon))
    Assert.Equal((0.7, 1e-3), (impala.RmsPropAlpha, impala.OptimizerEpsilon))
    // The range check still guards what F# sets.
    Assert.Contains(A2COptions().WithRmsPropAlpha(1.0).Problems(), fun p -> p.StartsWith("RmsPropAlpha", StringComparison.Ordinal))

/// Fails naming every publicly settable property of `t` (other than those in `together`) with no `With<Name>` in `withs`.
let private assertEveryOptionHasWith (t: Type) (withs: Set<string>) (together: Set<string>) =
    let missing =
        t.GetProperties()
        |> Array.filter (fun p -> (match p.SetMethod with null -> false | s -> s.IsPublic) && not (together.Contains p.Name))
        |> Array.map (fun p -> p.Name)
        |> Array.filter (fun name -> not (withs.Contains("With" + name)))
    let names = String.Join(", ", missing)
    Assert.True(Array.isEmpty missing, $"{t.Name} has no WithX for: {names}")

[<Fact>]
let ``every option of every algorithm has a WithX method F# can call`` () =
    // Estimator and GaeLambda are set together by WithGae(lambda) and WithNStep().
    let together = set [ "Estimator"; "GaeLambda" ]
    // The shared options' WithX are defined once, as extension methods generic in the record (AlgorithmOptionsExtensions),
    // so F# chains keep the concrete type; an algorithm's own options have theirs on its record.
    let shared =
        typeof<AlgorithmOptionsExtensions>.GetMethods()
        |> Array.filter (fun m -> m.IsGenericMethodDefinition && m.ReturnType = m.GetGenericArguments().[0])
        |> Array.map (fun m -> m.Name)
        |> set
    for t in [ typeof<A2COptions>; typeof<PpoOptions>; typeof<ImpalaOptions> ] do
        let own = t.GetMethods() |> Array.filter (fun m -> m.ReturnType = t) |> Array.map (fun m -> m.Name) |> set
        let withs = Set.union own shared
        assertEveryOptionHasWith t withs together

[<Fact>]
let ``every option of simulation-driven training, in one process and on a cluster node, has a WithX method F# can call`` () =
    // ObservationSpace and ActionSpace are set together by WithSpaces; a hosting's Start is its constructor's argument.
    let together = set [ "ObservationSpace"; "ActionSpace"; "Start"; "Learner" ]
    for t in [ typeof<Simulation.SimulationOptions>; typeof<Simulation.SimulationHosting>; typeof<Cluster.ClusterWorkerOptions> ] do
        let withs = t.GetMethods() |> Array.filter (fun m -> m.ReturnType = t) |> Array.map (fun m -> m.Name) |> set
        assertEveryOptionHasWith t withs together
    let hosting = Simulation.SimulationHosting(fun _ -> ()).WithSimulations(2).WithSilentStreams(Simulation.SilentStreamHandling.Bootstrap)
    let node = Cluster.ClusterWorkerOptions("127.0.0.1:4053").WithSimulation(hosting)
    Assert.Empty(node.Problems())
    Assert.Equal(Some hosting, Option.ofObj node.Simulation)
    let simulation = Simulation.SimulationOptions().WithSimulations(3).WithSpaces(Box.Uniform([ 2 ], 0f, 1f), Discrete 3)
    Assert.Empty(simulation.Problems())

[<Fact>]
let ``StepResult factories name the three kinds of step`` () =
    Assert.Equal(StepResult(0.5, false, false), StepResult.Continuing 0.5)
    Assert.Equal(StepResult(1.0, true, false), StepResult.Terminal 1.0)
    Assert.Equal(StepResult(-1.0, false, true), StepResult.Truncating(-1.0))
    Assert.True((StepResult.Truncating 0.0).IsFinished)

[<Fact>]
let ``an F# run given an output folder gets the whole run folder from the library`` () =
    task {
        let folder = IO.Path.Combine(IO.Path.GetTempPath(), "advantage-fsharp-folder-" + Guid.NewGuid().ToString "N")
        try
            use system = ActorSystem.Create("fsharp-folder", ConfigurationFactory.ParseString "akka.loglevel = WARNING")
            let! result = Training.RunAsync(system, options.WithOutputDirectory(folder).WithLogInterval(1)).WaitAsync(TimeSpan.FromSeconds 30.0)
            do! system.Terminate()

            for file in [ "progress.csv"; "episodes.csv"; "summary.json"; "learning_curve.png"; "model.ckpt"; "last.ckpt" ] do
                Assert.True(IO.File.Exists(IO.Path.Combine(folder, file)), file)
            Assert.Empty result.OutputProblems
            Assert.True result.FinalCheckpointWritten
            Assert.Equal(IO.Path.Combine(folder, "last.ckpt"), result.CheckpointPath)
            Assert.Equal(int result.Progress.Version + 1, IO.File.ReadAllLines(IO.Path.Combine(folder, "progress.csv")).Length)
        finally
            if IO.Directory.Exists folder then IO.Directory.Delete(folder, true)
    }
