/// The return laws of ARCHITECTURE.md again, written the way an F# user would: against the public C# API
/// (Returns, ReturnInputs) and the testing kit (ReturnCase, ReferenceReturns, ReturnGenerators).
[<FsCheck.Xunit.Properties(Arbitrary = [| typeof<Advantage.Learning.Testing.ReturnArbitraries> |])>]
module Advantage.FSharp.Tests.ReturnLaws

open System
open Advantage.Learning
open Advantage.Learning.Testing
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit

let private nstep (c: ReturnCase) = Returns.NStep(c.Inputs, c.Gamma)
let private gae (c: ReturnCase) = Returns.Gae(c.Inputs, c.Gamma, c.Lambda)

/// Every element within the float bound of its magnitude, compared in double.
let private close (actual: float32[]) (expected: float[]) (magnitude: float[]) =
    Array.length actual = Array.length expected
    && Array.forall id (Array.init actual.Length (fun i -> ReturnTolerance.Agree(float actual[i], expected[i], magnitude[i])))

/// Bit-for-bit equal (NaN equals NaN), for laws that redo the same arithmetic on the same numbers.
let private same (a: float32[]) (b: float32[]) = a.Length = b.Length && Array.forall2 (fun (x: float32) y -> x.Equals y) a b

[<Property>]
let ``n-step agrees with the plain recursive reference on every generated case`` (c: ReturnCase) =
    (ReferenceReturns.NStep c).Check(nstep c)

[<Property>]
let ``GAE agrees with the plain recursive reference on every generated case`` (c: ReturnCase) =
    (ReferenceReturns.Gae c).Check(gae c)

[<Property>]
let ``GAE with lambda 1 equals n-step minus V`` (c: ReturnCase) =
    let a = Returns.Gae(c.Inputs, c.Gamma, 1.0)
    let r = nstep c
    let v = c.Inputs.Values
    let magnitude =
        Array.map3 (fun ma mr (vi: float32) -> ma + mr + abs (float vi))
            (ReferenceReturns.Gae(c.Inputs, c.Gamma, 1.0)).Advantages.Magnitudes (ReferenceReturns.NStep c).Magnitudes v
    close a.Advantages (Array.map2 (fun (ri: float32) (vi: float32) -> float ri - float vi) r v) magnitude
    && close a.Returns (Array.map float r) magnitude

[<Property>]
let ``GAE with lambda 0 equals the one-step TD error`` (c: ReturnCase) =
    (ReferenceReturns.TdErrors(c.Inputs, c.Gamma)).Matches (Returns.Gae(c.Inputs, c.Gamma, 0.0)).Advantages

[<Property>]
let ``gamma 0 gives the rewards`` (c: ReturnCase) =
    same (Returns.NStep(c.Inputs, 0.0)) c.Inputs.Rewards

[<Property>]
let ``a terminated step cuts every later reward and value off`` (c: ReturnCase) (seed: int) =
    let rng = Random seed
    let steps, envs = c.Steps, c.Envs
    // Terminate one random step in one random column, then change everything after it.
    let t0, n0 = rng.Next steps, rng.Next envs
    let terminated = Array.copy c.Inputs.Terminated
    terminated[t0 * envs + n0] <- true
    let cut = c.Inputs.WithTerminated terminated
    let later (a: 'T[]) (other: unit -> 'T) =
        a |> Array.mapi (fun i x -> if i % envs = n0 && i / envs > t0 then other () else x)
    let noise () = float32 (rng.NextDouble() * 200.0 - 100.0)
    let coin () = rng.Next 3 = 0
    let changed =
        ReturnInputs(steps, envs, later cut.Rewards noise, later cut.Values noise,
                     cut.BootstrapValues |> Array.mapi (fun n x -> if n = n0 then noise () else x),
                     later cut.Terminated coin, later cut.Truncated coin, later cut.FinalValues noise)
    let upToCut i = i % envs <> n0 || i / envs <= t0
    let agreeUpToCut (a: float32[]) (b: float32[]) = Seq.forall (fun i -> not (upToCut i) || a[i].Equals b[i]) (seq { 0 .. a.Length - 1 })
    let g1, g2 = Returns.Gae(cut, c.Gamma, c.Lambda), Returns.Gae(changed, c.Gamma, c.Lambda)
    agreeUpToCut (Returns.NStep(cut, c.Gamma)) (Returns.NStep(changed, c.Gamma))
    && agreeUpToCut g1.Advantages g2.Advantages
    && agreeUpToCut g1.Returns g2.Returns

