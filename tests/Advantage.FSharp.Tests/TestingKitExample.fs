/// The F# example of docs/testing-kit.md, compiled and run so the documentation cannot rot.
module MyReturnTests

open Advantage.Learning
open Advantage.Learning.Testing
open FsCheck.FSharp
open FsCheck.Xunit

// Your own return code; here, n-step returns as one backward loop per column.
let myNStep (x: ReturnInputs) (gamma: float) : float32[] =
    let result = Array.zeroCreate (x.Steps * x.Envs)
    for n in 0 .. x.Envs - 1 do
        let mutable next = float x.BootstrapValues[n]
        for t in x.Steps - 1 .. -1 .. 0 do
            let i = t * x.Envs + n
            let r = float x.Rewards[i]
            next <-
                if x.Terminated[i] then r
                elif x.Truncated[i] then r + gamma * float x.FinalValues[i]
                else r + gamma * next
            result[i] <- float32 next
    result

[<Property(Arbitrary = [| typeof<ReturnArbitraries> |])>]
let ``my n-step matches the reference`` (c: ReturnCase) =
    (ReferenceReturns.NStep c).Check(myNStep c.Inputs c.Gamma)

// Edge cases on demand: one-step rollouts in which every step ends an episode.
[<Property>]
let ``my n-step matches the reference on one-step episodes`` () =
    let shape = ReturnCaseShape.Default.WithSteps(1, 1).WithDones DonePattern.AlwaysDone
    Prop.forAll (ReturnGenerators.Arbitrary shape) (fun c -> (ReferenceReturns.NStep c).Check(myNStep c.Inputs c.Gamma))
