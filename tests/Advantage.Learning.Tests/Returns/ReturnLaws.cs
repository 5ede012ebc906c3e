using Advantage.Learning.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Advantage.Learning.Tests.Returns;

using Returns = Advantage.Learning.Returns;

/// <summary>
/// The laws of ARCHITECTURE.md "Return semantics", checked on generated rollouts from the testing kit.
/// Float results are compared in double against a bound derived from the magnitudes of the terms
/// (<see cref="ReturnTolerance"/>); laws that hold exactly (the same arithmetic on the same numbers)
/// are compared bit for bit.
/// </summary>
[Properties(Arbitrary = [typeof(ReturnArbitraries)])]
public class ReturnLaws
{
    private static GaeResult Gae(ReturnCase c) => Returns.Gae(c.Inputs, c.Gamma, c.Lambda);
    private static float[] NStep(ReturnCase c) => Returns.NStep(c.Inputs, c.Gamma);

    [Property]
    public Property NStep_AgreesWithThePlainRecursiveReference_OnEveryGeneratedCase(ReturnCase c) =>
        ReferenceReturns.NStep(c).Check(NStep(c));

    [Property]
    public Property Gae_AgreesWithThePlainRecursiveReference_OnEveryGeneratedCase(ReturnCase c) =>
        ReferenceReturns.Gae(c).Check(Gae(c));

    [Property]
    public Property GaeWithLambdaOne_EqualsNStepMinusV(ReturnCase c)
    {
        var gae = Returns.Gae(c.Inputs, c.Gamma, 1.0);
        float[] nstep = NStep(c);
        var v = c.Inputs.Values;
        var adv = ReferenceReturns.Gae(c.Inputs, c.Gamma, 1.0).Advantages.Magnitudes;
        var ret = ReferenceReturns.NStep(c).Magnitudes;
        // Both sides are rounded once each: allow the sum of their magnitudes.
        return LawAssert.All(
            LawAssert.Close("advantages vs n-step - V", gae.Advantages,
                nstep.Select((r, i) => (double)r - v[i]).ToArray(), adv.Select((m, i) => m + ret[i] + Math.Abs(v[i])).ToArray(), c.Envs),
            LawAssert.Close("returns vs n-step", gae.Returns,
                nstep.Select(r => (double)r).ToArray(), adv.Select((m, i) => m + ret[i] + Math.Abs(v[i])).ToArray(), c.Envs));
    }

    [Property]
    public Property GaeWithLambdaZero_EqualsTheOneStepTdError(ReturnCase c) =>
        ReferenceReturns.TdErrors(c.Inputs, c.Gamma).Check(Returns.Gae(c.Inputs, c.Gamma, 0.0).Advantages);

    [Property]
    public Property GaeWithLambdaZero_AtEachStep_EqualsThatStepAloneAsAOneStepRollout(ReturnCase c)
    {
        var whole = Returns.Gae(c.Inputs, c.Gamma, 0.0).Advantages;
        var alone = Enumerable.Range(0, c.Steps)
            .SelectMany(t => Returns.Gae(c.SelectSteps(t, 1).Inputs, c.Gamma, 0.0).Advantages).ToArray();
        return LawAssert.Same("lambda 0 advantage vs the step alone", whole, alone, c.Envs);
    }

    [Property]
    public Property GammaZero_GivesTheRewards(ReturnCase c)
    {
        var x = c.Inputs;
        var gae = Returns.Gae(x, 0.0, c.Lambda);
        var magnitude = x.Rewards.Select((r, i) => Math.Abs(r) + 2.0 * Math.Abs(x.Values[i])).ToArray();
        return LawAssert.All(
            LawAssert.Same("n-step returns vs rewards", Returns.NStep(x, 0.0), x.Rewards, c.Envs),
            LawAssert.Close("GAE returns vs rewards", gae.Returns, x.Rewards.Select(r => (double)r).ToArray(), magnitude, c.Envs),
            LawAssert.Close("GAE advantages vs r - V", gae.Advantages,
                x.Rewards.Select((r, i) => (double)r - x.Values[i]).ToArray(), magnitude, c.Envs));
    }

    [Property]
    public Property ATerminatedStep_CutsEveryLaterRewardAndValueOff(ReturnCase c, int seed) =>
        CutLaw(c, seed, terminated: true);

    [Property]
    public Property ATruncatedStep_AlsoCutsEveryLaterRewardAndValueOff(ReturnCase c, int seed) =>
        CutLaw(c, seed, terminated: false);

