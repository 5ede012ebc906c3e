using Advantage.Learning.Testing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Advantage.Learning.Tests.Returns;

using Returns = Advantage.Learning.Returns;

/// <summary>
/// The laws of V-trace (README "Return semantics"), on generated cases from the testing kit. Float results
/// are compared in double against a bound derived from the magnitudes of their terms
/// (<see cref="ReturnTolerance"/>); laws that redo the same arithmetic are compared bit for bit.
/// </summary>
[Properties(Arbitrary = [typeof(ReturnArbitraries)])]
public class VTraceLaws
{
    private static VTraceResult VTrace(VTraceCase c) =>
        Returns.VTrace(c.Inputs, c.LogRhos, c.Gamma, c.Lambda, c.RhoBar, c.CBar, c.PgRhoBar);

    private static double[] Plus(params double[][] magnitudes) =>
        Enumerable.Range(0, magnitudes[0].Length).Select(i => magnitudes.Sum(m => m[i])).ToArray();

    private static double[] AsDouble(float[] a) => a.Select(f => (double)f).ToArray();

    // (e) The oracle (the paper's sum, in double) on every generated case and on the edge shapes.

    [Property]
    public Property VTrace_AgreesWithThePaperSumReference_OnEveryGeneratedCase(VTraceCase c) =>
        ReferenceReturns.VTrace(c).Check(VTrace(c));

    private static Property AgreesOn(ReturnCaseShape shape) =>
        Prop.ForAll(ReturnGenerators.VTraceArbitrary(shape), c => ReferenceReturns.VTrace(c).Check(VTrace(c)));

    [Property]
    public Property EdgeShape_OneStepOneEnvironment_AgreesWithTheReference() =>
        AgreesOn(ReturnCaseShape.Default.WithSteps(1, 1).WithEnvs(1, 1));

    [Property]
    public Property EdgeShape_EveryStepDone_AgreesWithTheReference() =>
        AgreesOn(ReturnCaseShape.Default.WithDones(DonePattern.AlwaysDone));

    [Property]
    public Property EdgeShape_NoStepDone_AgreesWithTheReference() =>
        AgreesOn(ReturnCaseShape.Default.WithDones(DonePattern.NeverDone));

    // (a) On-policy, thresholds of at least 1 (or none): vs is GAE(lambda)'s critic target, and the
    // policy-gradient advantage is r_t + gamma * vs_{t+1} - V(x_t) = A_t + gamma * (1 - lambda) * (1 - done_t) * A_{t+1}.

    private static VTraceCase OnPolicyWithoutBitingThresholds(VTraceCase c) =>
        c.OnPolicy()
            .WithRhoBar(c.RhoBar is { } r ? Math.Max(1.0, r) : null)
            .WithCBar(c.CBar is { } b ? Math.Max(1.0, b) : null)
            .WithPgRhoBar(c.PgRhoBar is { } p ? Math.Max(1.0, p) : null);

    [Property]
    public Property OnPolicy_VsIsTheGaeReturn_AndPgAdvantageIsTheGaeAdvantagePlusGammaOneMinusLambdaTimesTheNext(VTraceCase generated)
    {
        var c = OnPolicyWithoutBitingThresholds(generated);
        var x = c.Inputs;
        int size = x.Rewards.Length, envs = c.Envs;
        var gae = Returns.Gae(x, c.Gamma, c.Lambda);
        var vtrace = VTrace(c);
        var expectedGae = ReferenceReturns.Gae(c.ReturnCase);
        var expected = ReferenceReturns.VTrace(c);

        var pg = new double[size];
        var pgMagnitude = new double[size];
        for (int i = 0; i < size; i++)
        {
            bool last = i + envs >= size, done = x.Terminated[i] || x.Truncated[i];
            double next = last || done ? 0.0 : gae.Advantages[i + envs];
            double nextMagnitude = last || done ? 0.0 : expectedGae.Advantages.Magnitudes[i + envs];
            double w = c.Gamma * (1 - c.Lambda);
            pg[i] = gae.Advantages[i] + w * next;
            pgMagnitude[i] = expectedGae.Advantages.Magnitudes[i] + w * nextMagnitude + expected.PgAdvantages.Magnitudes[i];
        }
        return LawAssert.All(
            LawAssert.Close("vs vs GAE returns", vtrace.Vs, AsDouble(gae.Returns),
                Plus(expectedGae.Returns.Magnitudes, expected.Vs.Magnitudes), envs),
            LawAssert.Close("pg advantages vs A_t + gamma (1 - lambda) A_{t+1}", vtrace.PgAdvantages, pg, pgMagnitude, envs));
    }

