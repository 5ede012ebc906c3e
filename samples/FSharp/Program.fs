/// Trains CartPole-v1 from F# with A2C (default), PPO or IMPALA (the first argument), inside an ActorSystem this
/// program owns, then saves the network and serves it: a policy actor answers the F# actors that play CartPole.
/// The algorithm is only the type of TrainingOptions.Algorithm.
module Advantage.Samples.FSharp.Program

open System.IO
open Advantage.Actors
open Advantage.Environments
open Advantage.Learning
open Akka.Actor
open Akka.Configuration

/// Asks an episode of this player; it answers with the episode's return.
type Play = Play of seed: int

/// An F# actor that plays CartPole episodes with actions from the policy server: one Act per step, the next step when
/// its Acted arrives. Many players share one server, which answers the requests that arrive together in one pass.
type Player(server: IActorRef) =
    inherit UntypedActor()
    let environment = EnvironmentRegistry.Builtin.Make "CartPole-v1"
    let observation = Array.zeroCreate<float32> environment.ObservationSpace.FlatSize
    let mutable total = 0.0
    let mutable step = 0L
    let mutable replyTo: IActorRef = ActorRefs.Nobody

    /// The request carries a copy: the server reads the observation when it answers, and the environment overwrites it.
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
        // Serve the trained policy; four F# actors play an episode each, asking it for every action.
        let server = PolicyServing.Start(system, result.ToCheckpoint(), PolicyServerOptions())
        let players = [ for i in 1..4 -> system.ActorOf(Props.Create(fun () -> Player server), $"player-{i}") ]
        let! returns =
            players
            |> List.mapi (fun i player -> player.Ask<float>(Play(100 + i), System.TimeSpan.FromMinutes 1.0))
            |> System.Threading.Tasks.Task.WhenAll
        let! stats = server.Ask<PolicyServerStats>(GetPolicyServerStats.Instance, System.TimeSpan.FromSeconds 10.0)
        let shown = returns |> Array.map (sprintf "%.0f") |> String.concat ", "
        printfn $"Served: returns {shown}; {stats.Decisions} decisions in {stats.Batches} forward passes (mean batch %.1f{stats.MeanBatch})"
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
