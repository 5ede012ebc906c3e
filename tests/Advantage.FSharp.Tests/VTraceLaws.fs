/// The V-trace laws again, written the way an F# user would: against the public C# API
/// (Returns.VTrace, ReturnInputs) and the testing kit (VTraceCase, ReferenceReturns, ReturnGenerators).
[<FsCheck.Xunit.Properties(Arbitrary = [| typeof<Advantage.Learning.Testing.ReturnArbitraries> |])>]
module Advantage.FSharp.Tests.VTraceLaws

open System
open Advantage.Learning
open Advantage.Learning.Testing
open FsCheck.FSharp
open FsCheck.Xunit

let private vtrace (c: VTraceCase) =
    Returns.VTrace(c.Inputs, c.LogRhos, c.Gamma, c.Lambda, c.RhoBar, c.CBar, c.PgRhoBar)

/// Every element within the float bound of its magnitude, compared in double.
let private close (actual: float32[]) (expected: float[]) (magnitude: float[]) =
    Array.length actual = Array.length expected
    && Array.forall id (Array.init actual.Length (fun i -> ReturnTolerance.Agree(float actual[i], expected[i], magnitude[i])))

/// Bit-for-bit equal (NaN equals NaN).
let private same (a: float32[]) (b: float32[]) = a.Length = b.Length && Array.forall2 (fun (x: float32) y -> x.Equals y) a b

let private plus (a: float[]) (b: float[]) = Array.map2 (+) a b

/// On-policy, every threshold at least 1 or none: no clipping bites.
let private onPolicy (c: VTraceCase) =
    let atLeastOne (bar: Nullable<float>) = if bar.HasValue then Nullable(max 1.0 bar.Value) else bar
    c.OnPolicy().WithRhoBar(atLeastOne c.RhoBar).WithCBar(atLeastOne c.CBar).WithPgRhoBar(atLeastOne c.PgRhoBar)

// (e) oracle agreement
[<Property>]
let ``V-trace agrees with the paper-sum reference on every generated case`` (c: VTraceCase) =
    (ReferenceReturns.VTrace c).Check(vtrace c)

[<Property>]
let ``edge shape every step done agrees with the reference`` () =
    Prop.forAll (ReturnGenerators.VTraceArbitrary(ReturnCaseShape.Default.WithDones DonePattern.AlwaysDone)) (fun c ->
        (ReferenceReturns.VTrace c).Matches(vtrace c))

// (a) on-policy: vs is GAE(lambda)'s return; pg advantage is A_t + gamma (1 - lambda) (1 - done_t) A_{t+1}
[<Property>]
let ``on-policy vs is the GAE return and the pg advantage is A_t + gamma (1 - lambda) A_t+1`` (generated: VTraceCase) =
    let c = onPolicy generated
    let x = c.Inputs
    let size, envs = x.Rewards.Length, c.Envs
    let gae = Returns.Gae(x, c.Gamma, c.Lambda)
    let expectedGae = ReferenceReturns.Gae c.ReturnCase
    let expected = ReferenceReturns.VTrace c
    let result = vtrace c
    let w = c.Gamma * (1.0 - c.Lambda)
    let follows i = i + envs < size && not (x.Terminated[i] || x.Truncated[i])
    let pg = Array.init size (fun i -> float gae.Advantages[i] + (if follows i then w * float gae.Advantages[i + envs] else 0.0))
    let pgMagnitude =
        Array.init size (fun i ->
            expectedGae.Advantages.Magnitudes[i] + expected.PgAdvantages.Magnitudes[i]
            + (if follows i then w * expectedGae.Advantages.Magnitudes[i + envs] else 0.0))
    close result.Vs (Array.map float gae.Returns) (plus expectedGae.Returns.Magnitudes expected.Vs.Magnitudes)
    && close result.PgAdvantages pg pgMagnitude

// (b) on-policy, lambda 1: n-step returns and n-step advantages
[<Property>]
let ``on-policy with lambda 1 vs is the n-step return and the pg advantage is n-step minus V`` (generated: VTraceCase) =
    let c = (onPolicy generated).WithLambda 1.0
    let x = c.Inputs
    let nstep = Returns.NStep(x, c.Gamma)
    let nstepMagnitude = (ReferenceReturns.NStep(x, c.Gamma)).Magnitudes
    let expected = ReferenceReturns.VTrace c
    let result = vtrace c
    close result.Vs (Array.map float nstep) (plus nstepMagnitude expected.Vs.Magnitudes)
    && close result.PgAdvantages
        (Array.map2 (fun (r: float32) (v: float32) -> float r - float v) nstep x.Values)
        (plus (plus nstepMagnitude expected.PgAdvantages.Magnitudes) (x.Values |> Array.map (fun v -> abs (float v))))

