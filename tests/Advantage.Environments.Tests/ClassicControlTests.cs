namespace Advantage.Environments.Tests;

/// <summary>Spaces, reset distributions, action validation and Gymnasium's dtype quirks of the classic-control set.</summary>
public class ClassicControlTests
{
    public static TheoryData<string> Ids() => new(EnvironmentRegistry.Builtin.Ids.Where(id => !id.StartsWith("MinAtar/", StringComparison.Ordinal)));

    private static IStatefulEnvironment Unwrapped(string id) =>
        (IStatefulEnvironment)((TimeLimit)EnvironmentRegistry.Builtin.Make(id)).Inner;

    [Fact]
    public void SpacesMatchGymnasium()
    {
        Assert.Equal(new Discrete(3), new Acrobot().ActionSpace);
        Assert.Equal(new Box([6], [-1f, -1f, -1f, -1f, -(float)(4 * Math.PI), -(float)(9 * Math.PI)], [1f, 1f, 1f, 1f, (float)(4 * Math.PI), (float)(9 * Math.PI)]),
            new Acrobot().ObservationSpace);
        Assert.Equal(new Discrete(3), new MountainCar().ActionSpace);
        Assert.Equal(new Box([2], [-1.2f, -0.07f], [0.6f, 0.07f]), new MountainCar().ObservationSpace);
        Assert.Equal(Box.Uniform([1], -1f, 1f), new MountainCarContinuous().ActionSpace);
        Assert.Equal(new Box([2], [-1.2f, -0.07f], [0.6f, 0.07f]), new MountainCarContinuous().ObservationSpace);
        Assert.Equal(Box.Uniform([1], -2f, 2f), new Pendulum().ActionSpace);
        Assert.Equal(new Box([3], [-1f, -1f, -8f], [1f, 1f, 8f]), new Pendulum().ObservationSpace);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void SeededResetIsReproducibleAndSeedsDiffer(string id)
    {
        IStatefulEnvironment a = Unwrapped(id), b = Unwrapped(id);
        var oa = new float[a.ObservationSpace.FlatSize];
        var ob = new float[b.ObservationSpace.FlatSize];
        a.Reset(11, oa);
        b.Reset(11, ob);
        Assert.Equal(a.GetState(), b.GetState());
        Assert.Equal(oa, ob);
        b.Reset(12, ob);
        Assert.NotEqual(a.GetState(), b.GetState());
        a.Reset(null, oa);
        Assert.NotEqual(b.GetState(), a.GetState());
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void StepBeforeResetThrows(string id)
    {
        IStatefulEnvironment env = Unwrapped(id);
        Assert.Throws<InvalidOperationException>(() => env.Step(new float[env.ActionSpace.FlatSize], new float[env.ObservationSpace.FlatSize]));
    }

    [Fact]
    public void ResetDistributionsHaveGymnasiumsSupport()
    {
        var obs6 = new float[6];
        var obs2 = new float[2];
        var obs3 = new float[3];
        var acrobot = new Acrobot();
        var car = new MountainCar();
        var continuous = new MountainCarContinuous();
        var pendulum = new Pendulum();
        bool pendulumReachedWide = false;
        for (int seed = 0; seed < 300; seed++)
        {
            acrobot.Reset(seed, obs6);
            Assert.All(acrobot.GetState(), v => Assert.InRange(v, -0.1, 0.1));
            Assert.All(acrobot.GetState(), v => Assert.Equal(v, (double)(float)v)); // float32 after reset, as Gymnasium

            car.Reset(seed, obs2);
            Assert.InRange(car.GetState()[0], -0.6, -0.4);
            Assert.Equal(0.0, car.GetState()[1]);

            continuous.Reset(seed, obs2);
            Assert.InRange(continuous.GetState()[0], -0.6, -0.4);
            Assert.Equal(0.0, continuous.GetState()[1]);

            pendulum.Reset(seed, obs3);
            double[] s = pendulum.GetState();
            Assert.InRange(s[0], -Math.PI, Math.PI);
            Assert.InRange(s[1], -1.0, 1.0);
            pendulumReachedWide |= Math.Abs(s[0]) > 3.0;
        }
        Assert.True(pendulumReachedWide);
    }

    [Theory]
    [InlineData(3f)]
    [InlineData(-1f)]
    [InlineData(1.5f)]
    public void DiscreteEnvironmentsRejectInvalidActions(float action)
    {
        var acrobot = new Acrobot();
        acrobot.Reset(0, new float[6]);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => acrobot.Step([action], new float[6]));
        Assert.Contains("outside Discrete(3)", ex.Message);
        var car = new MountainCar();
        car.Reset(0, new float[2]);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => car.Step([action], new float[2]));
        Assert.Contains("outside Discrete(3)", ex.Message);
    }

