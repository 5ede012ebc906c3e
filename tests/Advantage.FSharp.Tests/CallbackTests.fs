/// Stop conditions and training events from F#: a function, an object expression, and an event-stream subscription.
module Advantage.FSharp.Tests.CallbackTests

open System
open Advantage.Actors
open Advantage.Environments
open Advantage.Learning
open Akka.Actor
open Akka.Configuration
open Xunit

let private options =
    TrainingOptions(
        Algorithm = A2COptions(Workers = 1, EnvironmentsPerWorker = 2, HiddenSizes = [ 8 ], Seed = 5),
        Environments = EnvironmentRegistry.Empty.Register("Corridor-v0", fun () -> TimeLimit(TrainingTests.corridor 6, 10)),
        EnvironmentId = "Corridor-v0",
        MaxSteps = 1_000_000L)

/// A host actor written in F#: completes the task on the third update it sees.
type Listener(third: Threading.Tasks.TaskCompletionSource<UpdateFinished>) =
    inherit UntypedActor()
    override _.OnReceive message =
        match message with
        | :? UpdateFinished as u when u.Version = 3L -> third.TrySetResult u |> ignore
        | _ -> ()

let private system () =
    ActorSystem.Create("fsharp-callbacks", ConfigurationFactory.ParseString "akka.loglevel = WARNING")

[<Fact>]
let ``A stop condition written as an F# function ends the run`` () =
    task {
        use sys = system ()
        let run = Training.Start(sys, options.WithStopCondition(StopCondition.When("four updates", fun c -> c.Progress.Version >= 4L)))
        let! result = run.Completion.WaitAsync(TimeSpan.FromSeconds 60.)
        Assert.Equal(StopReason.StopConditionMet, result.Reason)
        Assert.Equal(4L, result.Progress.Version)
        Assert.Contains("four updates", result.Detail)
    }

[<Fact>]
let ``An object expression is a stop condition and events reach an F# subscriber`` () =
    task {
        use sys = system ()
        let third = Threading.Tasks.TaskCompletionSource<UpdateFinished>()
        let listener = sys.ActorOf(Props.Create(typeof<Listener>, [| box third |]))
        sys.EventStream.Subscribe(listener, typeof<UpdateFinished>) |> ignore
        let budget =
            { new IStopCondition with
                member _.Name = "sixty steps"
                member _.ShouldStop check = check.Progress.Steps >= 60L }
        let! result = Training.RunAsync(sys, options.WithStopCondition budget).WaitAsync(TimeSpan.FromSeconds 60.)
        Assert.Equal(StopReason.StopConditionMet, result.Reason)
        Assert.Equal(60L, result.Progress.Steps) // 6 updates of 5 steps x 2 environments
        Assert.Contains("sixty steps", result.Detail)
        let! update = third.Task.WaitAsync(TimeSpan.FromSeconds 30.)
        Assert.Equal(30L, update.Steps)
        Assert.True(Double.IsFinite update.Metrics.ValueLoss)
    }
