/// README's "Using a trained policy", F#, as written there: train, save the result as one checkpoint, load it and
/// play an episode with the run's normaliser applied.
module Advantage.FSharp.Tests.PolicyTests

open System.IO
open Xunit

// README begin
open Advantage.Actors
open Advantage.Environments
open Advantage.Learning
open Akka.Actor

/// One episode with deterministic actions: raw observations in, the policy normalises them as the run did.
let play (policy: TrainedPolicy) (environment: IEnvironment) (seed: int) =
    let observation = Array.zeroCreate<float32> policy.ObservationSize
    environment.Reset(seed, observation)
    let rec loop total =
        let step = environment.Step(policy.Act(observation, deterministic = true), observation)
        if step.IsFinished then total + step.Reward else loop (total + step.Reward)
    loop 0.0

let trainAndPlay () =
    task {
        use system = ActorSystem.Create "my-service"
        let options =
            TrainingOptions(
                Algorithm = A2CPresets.For("CartPole-v1").WithSeed(1).WithNormalizeObservations(true),
                EnvironmentId = "CartPole-v1",
                MaxSteps = 20_000L)
        let! result = Training.RunAsync(system, options)
        result.Save "cartpole.ckpt" // weights, observation statistics, options, counters: one checkpoint
        use policy = TrainedPolicy.Load "cartpole.ckpt" // or a run folder (its model.ckpt), or last.ckpt
        let episodeReturn = play policy (EnvironmentRegistry.Builtin.Make "CartPole-v1") 42
        let decision = policy.Decide(Array.zeroCreate policy.ObservationSize, deterministic = true)
        printfn $"return {episodeReturn}; at the origin: P(left) {decision.Probabilities[0]:F2}, value {decision.Value:F2}"
        do! system.Terminate()
        return episodeReturn, policy.ObservationStatistics
    }
// README end

[<Fact>]
let ``A saved result loads as a policy that plays with the run's normaliser`` () =
    task {
        try
            let! episodeReturn, statistics = trainAndPlay ()
            Assert.True(episodeReturn >= 1.0)
            Assert.NotNull statistics
        finally
            File.Delete "cartpole.ckpt"
    }