// (c) with every TD error >= 0 (<= 0), raising any threshold never lowers (raises) a vs or a pg advantage
[<Property>]
let ``raising a threshold never moves vs or pg advantages against the sign of the TD errors`` (generated: VTraceCase) (seed: int) =
    let rng = Random seed
    let nonNegative = rng.Next 2 = 0
    let low = generated.WithInputs(ReturnGenerators.WithTdErrorSign(generated.Inputs, generated.Gamma, nonNegative))
    let raise (bar: Nullable<float>) =
        if not bar.HasValue || rng.Next 4 = 0 then Nullable() else Nullable(bar.Value * (1.0 + float (rng.Next(1, 4000)) / 1000.0))
    let high =
        match rng.Next 3 with
        | 0 -> low.WithRhoBar(raise low.RhoBar)
        | 1 -> low.WithCBar(raise low.CBar)
        | _ -> low.WithPgRhoBar(raise low.PgRhoBar)
    let a, b = vtrace low, vtrace high
    let ma, mb = ReferenceReturns.VTrace low, ReferenceReturns.VTrace high
    let sign = if nonNegative then 1.0 else -1.0
    let ok (x: float32[]) (y: float32[]) (mx: float[]) (my: float[]) =
        Array.forall id (Array.init x.Length (fun i -> sign * (float y[i] - float x[i]) >= -ReturnTolerance.Bound(mx[i] + my[i])))
    (ok a.Vs b.Vs ma.Vs.Magnitudes mb.Vs.Magnitudes
     && ok a.PgAdvantages b.PgAdvantages ma.PgAdvantages.Magnitudes mb.PgAdvantages.Magnitudes)
    |> Prop.label $"TD errors non-negative: {nonNegative}; raised: {high}"

[<Property>]
let ``a threshold at or above every ratio is no clipping at all, bit for bit`` (c: VTraceCase) =
    let top = exp (float (Array.max c.LogRhos))
    let none = vtrace (c.WithRhoBar(Nullable()).WithCBar(Nullable()).WithPgRhoBar(Nullable()))
    let high = vtrace (c.WithRhoBar(Nullable top).WithCBar(Nullable(2.0 * top)).WithPgRhoBar(Nullable top))
    same high.Vs none.Vs && same high.PgAdvantages none.PgAdvantages

// (d) a truncated step is a terminated step whose reward carries gamma * V(final observation)
[<Property>]
let ``a truncated step is a terminated step whose reward carries gamma V(final)`` (generated: VTraceCase) (seed: int) =
    // At least one step truncated (and not terminated), so the law is never vacuous.
    let forced = Random(seed).Next generated.Inputs.Rewards.Length
    let g = generated.Inputs
    let c =
        generated.WithInputs(
            g.WithTruncated(g.Truncated |> Array.mapi (fun i f -> f || i = forced))
             .WithTerminated(g.Terminated |> Array.mapi (fun i f -> f && i <> forced)))
    let x = c.Inputs
    let onlyTruncated i = x.Truncated[i] && not x.Terminated[i]
    let folded =
        x.WithRewards(x.Rewards |> Array.mapi (fun i r -> if onlyTruncated i then float32 (float r + c.Gamma * float x.FinalValues[i]) else r))
         .WithTerminated(Array.init x.Rewards.Length (fun i -> x.Terminated[i] || onlyTruncated i))
    // Three roundings (the folded reward, each side's output): twice the magnitude covers them.
    let twice (m: float[]) = Array.map ((*) 2.0) m
    let expected = ReferenceReturns.VTrace c
    let a, b = vtrace c, vtrace (c.WithInputs folded)
    (close a.Vs (Array.map float b.Vs) (twice expected.Vs.Magnitudes)
     && close a.PgAdvantages (Array.map float b.PgAdvantages) (twice expected.PgAdvantages.Magnitudes))

[<Property>]
let ``permuting columns permutes results`` (c: VTraceCase) (seed: int) =
    let perm = Array.init c.Envs id
    Random(seed).Shuffle perm
    let select (a: float32[]) = ReturnLayout.SelectColumns(a, c.Steps, c.Envs, perm)
    let whole, permuted = vtrace c, vtrace (c.SelectColumns perm)
    same permuted.Vs (select whole.Vs) && same permuted.PgAdvantages (select whole.PgAdvantages)
