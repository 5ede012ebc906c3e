namespace Advantage.Environments.Tests;

public class CartPoleTests
{
    private static readonly float[] Left = [0f];
    private static readonly float[] Right = [1f];

    [Fact]
    public void SpacesMatchGymnasium()
    {
        var env = new CartPole();
        Assert.Equal(new Discrete(2), env.ActionSpace);
        var box = Assert.IsType<Box>(env.ObservationSpace);
        Assert.Equal([4], box.Shape);
        Assert.Equal([4.8f, float.MaxValue, (float)(2 * 12 * 2 * Math.PI / 360), float.MaxValue], box.High);
        Assert.Equal(box.High.Select(h => -h), box.Low);
    }

    [Fact]
    public void ResetDrawsEveryComponentFromPlusMinusFiveHundredths()
    {
        var env = new CartPole();
        var obs = new float[4];
        for (int seed = 0; seed < 200; seed++)
        {
            env.Reset(seed, obs);
            double[] state = env.GetState();
            Assert.All(state, v => Assert.InRange(v, -0.05, 0.05));
            Assert.Equal(state.Select(v => (float)v), obs);
        }
    }

    [Fact]
    public void SameSeedGivesSameStartAndDifferentSeedsDiffer()
    {
        var a = new CartPole();
        var b = new CartPole();
        var oa = new float[4];
        var ob = new float[4];
        a.Reset(7, oa);
        b.Reset(7, ob);
        Assert.Equal(oa, ob);
        b.Reset(8, ob);
        Assert.NotEqual(oa, ob);
    }

    [Fact]
    public void NullSeedContinuesTheStream()
    {
        var a = new CartPole();
        var obs = new float[4];
        a.Reset(3, obs);
        a.Reset(null, obs);
        float[] second = (float[])obs.Clone();
        Assert.NotEqual(a.GetState(), Reseeded(3));

        var b = new CartPole();
        b.Reset(3, obs);
        b.Reset(null, obs);
        Assert.Equal(second, obs);

        static double[] Reseeded(int seed)
        {
            var env = new CartPole();
            env.Reset(seed, new float[4]);
            return env.GetState();
        }
    }

    [Fact]
    public void UnseededEnvironmentIsReproducible()
    {
        var a = new CartPole();
        var b = new CartPole();
        var oa = new float[4];
        var ob = new float[4];
        a.Reset(null, oa);
        b.Reset(null, ob);
        Assert.Equal(oa, ob);
        var seeded = new CartPole();
        seeded.Reset((int)NumPyRandom.DefaultSeed, ob);
        Assert.Equal(oa, ob);
    }

    [Theory]
    [InlineData(2f, "action 2 is outside Discrete(2)")]
    [InlineData(3f, "action 3 is outside Discrete(2)")]
    [InlineData(-1f, "action -1 is outside Discrete(2)")]
    [InlineData(0.5f, "action 0.5 is outside Discrete(2)")]
    [InlineData(float.NaN, "action NaN is outside Discrete(2)")]
    public void InvalidActionNamesTheActionSpace(float action, string message)
    {
        var env = new CartPole();
        env.Reset(0, new float[4]);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => env.Step([action], new float[4]));
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void WrongBufferSizesAreRejected()
    {
        var env = new CartPole();
        Assert.Throws<ArgumentException>(() => env.Reset(0, new float[3]));
        env.Reset(0, new float[4]);
        Assert.Throws<ArgumentException>(() => env.Step(new float[2], new float[4]));
        Assert.Throws<ArgumentException>(() => env.Step(Left, new float[5]));
        Assert.Throws<ArgumentException>(() => env.SetState([0.0, 0.0]));
    }

    [Fact]
    public void StepBeforeResetThrows()
    {
        var env = new CartPole();
        Assert.Throws<InvalidOperationException>(() => env.Step(Left, new float[4]));
    }

    [Fact]
    public void SetStateRoundTripsAndObservationIsItsFloatRounding()
    {
        var env = new CartPole();
        double[] state = [0.1, -0.2, 0.03, 0.4];
        env.SetState(state);
        Assert.Equal(state, env.GetState());
        var obs = new float[4];
        env.WriteObservation(obs);
        Assert.Equal(state.Select(v => (float)v), obs);
    }

    [Fact]
    public void OneEulerStepFromRestMatchesHandComputation()
    {
        var env = new CartPole();
        env.SetState([0.0, 0.0, 0.0, 0.0]);
        var obs = new float[4];
        StepResult result = env.Step(Right, obs);
        // At theta = 0: temp = F / M = 10 / 1.1; thetaacc = -temp / (l (4/3 - mp / M)); xacc = temp - ml thetaacc / M.
        double temp = 10.0 / 1.1;
        double thetaAcc = -temp / (0.5 * (4.0 / 3.0 - 0.1 / 1.1));
        double xAcc = temp - 0.05 * thetaAcc / 1.1;
        Assert.Equal([0.0, 0.02 * xAcc, 0.0, 0.02 * thetaAcc], env.GetState(), new ToleranceComparer(1e-12));
        Assert.Equal(new StepResult(1.0, false, false), result);
    }

    [Fact]
    public void TerminatesOutsideBoundsAndPaysZeroIfSteppedAgain()
    {
        var env = new CartPole();
        var obs = new float[4];
        env.SetState([2.39, 1.0, 0.0, 0.0]);
        StepResult first = env.Step(Right, obs);
        Assert.True(first.Terminated);
        Assert.False(first.Truncated);
        Assert.Equal(1.0, first.Reward);
        Assert.Equal(0.0, env.Step(Right, obs).Reward);
        env.Reset(null, obs);
        Assert.Equal(1.0, env.Step(Right, obs).Reward);
    }

    [Fact]
    public void TerminatesPastTwelveDegrees()
    {
        var env = new CartPole();
        var obs = new float[4];
        env.SetState([0.0, 0.0, CartPole.ThetaThresholdRadians - 1e-9, 1.0]);
        Assert.True(env.Step(Left, obs).Terminated);
        env.SetState([0.0, 0.0, -CartPole.ThetaThresholdRadians + 1e-3, 0.0]);
        Assert.False(env.Step(Left, obs).Terminated);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
