/// Trains A2C on CartPole-v1 from F#, inside an ActorSystem this program owns, then saves the network.
module Advantage.Samples.FSharp.Program

open System.IO
open Advantage.Actors
open Advantage.Learning
open Akka.Actor
open Akka.Configuration

/// CartPole's measured preset (2 workers x 16 environments, GAE 0.9, lr 5e-3); seed 3 solves it at 184,320 steps (no checkpoint interval, so no reseeding).
let options =
    TrainingOptions(
        Algorithm = A2CPresets.For("CartPole-v1").WithSeed(3),
        EnvironmentId = "CartPole-v1",
        MaxSteps = 1_000_000L,
        TargetMeanReturn = 475.0)   // the mean return of the last 100 episodes

let report (p: TrainingProgress) =
    printfn $"steps %9d{p.Steps}  %5.1f{p.Seconds} s  %8.0f{p.StepsPerSecond} steps/s  mean return %6.1f{p.MeanReturn}"

let train () =
    task {
        use system = ActorSystem.Create("fsharp-sample", ConfigurationFactory.ParseString "akka.loglevel = WARNING")
        let run = Training.Start(system, options, report)
        let! result = run.Completion
        let final = result.Progress
        printfn $"%A{result.Reason}: %d{final.Steps} steps in %.1f{final.Seconds} s, mean return %.1f{final.MeanReturn}"
        let path = Path.Combine("runs", "fsharp-cartpole.ckpt")
        Checkpoint(result.Spec, result.Parameters, Map [ "environment", options.EnvironmentId; "steps", string final.Steps ]).Save path
        printfn $"Saved {path}"
        do! system.Terminate()
        return if result.Solved then 0 else 1
    }

[<EntryPoint>]
let main _ = (train ()).GetAwaiter().GetResult()
