/// An environment written in F# as an object expression, stepped by the library's VectorEnvironment,
/// and its rollout turned into returns: the path an F# user takes from their own task to A2C targets.
module Advantage.FSharp.Tests.EnvironmentTests

open System
open Advantage.Environments
open Advantage.Learning
open Advantage.Learning.Testing
open Xunit

/// A corridor: the observation is the position, action 1 moves one cell forward, every step pays 1,
/// and reaching the goal ends the MDP (terminated). Time limits come from the library's TimeLimit.
let corridor (goal: int) : IEnvironment =
    let position = ref 0
    { new IEnvironment with
        member _.ObservationSpace = Box.Uniform([| 1 |], 0f, 1000f)
        member _.ActionSpace = Discrete 2
        member _.Reset(_seed, observation) =
            position.Value <- 0
            observation[0] <- 0f
        member _.Step(action, observation) =
            position.Value <- position.Value + int action[0]
            observation[0] <- float32 position.Value
            StepResult(1.0, position.Value >= goal, false) }

/// A stand-in critic: half the position.
let value (observation: float32) = 0.5f * observation

[<Fact>]
let ``an object-expression environment steps in VectorEnvironment and its rollout feeds the returns`` () =
    // Column 0 reaches its goal every 3 steps (terminated); column 1 is cut by a 4-step time limit (truncated).
    let vector = VectorEnvironment [| TimeLimit(corridor 3, 10) :> IEnvironment; TimeLimit(corridor 100, 4) |]
    let steps, envs = 8, vector.Count
    let rewards, values, finalValues = Array.zeroCreate (steps * envs), Array.zeroCreate (steps * envs), Array.zeroCreate (steps * envs)
    let terminated, truncated = Array.zeroCreate (steps * envs), Array.zeroCreate (steps * envs)
    let finished = ResizeArray()
    vector.Reset 42
    Assert.Equal<float32>([| 0f; 0f |], vector.Observations.ToArray())
    let forward = Array.create envs 1f
    for t in 0 .. steps - 1 do
        for n in 0 .. envs - 1 do
            values[t * envs + n] <- value vector.Observations[n]
        vector.Step forward
        for n in 0 .. envs - 1 do
            let i = t * envs + n
            rewards[i] <- vector.Rewards[n]
            terminated[i] <- vector.Terminated[n]
            truncated[i] <- vector.Truncated[n]
            finalValues[i] <- if vector.Truncated[n] then value vector.FinalObservations[n] else nanf // never read there
            if vector.Terminated[n] || vector.Truncated[n] then
                finished.Add((t, n, vector.FinishedReturns[n], vector.FinishedLengths[n]))
    let bootstrap = Array.init envs (fun n -> value vector.Observations[n])

    // Episode bookkeeping: column 0 terminates at t = 2 and 5, column 1 is truncated at t = 3 and 7.
    Assert.Equal<bool>([| false; false; true; false; false; true; false; false |], Array.init steps (fun t -> terminated[t * envs]))
    Assert.Equal<bool>([| false; false; false; true; false; false; false; true |], Array.init steps (fun t -> truncated[t * envs + 1]))
    Assert.Equal<(int * int * float * int) list>(
        [ (2, 0, 3.0, 3); (3, 1, 4.0, 4); (5, 0, 3.0, 3); (7, 1, 4.0, 4) ], List.ofSeq finished)
    Assert.Equal(2f, finalValues[3 * envs + 1]) // V(final observation 4), though the column already restarted at 0
    Assert.Equal(0f, values[4 * envs + 1])

    // Returns, gamma 0.5. Column 0: cut at each termination, bootstrapped from V(position 2) = 1 at the end.
    // Column 1: every truncation bootstraps from V(4) = 2, so R = 1 + 0.5 * 2 = 2 all along.
    let inputs = ReturnInputs(steps, envs, rewards, values, bootstrap, terminated, truncated, finalValues)
    let returns = Returns.NStep(inputs, 0.5)
    Assert.Equal<float32>([| 1.75f; 1.5f; 1f; 1.75f; 1.5f; 1f; 1.75f; 1.5f |], Array.init steps (fun t -> returns[t * envs]))
    Assert.Equal<float32>(Array.create steps 2f, Array.init steps (fun t -> returns[t * envs + 1]))
    Assert.True((ReferenceReturns.NStep(inputs, 0.5)).Matches returns)
    let gae = Returns.Gae(inputs, 0.5, 0.95)
    Assert.True((ReferenceReturns.Gae(inputs, 0.5, 0.95)).Matches gae)

    // The zero-allocation span API reads the same from F#: arrays convert to spans at the call.
    let buffer: float32[] = Array.zeroCreate (steps * envs)
    Returns.NStep(rewards, values, bootstrap, terminated, truncated, finalValues, steps, envs, 0.5, buffer)
    Assert.Equal<float32>(returns, buffer)

/// The corridor as a user would check it before training: from F#, with a factory, each finding a record.
[<Fact>]
let ``the checker runs from F# and names the method, step and element of a fault`` () =
    let report = EnvironmentChecker.Check((fun () -> TimeLimit(corridor 3, 10) :> IEnvironment), name = "Corridor-v0")
    // Clean but for one warning: the corridor ignores Reset's seed, so two seeds give the same episode.
    Assert.False report.HasErrors
    let warning = Assert.Single report.Findings
    Assert.Equal(FindingSeverity.Warning, warning.Severity)
    Assert.Equal(EnvironmentMethod.Reset, warning.Method)
    Assert.Contains("is the seed used?", warning.Message)

    // A corridor that writes its position and the goal: two floats where it declares one.
    let twoFloats () : IEnvironment =
        { new IEnvironment with
            member _.ObservationSpace = Box.Uniform([| 1 |], 0f, 1000f)
            member _.ActionSpace = Discrete 2
            member _.Reset(_seed, observation) =
                observation[0] <- 0f
                observation[1] <- 3f
            member _.Step(_action, observation) =
                observation[0] <- 1f
                StepResult.Terminal 1.0 }
    let broken = EnvironmentChecker.Check(twoFloats, EnvironmentCheckOptions.Default.WithSteps 50)
    Assert.True broken.HasErrors
    let error = Assert.Single broken.Errors
    Assert.Equal(EnvironmentMethod.Reset, error.Method)
    Assert.False error.Step.HasValue
    Assert.Contains("Reset writes 2 observation floats, but the observation space declares 1", error.Message)
