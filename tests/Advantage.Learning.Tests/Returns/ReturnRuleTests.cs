using Advantage.Learning;

namespace Advantage.Learning.Tests.Returns;

using Returns = Advantage.Learning.Returns;

/// <summary>
/// One hand-computed rollout per rule of ARCHITECTURE.md "Return semantics". Every number is a short sum of
/// powers of two, so results are exact in float and compared with ==.
/// Base rollout (T = 3, N = 1): r = [1, 2, 3], V = [1, 2, 4], V(s_T) = 8, gamma = 0.5, lambda = 0.5.
/// </summary>
public class ReturnRuleTests
{
    private static readonly float[] R = [1, 2, 3];
    private static readonly float[] V = [1, 2, 4];
    private static readonly float[] Bootstrap = [8];

    private static ReturnInputs Base(bool[]? terminated = null, bool[]? truncated = null, float[]? finals = null) =>
        new(3, 1, R, V, Bootstrap, terminated ?? new bool[3], truncated ?? new bool[3], finals ?? [float.NaN, float.NaN, float.NaN]);

    [Fact]
    public void NotDone_NStepDiscountsLaterRewardsAndTheBootstrapRow()
    {
        // R2 = 3 + .5*8 = 7; R1 = 2 + .5*7 = 5.5; R0 = 1 + .5*5.5 = 3.75
        Assert.Equal([3.75f, 5.5f, 7f], Returns.NStep(Base(), 0.5));
    }

    [Fact]
    public void NotDone_GaeAccumulatesTdErrorsWithGammaLambda()
    {
        // delta = r + .5*V(next) - V = [1 + 1 - 1, 2 + 2 - 2, 3 + 4 - 4] = [1, 2, 3]
        // A2 = 3; A1 = 2 + .25*3 = 2.75; A0 = 1 + .25*2.75 = 1.6875; returns = A + V
        var gae = Returns.Gae(Base(), 0.5, 0.5);
        Assert.Equal([1.6875f, 2.75f, 3f], gae.Advantages);
        Assert.Equal([2.6875f, 4.75f, 7f], gae.Returns);
    }

    [Fact]
    public void Terminated_CutsEveryLaterRewardAndValueOff()
    {
        // terminated at t = 1: R1 = 2; R0 = 1 + .5*2 = 2; R2 = 7 unchanged (it is later)
        var inputs = Base(terminated: [false, true, false]);
        Assert.Equal([2f, 2f, 7f], Returns.NStep(inputs, 0.5));
        // delta1 = 2 - 2 = 0, and A1 does not continue into A2: A = [1 + .25*0, 0, 3]
        var gae = Returns.Gae(inputs, 0.5, 0.5);
        Assert.Equal([1f, 0f, 3f], gae.Advantages);
        Assert.Equal([2f, 2f, 7f], gae.Returns);
    }

    [Fact]
    public void Truncated_BootstrapsFromTheFinalObservationsValue()
    {
        // truncated at t = 1 with V(final) = 6: R1 = 2 + .5*6 = 5; R0 = 1 + .5*5 = 3.5
        var inputs = Base(truncated: [false, true, false], finals: [float.NaN, 6, float.NaN]);
        Assert.Equal([3.5f, 5f, 7f], Returns.NStep(inputs, 0.5));
        // delta1 = 2 + 3 - 2 = 3, not continued; delta0 = 1 + .5*V(s1) - 1 = 1 (s1 is still this episode)
        var gae = Returns.Gae(inputs, 0.5, 0.5);
        Assert.Equal([1.75f, 3f, 3f], gae.Advantages);
        Assert.Equal([2.75f, 5f, 7f], gae.Returns);
    }

    [Fact]
    public void BothFlags_TerminatedWinsAndTheFinalValueIsIgnored()
    {
        var both = Base(terminated: [false, true, false], truncated: [false, true, false], finals: [float.NaN, 6, float.NaN]);
        var terminated = Base(terminated: [false, true, false]);
        Assert.Equal(Returns.NStep(terminated, 0.5), Returns.NStep(both, 0.5));
        Assert.Equal([2f, 2f, 7f], Returns.NStep(both, 0.5));
        var gae = Returns.Gae(both, 0.5, 0.5);
        Assert.Equal([1f, 0f, 3f], gae.Advantages);
        Assert.Equal([2f, 2f, 7f], gae.Returns);
    }