    // (b) On-policy with lambda 1: the n-step returns and the n-step advantages.

    [Property]
    public Property OnPolicyLambdaOne_VsIsTheNStepReturn_AndPgAdvantageIsNStepMinusV(VTraceCase generated)
    {
        var c = OnPolicyWithoutBitingThresholds(generated).WithLambda(1.0);
        var x = c.Inputs;
        float[] nstep = Returns.NStep(x, c.Gamma);
        var vtrace = VTrace(c);
        var expected = ReferenceReturns.VTrace(c);
        var nstepMagnitude = ReferenceReturns.NStep(x, c.Gamma).Magnitudes;
        return LawAssert.All(
            LawAssert.Close("vs vs n-step", vtrace.Vs, AsDouble(nstep), Plus(nstepMagnitude, expected.Vs.Magnitudes), c.Envs),
            LawAssert.Close("pg advantages vs n-step - V", vtrace.PgAdvantages,
                nstep.Select((r, i) => (double)r - x.Values[i]).ToArray(),
                Plus(nstepMagnitude, expected.PgAdvantages.Magnitudes, x.Values.Select(v => (double)Math.Abs(v)).ToArray()), c.Envs));
    }

    // (c) Monotone clipping. vs_t - V(x_t) = sum_s gamma^(s-t) (prod_i lambda min(cBar, rho_i)) min(rhoBar, rho_s) td_s and
    // pgAdv_t = min(pgRhoBar, rho_t) (td_t + gamma (1 - done_t) (vs_{t+1} - V(x_{t+1}))), where td_s = target_s - V(x_s) does
    // not depend on any threshold and every other factor is >= 0 and non-decreasing in each threshold. So when every TD
    // error is >= 0, raising any threshold (null being the top) never lowers a vs or a pg advantage; when every TD
    // error is <= 0, it never raises one. (With mixed signs nothing of the kind holds.)

    [Property]
    public Property RaisingAThreshold_NeverMovesVsOrPgAdvantagesAgainstTheSignOfTheTdErrors(VTraceCase generated, int seed)
    {
        var rng = new Random(seed);
        bool nonNegative = rng.Next(2) == 0;
        var low = generated.WithInputs(ReturnGenerators.WithTdErrorSign(generated.Inputs, generated.Gamma, nonNegative));
        int which = rng.Next(3);
        double? Raise(double? bar) => bar is not { } b || rng.Next(4) == 0 ? null : b * (1 + rng.Next(1, 4000) / 1000.0);
        var high = which switch
        {
            0 => low.WithRhoBar(Raise(low.RhoBar)),
            1 => low.WithCBar(Raise(low.CBar)),
            _ => low.WithPgRhoBar(Raise(low.PgRhoBar)),
        };
        var a = VTrace(low);
        var b = VTrace(high);
        var ma = ReferenceReturns.VTrace(low);
        var mb = ReferenceReturns.VTrace(high);
        double sign = nonNegative ? 1 : -1;
        for (int i = 0; i < a.Vs.Length; i++)
        {
            double vsSlack = ReturnTolerance.Bound(ma.Vs.Magnitudes[i] + mb.Vs.Magnitudes[i]);
            double pgSlack = ReturnTolerance.Bound(ma.PgAdvantages.Magnitudes[i] + mb.PgAdvantages.Magnitudes[i]);
            if (sign * (b.Vs[i] - (double)a.Vs[i]) < -vsSlack || sign * (b.PgAdvantages[i] - (double)a.PgAdvantages[i]) < -pgSlack)
                return false.Label(
                    $"(t {i / low.Envs}, n {i % low.Envs}), TD errors {(nonNegative ? ">= 0" : "<= 0")}, threshold {which} raised to {high}: " +
                    $"vs {a.Vs[i]:R} -> {b.Vs[i]:R}, pg {a.PgAdvantages[i]:R} -> {b.PgAdvantages[i]:R}");
        }
        return true.ToProperty();
    }

