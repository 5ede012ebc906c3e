/// Trains A2C on CartPole-v1 inside an ActorSystem this program owns, then saves the network.
/// Usage: dotnet run -c Release [-- MAX_STEPS [ENV_ID]]   (default: CartPole-v1 until the mean return of 100 episodes
/// reaches 475, or 1M steps; ENV_ID may be CartPole-Short-v0, the example registration below)
module Program

open Advantage.Actors
open Advantage.Environments
open Advantage.Learning
open Akka.Actor
open Akka.Configuration

/// Your environments, registered in one place. This program uses it directly; the command line and cluster nodes find it
/// in the built assembly, so the same environment trains anywhere:
///   advantage-train --environments bin/Release/net10.0/CartPoleApp.dll --env CartPole-Short-v0
///   advantage-train worker --join HOST:PORT --environments bin/Release/net10.0/CartPoleApp.dll
/// Replace the example (CartPole cut at 100 steps) with your own IEnvironment.
type MyEnvironments() =
    interface IEnvironmentRegistration with
        member _.Register(registry) =
            registry.Register("CartPole-Short-v0", fun () -> TimeLimit(CartPole(), 100) :> IEnvironment)

let train (maxSteps: int64) (environment: string) =
    task {
        let options =
            TrainingOptions(
                Algorithm = A2CPresets.For(environment).WithSeed(3),   // measured hyperparameters where there are some
                EnvironmentId = environment,
                Environments = (MyEnvironments() :> IEnvironmentRegistration).Register EnvironmentRegistry.Builtin,
                MaxSteps = maxSteps,
                TargetMeanReturn = (if environment = "CartPole-v1" then System.Nullable 475.0 else System.Nullable()))
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
    let environment = if args.Length > 1 then args[1] else "CartPole-v1"
    (train maxSteps environment).GetAwaiter().GetResult()
    0