    /// <summary>
    /// Marks one random step done (so the law is never vacuous), then replaces everything after the first
    /// done step of each column (rewards, values, flags, final values and the bootstrap value) with
    /// other random data: results up to that step must not change by a single bit.
    /// </summary>
    private static Property CutLaw(ReturnCase c, int seed, bool terminated)
    {
        var rng = new Random(seed);
        int steps = c.Steps, envs = c.Envs;
        var x = c.Inputs;
        var term = (bool[])x.Terminated.Clone();
        var trunc = (bool[])x.Truncated.Clone();
        int forced = rng.Next(steps) * envs + rng.Next(envs);
        if (terminated) term[forced] = true;
        else { trunc[forced] = true; term[forced] = false; }
        var cut = x.WithTerminated(term).WithTruncated(trunc);

        int[] firstCut = new int[envs];
        var r = (float[])cut.Rewards.Clone();
        var v = (float[])cut.Values.Clone();
        var fin = (float[])cut.FinalValues.Clone();
        var boot = (float[])cut.BootstrapValues.Clone();
        var term2 = (bool[])term.Clone();
        var trunc2 = (bool[])trunc.Clone();
        for (int n = 0; n < envs; n++)
        {
            int t0 = 0;
            while (t0 < steps && !(terminated ? term[t0 * envs + n] : trunc[t0 * envs + n] && !term[t0 * envs + n])) t0++;
            firstCut[n] = t0;
            if (t0 == steps) continue; // no cut in this column: everything in it may matter
            for (int t = t0 + 1; t < steps; t++)
            {
                int i = t * envs + n;
                r[i] = Other(rng); v[i] = Other(rng); fin[i] = Other(rng);
                term2[i] = rng.Next(4) == 0; trunc2[i] = rng.Next(4) == 0;
            }
            boot[n] = Other(rng);
        }
        var changed = new ReturnInputs(steps, envs, r, v, boot, term2, trunc2, fin);

        var a = Returns.Gae(cut, c.Gamma, c.Lambda);
        var b = Returns.Gae(changed, c.Gamma, c.Lambda);
        var na = Returns.NStep(cut, c.Gamma);
        var nb = Returns.NStep(changed, c.Gamma);
        for (int n = 0; n < envs; n++)
            for (int t = 0; t <= firstCut[n] && t < steps; t++) // a column without a cut changed nothing
            {
                int i = t * envs + n;
                if (!a.Advantages[i].Equals(b.Advantages[i]) || !a.Returns[i].Equals(b.Returns[i]) || !na[i].Equals(nb[i]))
                    return false.Label($"(t {t}, n {n}) changed when data after the cut at t {firstCut[n]} changed");
            }
        return true.ToProperty();
    }

    private static float Other(Random rng) => (float)((rng.NextDouble() * 2 - 1) * 100);

    [Property]
    public Property ATruncatedStep_BootstrapsFromItsFinalValue_LikeATerminatedStepWhoseRewardCarriesGammaTimesThatValue(ReturnCase c, int seed)
    {
        var rng = new Random(seed);
        var x = c.Inputs;
        var term = (bool[])x.Terminated.Clone();
        var trunc = (bool[])x.Truncated.Clone();
        int forced = rng.Next(x.Rewards.Length);
        trunc[forced] = true; term[forced] = false; // at least one truncated step, so the law is never vacuous
        var truncatedCase = x.WithTerminated(term).WithTruncated(trunc);

        var r = (float[])x.Rewards.Clone();
        var term2 = (bool[])term.Clone();
        var trunc2 = (bool[])trunc.Clone();
        for (int i = 0; i < r.Length; i++)
            if (trunc[i] && !term[i])
            {
                r[i] = (float)(x.Rewards[i] + c.Gamma * x.FinalValues[i]);
                term2[i] = true;
                trunc2[i] = rng.Next(2) == 0; // terminated wins either way
            }
        var terminatedCase = truncatedCase.WithRewards(r).WithTerminated(term2).WithTruncated(trunc2);

        // Three roundings (the folded reward, and each side's output): twice the magnitude covers them.
        var refGae = ReferenceReturns.Gae(truncatedCase, c.Gamma, c.Lambda);
        var refNStep = ReferenceReturns.NStep(truncatedCase, c.Gamma);
        var a = Returns.Gae(truncatedCase, c.Gamma, c.Lambda);
        var b = Returns.Gae(terminatedCase, c.Gamma, c.Lambda);
        return LawAssert.All(
            LawAssert.Close("n-step", Returns.NStep(truncatedCase, c.Gamma),
                Returns.NStep(terminatedCase, c.Gamma).Select(f => (double)f).ToArray(), refNStep.Magnitudes.Select(m => 2 * m).ToArray(), c.Envs),
            LawAssert.Close("advantages", a.Advantages,
                b.Advantages.Select(f => (double)f).ToArray(), refGae.Advantages.Magnitudes.Select(m => 2 * m).ToArray(), c.Envs),
            LawAssert.Close("returns", a.Returns,
                b.Returns.Select(f => (double)f).ToArray(), refGae.Returns.Magnitudes.Select(m => 2 * m).ToArray(), c.Envs));
    }

