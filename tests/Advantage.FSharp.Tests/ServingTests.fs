/// The policy actor from F#: F# actors play CartPole with actions from a PolicyServer, and its answers are the policy
/// API's.
module Advantage.FSharp.Tests.ServingTests

open System
open System.Threading.Tasks
open Advantage.Actors
open Advantage.Environments
open Advantage.Learning
open Advantage.Learning.Networks
open Akka.Actor
open Xunit

type Play = Play of seed: int

/// Plays one episode per Play, one Act per step, and answers the episode's return.
type Player(server: IActorRef) =
    inherit UntypedActor()
    let environment = EnvironmentRegistry.Builtin.Make "CartPole-v1"
    let observation = Array.zeroCreate<float32> environment.ObservationSpace.FlatSize
    let mutable total = 0.0
    let mutable step = 0L
    let mutable replyTo: IActorRef = ActorRefs.Nobody

    member private this.Ask() =
        step <- step + 1L
        server.Tell(Act(step, Array.copy observation), this.Self)

    override this.OnReceive message =
        match message with
        | :? Play as play ->
            let (Play seed) = play
            replyTo <- this.Sender
            total <- 0.0
            environment.Reset(seed, observation)
            this.Ask()
        | :? Acted as acted ->
            let result = environment.Step(acted.Action 0, observation)
            total <- total + result.Reward
            if result.IsFinished then replyTo.Tell total else this.Ask()
        | :? ActRejected as rejected -> failwith rejected.Reason
        | _ -> this.Unhandled message

/// One episode with the policy API directly.
let playDirectly (policy: TrainedPolicy) (seed: int) =
    let environment = EnvironmentRegistry.Builtin.Make "CartPole-v1"
    let observation = Array.zeroCreate<float32> 4
    environment.Reset(Nullable seed, observation)
    let rec play total =
        let result = environment.Step(policy.Act(observation, deterministic = true), observation)
        if result.IsFinished then total + result.Reward else play (total + result.Reward)
    play 0.0

/// A CartPole-sized network with seeded weights (no training: the test is about serving, not learning).
let model () =
    let spec = NetworkSpec(4, [| 16 |], 2, false)
    use network = ActorCriticNetwork.CreateSeeded(spec, 5)
    Checkpoint(spec, ParameterVector(network).Read(), Map.empty)

[<Fact>]
let ``F# actors play CartPole with a policy server's actions, which are the policy API's`` () =
    task {
        use system = ActorSystem.Create "fsharp-serving"
        let checkpoint = model ()
        let server = PolicyServing.Start(system, checkpoint, PolicyServerOptions().WithMaxBatch(64))
        let players = [ for i in 1..4 -> system.ActorOf(Props.Create(fun () -> Player server)) ]
        let! returns =
            players
            |> List.mapi (fun i player -> player.Ask<float>(Play i, TimeSpan.FromSeconds 60.0))
            |> Task.WhenAll
        Assert.All(returns, fun r -> Assert.True(r >= 1.0))

        // The same episode played with the policy API directly scores the same: the server answered exactly as it acts.
        use policy = TrainedPolicy.FromCheckpoint checkpoint
        Assert.Equal(playDirectly policy 0, returns[0])

        // Ask works too; a malformed request gets a rejection naming the field, and the server keeps serving.
        let! rejected = server.Ask<ActRejected>(Act(7L, [| 1.0f; nanf |]), TimeSpan.FromSeconds 30.0)
        Assert.Contains("Observations holds 2 floats", rejected.Reason)
        let! acted = server.Ask<Acted>(Act(8L, [| 0.0f; 0.0f; 0.0f; 0.0f |]).WithValues(true), TimeSpan.FromSeconds 30.0)
        Assert.Equal(policy.Decide(Array.zeroCreate 4, true).ActionIndex, acted.ActionIndex 0)
        Assert.Equal(1, acted.Values.Length)
        do! system.Terminate()
    }