[<Property>]
let ``a truncated step bootstraps from its final value like a terminated step whose reward carries gamma V(final)`` (c: ReturnCase) =
    let x = c.Inputs
    let onlyTruncated i = x.Truncated[i] && not x.Terminated[i]
    let folded =
        x.WithRewards(x.Rewards |> Array.mapi (fun i r -> if onlyTruncated i then float32 (float r + c.Gamma * float x.FinalValues[i]) else r))
         .WithTerminated(Array.init x.Rewards.Length (fun i -> x.Terminated[i] || onlyTruncated i))
    // Three roundings (the folded reward, each side's output): twice the magnitude covers them.
    let twice (m: float[]) = Array.map ((*) 2.0) m
    let expected = ReferenceReturns.Gae c
    let a, b = gae c, Returns.Gae(folded, c.Gamma, c.Lambda)
    close (nstep c) (Returns.NStep(folded, c.Gamma) |> Array.map float) (twice (ReferenceReturns.NStep c).Magnitudes)
    && close a.Advantages (Array.map float b.Advantages) (twice expected.Advantages.Magnitudes)
    && close a.Returns (Array.map float b.Returns) (twice expected.Returns.Magnitudes)

[<Property>]
let ``permuting columns permutes results`` (c: ReturnCase) (seed: int) =
    let perm = Array.init c.Envs id
    Random(seed).Shuffle perm
    let permuted = c.SelectColumns perm
    let select (a: float32[]) = ReturnLayout.SelectColumns(a, c.Steps, c.Envs, perm)
    same (nstep permuted) (select (nstep c))
    && same (gae permuted).Advantages (select (gae c).Advantages)
    && same (gae permuted).Returns (select (gae c).Returns)

[<Property>]
let ``scaling rewards and values by c scales returns and advantages by c`` (c: ReturnCase) (seed: int) =
    let k = float (Random(seed).Next(-8000, 8001)) / 1000.0
    let x = c.Inputs
    let scale (a: float32[]) = a |> Array.map (fun v -> float32 (k * float v))
    let scaled =
        ReturnInputs(x.Steps, x.Envs, scale x.Rewards, scale x.Values, scale x.BootstrapValues,
                     x.Terminated, x.Truncated, scale x.FinalValues)
    let times (a: float32[]) = a |> Array.map (fun v -> k * float v)
    // Scaled inputs rounded, and both outputs rounded: three roundings of |k| * magnitude.
    let bound (m: float[]) = m |> Array.map (fun v -> 2.0 * abs k * v)
    let expected = ReferenceReturns.Gae c
    let g = Returns.Gae(scaled, c.Gamma, c.Lambda)
    (close (Returns.NStep(scaled, c.Gamma)) (times (nstep c)) (bound (ReferenceReturns.NStep c).Magnitudes)
     && close g.Advantages (times (gae c).Advantages) (bound expected.Advantages.Magnitudes)
     && close g.Returns (times (gae c).Returns) (bound expected.Returns.Magnitudes))
    |> Prop.label $"c = {k}"

let private agreesOn (shape: ReturnCaseShape) =
    Prop.forAll (ReturnGenerators.Arbitrary shape) (fun c ->
        (ReferenceReturns.NStep c).Matches(nstep c) && (ReferenceReturns.Gae c).Matches(gae c))

[<Property>]
let ``edge shape T = 1 agrees with the reference`` () = agreesOn (ReturnCaseShape.Default.WithSteps(1, 1))

[<Property>]
let ``edge shape N = 1 agrees with the reference`` () = agreesOn (ReturnCaseShape.Default.WithEnvs(1, 1))

[<Property>]
let ``edge shape every step done agrees with the reference`` () =
    agreesOn (ReturnCaseShape.Default.WithDones DonePattern.AlwaysDone)

[<Property>]
let ``edge shape no step done agrees with the reference`` () =
    agreesOn (ReturnCaseShape.Default.WithDones DonePattern.NeverDone)
