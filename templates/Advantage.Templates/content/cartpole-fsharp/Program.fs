/// Trains A2C on CartPole-v1 inside an ActorSystem this program owns, then saves the network.
/// Usage: dotnet run -c Release [-- MAX_STEPS]   (default: until the mean return of 100 episodes reaches 475, or 1M steps)
module Program

open Advantage.Actors
open Advantage.Learning
open Akka.Actor
open Akka.Configuration

let train (maxSteps: int64) =
    task {
        let options =
            TrainingOptions(
                Algorithm = A2CPresets.For("CartPole-v1").WithSeed(3),   // measured hyperparameters
                EnvironmentId = "CartPole-v1",
                MaxSteps = maxSteps,
                TargetMeanReturn = 475.0)
        use system = ActorSystem.Create("cartpole", ConfigurationFactory.ParseString "akka.loglevel = WARNING")
        let run =
            Training.Start(system, options, fun p ->
                printfn $"%9d{p.Steps} steps  %5.1f{p.Seconds} s  mean return %6.1f{p.MeanReturn}")
        let! result = run.Completion
        let final = result.Progress
        printfn $"%A{result.Reason}: %d{final.Steps} steps in %.1f{final.Seconds} s, mean return %.1f{final.MeanReturn}"
        result.Save "cartpole.ckpt" // weights, observation statistics, options, counters; TrainedPolicy.Load "cartpole.ckpt" acts with it
        printfn "Saved cartpole.ckpt"
        do! system.Terminate()
    }

[<EntryPoint>]
let main args =
    let maxSteps = if args.Length > 0 then int64 args[0] else 1_000_000L
    (train maxSteps).GetAwaiter().GetResult()
    0
