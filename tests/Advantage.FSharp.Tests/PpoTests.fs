/// PPO from F#: the algorithm is the type of TrainingOptions.Algorithm, chosen and tuned with WithX chains that keep
/// PpoOptions' type; nothing else about the run changes.
module Advantage.FSharp.Tests.PpoTests

open System
open Advantage.Actors
open Advantage.Environments
open Advantage.Learning
open Akka.Actor
open Akka.Configuration
open Xunit

let private ppo =
    PpoOptions()
        .WithWorkers(1)
        .WithEnvironmentsPerWorker(8)
        .WithRolloutLength(16)
        .WithHiddenSizes([ 16 ])
        .WithLearningRate(3e-3)
        .WithEpochs(4)
        .WithMinibatches(2)
        .WithClipRange(0.2)
        .WithTargetKl(0.05)
        .WithSeed(5)

[<Fact>]
let ``PPO learns the F# corridor through the same Training.Start`` () =
    task {
        let options =
            TrainingOptions()
                .WithAlgorithm(ppo)
                .WithEnvironments(EnvironmentRegistry.Empty.Register("Corridor-v0", fun () -> TimeLimit(TrainingTests.corridor 6, 10)))
                .WithEnvironmentId("Corridor-v0")
                .WithMaxSteps(30_000L)
                .WithTargetMeanReturn(0.95)
                .WithReturnWindow(20)
        use system = ActorSystem.Create("fsharp-ppo", ConfigurationFactory.ParseString "akka.loglevel = WARNING")
        let! result = Training.Start(system, options).Completion.WaitAsync(TimeSpan.FromSeconds 60.0)
        do! system.Terminate()
        Assert.True(result.Solved, $"Not solved: {result.Reason} after {result.Progress.Steps} steps, mean return {result.Progress.MeanReturn:F2}")
        match result.Progress.LastUpdate with
        | null -> Assert.Fail "No update was reported."
        | last -> Assert.True(last.Extra.ContainsKey "approx_kl" && last.Extra.ContainsKey "clip_fraction")
    }

[<Fact>]
let ``the options say which algorithm and which learner they make`` () =
    let describe (options: AlgorithmOptions) =
        match options with
        | :? PpoOptions as p -> $"ppo, {p.Epochs} epochs of {p.Minibatches} minibatches"
        | :? A2COptions -> "a2c"
        | _ -> "other"
    Assert.Equal("ppo, 4 epochs of 2 minibatches", describe ppo)
    Assert.Equal("a2c", describe (A2CPresets.For "CartPole-v1"))
    Assert.Equal("ppo", ppo.Algorithm)
    Assert.Equal(None, Option.ofNullable (ppo.WithoutTargetKl().TargetKl))
    use learner = Learners.Create(ppo, Networks.NetworkSpec(1, [ 16 ], 2, false))
    Assert.IsType<PpoLearner>(learner) |> ignore
    Assert.Equal<string>([ "a2c"; "ppo"; "impala" ], Learners.Names)