    [Fact]
    public void ContinuousEnvironmentsClipActionsButPenalizeTheRawOne()
    {
        var a = new MountainCarContinuous();
        var b = new MountainCarContinuous();
        var obs = new float[2];
        a.SetState([-0.5, 0.0]);
        b.SetState([-0.5, 0.0]);
        StepResult big = a.Step([5f], obs);
        b.Step([1f], obs);
        Assert.Equal(b.GetState(), a.GetState());
        Assert.Equal(-2.5, big.Reward, 12); // Gymnasium penalizes the unclipped action

        var p = new Pendulum();
        var q = new Pendulum();
        var obs3 = new float[3];
        p.SetState([1.0, 0.5]);
        q.SetState([1.0, 0.5]);
        Assert.Equal(q.Step([-2f], obs3).Reward, p.Step([-9f], obs3).Reward);
        Assert.Equal(q.GetState(), p.GetState());
        Assert.Throws<ArgumentException>(() => p.Step([0f, 0f], obs3));
    }

    [Fact]
    public void MountainCarContinuousStoresItsStateAsFloat32AfterAStep()
    {
        var env = new MountainCarContinuous();
        env.SetState([-0.5123456789, 0.0]);
        env.Step([0.3f], new float[2]);
        Assert.All(env.GetState(), v => Assert.Equal(v, (double)(float)v));
    }

    [Fact]
    public void MountainCarsReachTheGoalAndStopAtTheLeftWall()
    {
        var car = new MountainCar();
        var obs = new float[2];
        car.SetState([0.499, 0.01]);
        StepResult goal = car.Step([2f], obs);
        Assert.True(goal.Terminated);
        Assert.Equal(-1.0, goal.Reward);

        car.SetState([-1.19, -0.05]);
        car.Step([0f], obs);
        Assert.Equal([-1.2, 0.0], car.GetState());

        var continuous = new MountainCarContinuous();
        continuous.SetState([0.449, 0.01]);
        StepResult reached = continuous.Step([0.5f], obs);
        Assert.True(reached.Terminated);
        Assert.Equal(100.0 - 0.025, reached.Reward, 12);
    }

    [Fact]
    public void AcrobotTerminatesAboveTheBarWithZeroReward()
    {
        var env = new Acrobot();
        var obs = new float[6];
        env.SetState([Math.PI - 0.01, 0.0, 0.0, 0.0]); // hanging upside down: tip at height 2
        StepResult result = env.Step([1f], obs);
        Assert.True(result.Terminated);
        Assert.Equal(0.0, result.Reward);
        env.SetState([0.0, 0.0, 0.0, 0.0]);
        Assert.Equal(new StepResult(-1.0, false, false), env.Step([1f], obs));
    }

    [Fact]
    public void AcrobotWrapsAnglesAndBoundsVelocities()
    {
        var env = new Acrobot();
        var obs = new float[6];
        var rng = new SeededRandom(5);
        for (int t = 0; t < 2_000; t++)
        {
            env.SetState([rng.Uniform(-Math.PI, Math.PI), rng.Uniform(-Math.PI, Math.PI), rng.Uniform(-20, 20), rng.Uniform(-40, 40)]);
            env.Step([rng.Next(3)], obs);
            double[] s = env.GetState();
            Assert.InRange(s[0], -Math.PI, Math.PI);
            Assert.InRange(s[1], -Math.PI, Math.PI);
            Assert.InRange(s[2], -4 * Math.PI, 4 * Math.PI);
            Assert.InRange(s[3], -9 * Math.PI, 9 * Math.PI);
        }
    }

    [Fact]
    public void PendulumNeverTerminatesAndIsTruncatedAtTwoHundred()
    {
        IEnvironment env = EnvironmentRegistry.Builtin.Make("Pendulum-v1");
        var obs = new float[3];
        env.Reset(0, obs);
        for (int t = 1; t <= 200; t++)
        {
            StepResult result = env.Step([2f], obs);
            Assert.False(result.Terminated);
            Assert.True(result.Reward <= 0);
            Assert.Equal(t == 200, result.Truncated);
            Assert.InRange(obs[2], -8f, 8f);
        }
    }

    [Fact]
    public void PendulumCostNormalizesTheAngle()
    {
        var env = new Pendulum();
        var obs = new float[3];
        env.SetState([2 * Math.PI + 0.5, 0.0]); // same pose as 0.5 rad
        double wrapped = env.Step([0f], obs).Reward;
        env.SetState([0.5, 0.0]);
        Assert.Equal(env.Step([0f], obs).Reward, wrapped, 12);
        Assert.Equal(-0.25, wrapped, 12);
        env.SetState([-3.5, 0.0]); // -3.5 normalizes to 2pi - 3.5
        Assert.Equal(-Math.Pow(2 * Math.PI - 3.5, 2), env.Step([0f], obs).Reward, 12);
    }
}
