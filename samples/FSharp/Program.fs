/// Trains CartPole-v1 from F# with A2C (default), PPO or IMPALA (the first argument), inside an ActorSystem this
/// program owns, then saves the network. The algorithm is only the type of TrainingOptions.Algorithm.
module Advantage.Samples.FSharp.Program

open System.IO
open Advantage.Actors
open Advantage.Learning
open Akka.Actor
open Akka.Configuration

/// Each algorithm's CartPole preset with seed 3. A2C's (2 workers x 16 environments, GAE 0.9, lr 5e-3) solves it at
/// 184,320 steps (no checkpoint interval); IMPALA's workers never wait, so its step count varies a little.
let algorithm name : AlgorithmOptions option =
    match name with
    | "a2c" -> Some(A2CPresets.For("CartPole-v1").WithSeed(3))
    | "ppo" -> Some(PpoPresets.For("CartPole-v1").WithSeed(3))
    | "impala" -> Some(ImpalaPresets.For("CartPole-v1").WithSeed(3))
    | _ -> None

let options (algorithm: AlgorithmOptions) =
    TrainingOptions(
        Algorithm = algorithm,
        EnvironmentId = "CartPole-v1",
        MaxSteps = 1_000_000L,
        TargetMeanReturn = 475.0)   // the mean return of the last 100 episodes

let report (p: TrainingProgress) =
    printfn $"steps %9d{p.Steps}  %5.1f{p.Seconds} s  %8.0f{p.StepsPerSecond} steps/s  mean return %6.1f{p.MeanReturn}"

let train (options: TrainingOptions) =
    task {
        use system = ActorSystem.Create("fsharp-sample", ConfigurationFactory.ParseString "akka.loglevel = WARNING")
        let run = Training.Start(system, options, report)
        let! result = run.Completion
        let final = result.Progress
        printfn $"%A{result.Reason}: %d{final.Steps} steps in %.1f{final.Seconds} s, mean return %.1f{final.MeanReturn}"
        let path = Path.Combine("runs", "fsharp-cartpole.ckpt")
        result.Save path
        printfn $"Saved {path}"
        do! system.Terminate()
        return if result.Solved then 0 else 1
    }

[<EntryPoint>]
let main argv =
    let name = if argv.Length > 0 then argv[0] else "a2c"
    match algorithm name with
    | Some chosen -> (train (options chosen)).GetAwaiter().GetResult()
    | None ->
        let known = String.concat ", " Learners.Names
        eprintfn $"Unknown algorithm '{name}'; give one of: {known}."
        2