    [Property]
    public Property FinalValues_AreReadOnlyWhereTruncatedAndNotTerminated(ReturnCase c)
    {
        var x = c.Inputs;
        var fin = x.FinalValues.Select((f, i) => x.Truncated[i] && !x.Terminated[i] ? f : float.NaN).ToArray();
        var y = x.WithFinalValues(fin);
        var a = Returns.Gae(x, c.Gamma, c.Lambda);
        var b = Returns.Gae(y, c.Gamma, c.Lambda);
        return LawAssert.All(
            LawAssert.Same("n-step", Returns.NStep(y, c.Gamma), Returns.NStep(x, c.Gamma), c.Envs),
            LawAssert.Same("advantages", b.Advantages, a.Advantages, c.Envs),
            LawAssert.Same("returns", b.Returns, a.Returns, c.Envs));
    }

    [Property]
    public Property PermutingColumns_PermutesResults(ReturnCase c, int seed)
    {
        int[] perm = Enumerable.Range(0, c.Envs).ToArray();
        new Random(seed).Shuffle(perm);
        var permuted = c.SelectColumns(perm);
        var gae = Gae(c);
        var pg = Gae(permuted);
        return LawAssert.All(
            LawAssert.Same("n-step", NStep(permuted), ReturnLayout.SelectColumns(NStep(c), c.Steps, c.Envs, perm), c.Envs),
            LawAssert.Same("advantages", pg.Advantages, ReturnLayout.SelectColumns(gae.Advantages, c.Steps, c.Envs, perm), c.Envs),
            LawAssert.Same("returns", pg.Returns, ReturnLayout.SelectColumns(gae.Returns, c.Steps, c.Envs, perm), c.Envs));
    }

    [Property]
    public Property EachColumnAlone_GivesThatColumnsResults(ReturnCase c)
    {
        var gae = Gae(c);
        float[] nstep = NStep(c);
        return LawAssert.All(Enumerable.Range(0, c.Envs).Select(n =>
        {
            int[] column = [n];
            var alone = c.SelectColumns(column);
            var ga = Gae(alone);
            return LawAssert.All(
                LawAssert.Same($"n-step column {n}", NStep(alone), ReturnLayout.SelectColumns(nstep, c.Steps, c.Envs, column), 1),
                LawAssert.Same($"advantages column {n}", ga.Advantages, ReturnLayout.SelectColumns(gae.Advantages, c.Steps, c.Envs, column), 1),
                LawAssert.Same($"returns column {n}", ga.Returns, ReturnLayout.SelectColumns(gae.Returns, c.Steps, c.Envs, column), 1));
        }).ToArray());
    }

    [Property]
    public Property TheLastKSteps_GiveTheSameResultsAlone(ReturnCase c, int seed)
    {
        int start = new Random(seed).Next(c.Steps);
        var tail = c.SelectSteps(start, c.Steps - start);
        var gae = Gae(c);
        var tg = Gae(tail);
        int from = start * c.Envs;
        return LawAssert.All(
            LawAssert.Same("n-step", NStep(tail), NStep(c)[from..], c.Envs),
            LawAssert.Same("advantages", tg.Advantages, gae.Advantages[from..], c.Envs),
            LawAssert.Same("returns", tg.Returns, gae.Returns[from..], c.Envs));
    }

