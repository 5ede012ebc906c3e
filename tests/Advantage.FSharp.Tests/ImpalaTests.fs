/// IMPALA from F#: the asynchronous algorithm is one more options type behind the same Training.Start; its
/// asynchrony is read from the options, so nothing about the run's wiring changes.
module Advantage.FSharp.Tests.ImpalaTests

open System
open Advantage.Actors
open Advantage.Environments
open Advantage.Learning
open Akka.Actor
open Akka.Configuration
open Xunit

let private impala =
    ImpalaOptions()
        .WithWorkers(2)
        .WithEnvironmentsPerWorker(4)
        .WithRolloutLength(8)
        .WithHiddenSizes([ 16 ])
        .WithLearningRate(3e-3)
        .WithTraceLambda(0.9)
        .WithMaxLag(10)
        .WithSeed(5)

[<Fact>]
let ``IMPALA learns the F# corridor asynchronously through the same Training.Start`` () =
    task {
        let options =
            TrainingOptions()
                .WithAlgorithm(impala)
                .WithEnvironments(EnvironmentRegistry.Empty.Register("Corridor-v0", fun () -> TimeLimit(TrainingTests.corridor 6, 10)))
                .WithEnvironmentId("Corridor-v0")
                .WithMaxSteps(60_000L)
                .WithTargetMeanReturn(0.95)
                .WithReturnWindow(20)
        use system = ActorSystem.Create("fsharp-impala", ConfigurationFactory.ParseString "akka.loglevel = WARNING")
        let! result = Training.Start(system, options).Completion.WaitAsync(TimeSpan.FromSeconds 60.0)
        do! system.Terminate()
        Assert.True(result.Solved, $"Not solved: {result.Reason} after {result.Progress.Steps} steps, mean return {result.Progress.MeanReturn:F2}")
        match result.Progress.LastUpdate with
        | null -> Assert.Fail "No update was reported."
        | last -> Assert.True(last.Extra.ContainsKey "lag_mean" && last.Extra.ContainsKey "ratio_mean")
    }

[<Fact>]
let ``the asynchrony is what the options declare`` () =
    let shape (options: AlgorithmOptions) =
        match Option.ofObj options.Asynchrony with
        | Some rounds -> $"batches of {rounds.BatchRollouts}, lag up to {rounds.MaxLag}, {rounds.InFlight} in flight"
        | None -> "synchronous"
    Assert.Equal("batches of 2, lag up to 10, 2 in flight", shape impala)
    Assert.Equal("batches of 3, lag up to 10, 3 in flight", shape (impala.WithBatchRollouts 3))
    Assert.Equal("synchronous", shape (A2CPresets.For "CartPole-v1"))
    use learner = Learners.Create(impala, Networks.NetworkSpec(1, [ 16 ], 2, false))
    Assert.IsType<ImpalaLearner>(learner) |> ignore