    [Property]
    public Property AThresholdAtOrAboveEveryRatio_IsNoClippingAtAll_BitForBit(VTraceCase c)
    {
        double top = c.LogRhos.Length == 0 ? 1.0 : Math.Exp(c.LogRhos.Max());
        var none = VTrace(c.WithRhoBar(null).WithCBar(null).WithPgRhoBar(null));
        var high = VTrace(c.WithRhoBar(top).WithCBar(top * 2).WithPgRhoBar(top));
        return LawAssert.All(
            LawAssert.Same("vs", high.Vs, none.Vs, c.Envs),
            LawAssert.Same("pg advantages", high.PgAdvantages, none.PgAdvantages, c.Envs));
    }

    // (d) A truncated step is a terminated step whose reward carries gamma * V(final observation).

    [Property]
    public Property ATruncatedStep_IsATerminatedStepWhoseRewardCarriesGammaTimesTheFinalValue(VTraceCase c, int seed)
    {
        var rng = new Random(seed);
        var x = c.Inputs;
        var term = (bool[])x.Terminated.Clone();
        var trunc = (bool[])x.Truncated.Clone();
        int forced = rng.Next(x.Rewards.Length);
        trunc[forced] = true; term[forced] = false; // at least one truncated step, so the law is never vacuous
        var truncatedCase = c.WithInputs(x.WithTerminated(term).WithTruncated(trunc));

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
        var terminatedCase = truncatedCase.WithInputs(truncatedCase.Inputs.WithRewards(r).WithTerminated(term2).WithTruncated(trunc2));

        // Three roundings (the folded reward, and each side's output): twice the magnitude covers them.
        var expected = ReferenceReturns.VTrace(truncatedCase);
        var a = VTrace(truncatedCase);
        var b = VTrace(terminatedCase);
        return LawAssert.All(
            LawAssert.Close("vs", a.Vs, AsDouble(b.Vs), expected.Vs.Magnitudes.Select(m => 2 * m).ToArray(), c.Envs),
            LawAssert.Close("pg advantages", a.PgAdvantages, AsDouble(b.PgAdvantages),
                expected.PgAdvantages.Magnitudes.Select(m => 2 * m).ToArray(), c.Envs));
    }

    // Layout laws, as for GAE.

    [Property]
    public Property FinalValues_AreReadOnlyWhereTruncatedAndNotTerminated(VTraceCase c)
    {
        var x = c.Inputs;
        var unread = x.WithFinalValues(x.FinalValues.Select((f, i) => x.Truncated[i] && !x.Terminated[i] ? f : float.NaN).ToArray());
        var a = VTrace(c);
        var b = VTrace(c.WithInputs(unread));
        return LawAssert.All(LawAssert.Same("vs", b.Vs, a.Vs, c.Envs), LawAssert.Same("pg advantages", b.PgAdvantages, a.PgAdvantages, c.Envs));
    }

    [Property]
    public Property PermutingColumns_PermutesResults(VTraceCase c, int seed)
    {
        int[] perm = Enumerable.Range(0, c.Envs).ToArray();
        new Random(seed).Shuffle(perm);
        var whole = VTrace(c);
        var permuted = VTrace(c.SelectColumns(perm));
        return LawAssert.All(
            LawAssert.Same("vs", permuted.Vs, ReturnLayout.SelectColumns(whole.Vs, c.Steps, c.Envs, perm), c.Envs),
            LawAssert.Same("pg advantages", permuted.PgAdvantages, ReturnLayout.SelectColumns(whole.PgAdvantages, c.Steps, c.Envs, perm), c.Envs));
    }

    [Property]
    public Property TheLastKSteps_GiveTheSameResultsAlone(VTraceCase c, int seed)
    {
        int start = new Random(seed).Next(c.Steps);
        var whole = VTrace(c);
        var tail = VTrace(c.SelectSteps(start, c.Steps - start));
        int from = start * c.Envs;
        return LawAssert.All(
            LawAssert.Same("vs", tail.Vs, whole.Vs[from..], c.Envs),
            LawAssert.Same("pg advantages", tail.PgAdvantages, whole.PgAdvantages[from..], c.Envs));
    }
}