    [Property]
    public Property ScalingRewardsAndValuesByC_ScalesReturnsAndAdvantagesByC(ReturnCase c, int seed)
    {
        var rng = new Random(seed);
        double scale = rng.Next(4) == 0 ? Math.ScaleB(1.0, rng.Next(-4, 5)) * (rng.Next(2) * 2 - 1) : rng.Next(-8000, 8001) / 1000.0;
        var x = c.Inputs;
        float[] Scaled(float[] a) => a.Select(f => (float)(scale * f)).ToArray();
        var y = new ReturnInputs(x.Steps, x.Envs, Scaled(x.Rewards), Scaled(x.Values), Scaled(x.BootstrapValues),
            x.Terminated, x.Truncated, Scaled(x.FinalValues));

        // Inputs rounded after scaling, and both outputs rounded: three roundings of |c| * magnitude.
        var refGae = ReferenceReturns.Gae(c);
        var refNStep = ReferenceReturns.NStep(c);
        double[] Bound(double[] m) => m.Select(v => 2 * Math.Abs(scale) * v).ToArray();
        double[] Times(float[] a) => a.Select(f => scale * f).ToArray();
        var gx = Gae(c);
        var gy = Returns.Gae(y, c.Gamma, c.Lambda);
        return LawAssert.All(
            LawAssert.Close("n-step", Returns.NStep(y, c.Gamma), Times(NStep(c)), Bound(refNStep.Magnitudes), c.Envs),
            LawAssert.Close("advantages", gy.Advantages, Times(gx.Advantages), Bound(refGae.Advantages.Magnitudes), c.Envs),
            LawAssert.Close("returns", gy.Returns, Times(gx.Returns), Bound(refGae.Returns.Magnitudes), c.Envs))
            .Label($"c = {scale}");
    }

    // Edge shapes: the reference must agree on the smallest and most extreme rollouts too.

    private static Property AgreesOn(ReturnCaseShape shape) =>
        Prop.ForAll(ReturnGenerators.Arbitrary(shape), c =>
            ReferenceReturns.NStep(c).Check(NStep(c)).And(ReferenceReturns.Gae(c).Check(Gae(c))));

    [Property]
    public Property EdgeShape_OneStep_AgreesWithTheReference() =>
        AgreesOn(ReturnCaseShape.Default.WithSteps(1, 1));

    [Property]
    public Property EdgeShape_OneEnvironment_AgreesWithTheReference() =>
        AgreesOn(ReturnCaseShape.Default.WithEnvs(1, 1));

    [Property]
    public Property EdgeShape_OneStepOneEnvironment_AgreesWithTheReference() =>
        AgreesOn(ReturnCaseShape.Default.WithSteps(1, 1).WithEnvs(1, 1));

    [Property]
    public Property EdgeShape_EveryStepDone_AgreesWithTheReference() =>
        AgreesOn(ReturnCaseShape.Default.WithDones(DonePattern.AlwaysDone));

    [Property]
    public Property EdgeShape_NoStepDone_AgreesWithTheReference() =>
        AgreesOn(ReturnCaseShape.Default.WithDones(DonePattern.NeverDone));

    [Property]
    public Property EveryStepDone_EveryResultIsItsOwnOneStepTarget_WhateverLambda() =>
        Prop.ForAll(ReturnGenerators.Arbitrary(ReturnCaseShape.Default.WithDones(DonePattern.AlwaysDone)), c =>
            LawAssert.All(
                ReferenceReturns.Targets(c.Inputs, c.Gamma).Check(NStep(c)),
                ReferenceReturns.TdErrors(c.Inputs, c.Gamma).Check(Gae(c).Advantages),
                LawAssert.Same("advantages for lambda vs 0", Gae(c).Advantages, Returns.Gae(c.Inputs, c.Gamma, 0.0).Advantages, c.Envs)));

    [Property]
    public Property NoStepDone_NStepIsTheDiscountedSumOfRewardsPlusTheDiscountedBootstrap() =>
        Prop.ForAll(ReturnGenerators.Arbitrary(ReturnCaseShape.Default.WithDones(DonePattern.NeverDone)), c =>
        {
            var x = c.Inputs;
            int steps = c.Steps, envs = c.Envs;
            var expected = new double[steps * envs];
            var magnitude = new double[steps * envs];
            for (int t = 0; t < steps; t++)
                for (int n = 0; n < envs; n++)
                {
                    // R_t = sum_{k=t}^{T-1} gamma^(k-t) r_k + gamma^(T-t) V(s_T)
                    double sum = 0, mag = 0;
                    for (int k = t; k < steps; k++)
                    {
                        double w = Math.Pow(c.Gamma, k - t);
                        sum += w * x.Rewards[k * envs + n];
                        mag += w * Math.Abs(x.Rewards[k * envs + n]);
                    }
                    double wT = Math.Pow(c.Gamma, steps - t);
                    expected[t * envs + n] = sum + wT * x.BootstrapValues[n];
                    magnitude[t * envs + n] = mag + wT * Math.Abs(x.BootstrapValues[n]);
                }
            // Math.Pow and the reordered sum add a few double roundings per term, far below the float bound.
            return LawAssert.Close("n-step vs closed form", NStep(c), expected, magnitude, envs);
        });
}