    [Fact]
    public void BootstrapRow_IsTheValueAfterTheLastStepPerColumn()
    {
        // T = 1, N = 2: R = r + .5 * V(s_T) = [1 + 5, 1 - 2]; A = R - V
        var inputs = new ReturnInputs(1, 2, [1, 1], [2, 3], [10, -4], [false, false], [false, false], [0, 0]);
        Assert.Equal([6f, -1f], Returns.NStep(inputs, 0.5));
        var gae = Returns.Gae(inputs, 0.5, 0.5);
        Assert.Equal([4f, -4f], gae.Advantages);
        Assert.Equal([6f, -1f], gae.Returns);
    }

    [Fact]
    public void BootstrapRow_IsIgnoredWhenTheLastStepIsTerminated()
    {
        // terminated at t = 2: R2 = 3; R1 = 2 + 1.5 = 3.5; R0 = 1 + 1.75 = 2.75
        var inputs = Base(terminated: [false, false, true]).WithBootstrapValues([1e6f]);
        Assert.Equal([2.75f, 3.5f, 3f], Returns.NStep(inputs, 0.5));
    }

    [Fact]
    public void Columns_AreLaidOutTimeMajor()
    {
        // column 0: the base rollout, not done; column 1: the base rollout terminated at t = 1
        float[] r = [1, 1, 2, 2, 3, 3], v = [1, 1, 2, 2, 4, 4];
        bool[] term = [false, false, false, true, false, false];
        var inputs = new ReturnInputs(3, 2, r, v, [8, 8], term, new bool[6], new float[6]);
        Assert.Equal([3.75f, 2f, 5.5f, 2f, 7f, 7f], Returns.NStep(inputs, 0.5));
    }

    [Fact]
    public void LambdaZero_GivesTheOneStepTdError()
    {
        var gae = Returns.Gae(Base(), 0.5, 0.0);
        Assert.Equal([1f, 2f, 3f], gae.Advantages);
        Assert.Equal([2f, 4f, 7f], gae.Returns); // = targets r + .5 V(next)
    }

    [Fact]
    public void LambdaOne_GivesTheNStepReturnMinusV()
    {
        // A2 = 3; A1 = 2 + .5*3 = 3.5; A0 = 1 + .5*3.5 = 2.75 = [3.75, 5.5, 7] - [1, 2, 4]
        var gae = Returns.Gae(Base(), 0.5, 1.0);
        Assert.Equal([2.75f, 3.5f, 3f], gae.Advantages);
        Assert.Equal(Returns.NStep(Base(), 0.5), gae.Returns);
    }

    [Fact]
    public void GammaZero_GivesTheRewards()
    {
        var inputs = Base(truncated: [false, true, false], finals: [0, 6, 0]);
        Assert.Equal(R, Returns.NStep(inputs, 0.0));
        var gae = Returns.Gae(inputs, 0.0, 0.5);
        Assert.Equal([0f, 0f, -1f], gae.Advantages);
        Assert.Equal(R, gae.Returns);
    }

    [Fact]
    public void SpanApi_WritesTheSameAsTheArrayApi()
    {
        var inputs = Base(truncated: [false, true, false], finals: [0, 6, 0]);
        Span<float> nstep = stackalloc float[3];
        Span<float> advantages = stackalloc float[3];
        Span<float> returns = stackalloc float[3];
        Returns.NStep(inputs.Rewards, inputs.Values, inputs.BootstrapValues, inputs.Terminated, inputs.Truncated, inputs.FinalValues,
            3, 1, 0.5, nstep);
        Returns.Gae(inputs.Rewards, inputs.Values, inputs.BootstrapValues, inputs.Terminated, inputs.Truncated, inputs.FinalValues,
            3, 1, 0.5, 0.5, advantages, returns);
        Assert.Equal(Returns.NStep(inputs, 0.5), nstep.ToArray());
        var gae = Returns.Gae(inputs, 0.5, 0.5);
        Assert.Equal(gae.Advantages, advantages.ToArray());
        Assert.Equal(gae.Returns, returns.ToArray());
    }

    [Fact]
    public void SpanApi_AllocatesNothing()
    {
        var x = Base(truncated: [false, true, false], finals: [0, 6, 0]);
        var advantages = new float[3];
        var returns = new float[3];
        Returns.Gae(x.Rewards, x.Values, x.BootstrapValues, x.Terminated, x.Truncated, x.FinalValues, 3, 1, 0.5, 0.5, advantages, returns);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int k = 0; k < 100; k++)
        {
            Returns.Gae(x.Rewards, x.Values, x.BootstrapValues, x.Terminated, x.Truncated, x.FinalValues, 3, 1, 0.5, 0.5, advantages, returns);
            Returns.NStep(x.Rewards, x.Values, x.BootstrapValues, x.Terminated, x.Truncated, x.FinalValues, 3, 1, 0.5, returns);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
