namespace Advantage.Environments.Tests;

public class VectorEnvironmentTests
{
    private static VectorEnvironment Scripted(params int[] episodeLengths) =>
        new(episodeLengths.Select(n => (IEnvironment)new ScriptedEnvironment(n)).ToArray());

    [Fact]
    public void ExposesSizesOfTheSharedSpaces()
    {
        var vector = new VectorEnvironment([new CartPole(), new CartPole(), new CartPole()]);
        Assert.Equal(3, vector.Count);
        Assert.Equal(new Discrete(2), vector.ActionSpace);
        Assert.Equal(new CartPole().ObservationSpace, vector.ObservationSpace);
        Assert.Equal(4, vector.ObservationSize);
        Assert.Equal(1, vector.ActionSize);
        Assert.Equal(12, vector.Observations.Length);
        Assert.Equal(12, vector.FinalObservations.Length);
        Assert.Equal(3, vector.Rewards.Length);
        Assert.Equal(3, vector.Terminated.Length);
        Assert.Equal(3, vector.Truncated.Length);
        Assert.Equal(3, vector.FinishedReturns.Length);
        Assert.Equal(3, vector.FinishedLengths.Length);

        var pendulums = new VectorEnvironment([new Pendulum(), new Pendulum()]);
        Assert.Equal(3, pendulums.ObservationSize);
        Assert.Equal(1, pendulums.ActionSize);
    }

    [Fact]
    public void RejectsEmptyMismatchedOrSharedEnvironments()
    {
        Assert.Throws<ArgumentException>(() => new VectorEnvironment([]));
        var mixed = Assert.Throws<ArgumentException>(() => new VectorEnvironment([new CartPole(), new Acrobot()]));
        Assert.Contains("Environment 1", mixed.Message);
        Assert.Throws<ArgumentException>(() => new VectorEnvironment([new MountainCar(), new MountainCarContinuous()]));
        var shared = new CartPole();
        Assert.Throws<ArgumentException>(() => new VectorEnvironment([shared, shared]));
        Assert.Throws<ArgumentNullException>(() => new VectorEnvironment(null!));
    }

    [Fact]
    public void ResetSeedsEnvironmentIWithSeedPlusI()
    {
        var vector = new VectorEnvironment([new CartPole(), new CartPole(), new CartPole()]);
        vector.Reset(40);
        for (int i = 0; i < 3; i++)
        {
            var expected = new float[4];
            new CartPole().Reset(40 + i, expected);
            Assert.Equal(expected, vector.Observations.Slice(4 * i, 4).ToArray());
        }
        Assert.NotEqual(vector.Observations.Slice(0, 4).ToArray(), vector.Observations.Slice(4, 4).ToArray());
    }

    [Fact]
    public void SameSeedReproducesTheWholeRun()
    {
        float[][] Run()
        {
            var vector = new VectorEnvironment(Enumerable.Range(0, 4).Select(_ => EnvironmentRegistry.Builtin.Make("CartPole-v1")).ToArray());
            vector.Reset(123);
            var actions = new float[4];
            var trace = new List<float[]>();
            for (int t = 0; t < 300; t++)
            {
                for (int i = 0; i < 4; i++) actions[i] = (t * 7 + i * 3) % 5 < 2 ? 0f : 1f;
                vector.Step(actions);
                trace.Add(vector.Observations.ToArray());
                trace.Add(vector.FinishedReturns.ToArray().Select(r => (float)r).ToArray());
            }
            return trace.ToArray();
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void StepRoutesEachActionRowToItsEnvironment()
    {
        var envs = new[] { new ScriptedEnvironment(10), new ScriptedEnvironment(10), new ScriptedEnvironment(10) };
        var vector = new VectorEnvironment(envs);
        vector.Reset(0);
        vector.Step([1f, 0f, 1f]);
        Assert.Equal([1f, 0f, 1f], envs.Select(e => e.LastAction));
    }

    [Fact]
    public void FinishedRowKeepsFinalObservationAndStartsANewEpisode()
    {
        var envs = new[] { new ScriptedEnvironment(2), new ScriptedEnvironment(3) };
        var vector = new VectorEnvironment(envs);
        vector.Reset(5); // env 0 starts at 5000, env 1 at 6000
        Assert.Equal([5000f, 0f, 6000f, 0f], vector.Observations.ToArray());

        vector.Step([0f, 0f]);
        Assert.Equal(0, vector.FinishedCount);
        Assert.Equal([5000f, 1f, 6000f, 1f], vector.Observations.ToArray());
        Assert.Equal([1f, 1f], vector.Rewards.ToArray());

        vector.Step([0f, 0f]); // env 0 finishes its 2-step episode
        Assert.Equal(1, vector.FinishedCount);
        Assert.Equal([true, false], vector.Terminated.ToArray());
        Assert.Equal([false, false], vector.Truncated.ToArray());
        Assert.Equal([5000f, 2f], vector.FinalObservations.Slice(0, 2).ToArray());
        Assert.Equal([5001f, 0f, 6000f, 2f], vector.Observations.ToArray()); // row 0 replaced by the reset observation
        Assert.Equal([3.0, 0.0], vector.FinishedReturns.ToArray()); // rewards 1 + 2
        Assert.Equal([2, 0], vector.FinishedLengths.ToArray());
        Assert.Equal(2, envs[0].Resets);
        Assert.Equal(1, envs[1].Resets);

        vector.Step([0f, 0f]); // env 1 finishes its 3-step episode; env 0 is one step into its second
        Assert.Equal(1, vector.FinishedCount);
        Assert.Equal([false, true], vector.Terminated.ToArray());
        Assert.Equal([6000f, 3f], vector.FinalObservations.Slice(2, 2).ToArray());
        Assert.Equal([5001f, 1f, 6001f, 0f], vector.Observations.ToArray());
        Assert.Equal([0.0, 6.0], vector.FinishedReturns.ToArray());
        Assert.Equal([0, 3], vector.FinishedLengths.ToArray());

        vector.Step([0f, 0f]); // env 0 finishes its second episode: return and length restart per episode
        Assert.Equal([3.0, 0.0], vector.FinishedReturns.ToArray());
        Assert.Equal([2, 0], vector.FinishedLengths.ToArray());
    }

    [Fact]
    public void TruncationByTimeLimitIsReportedWithTheFinalObservation()
    {
        var vector = new VectorEnvironment([new TimeLimit(new ScriptedEnvironment(100), 2), new TimeLimit(new ScriptedEnvironment(1), 5)]);
        vector.Reset(1);
        vector.Step([0f, 0f]);
        Assert.Equal([false, true], vector.Terminated.ToArray());
        Assert.Equal([false, false], vector.Truncated.ToArray());
        vector.Step([0f, 0f]);
        Assert.Equal([false, true], vector.Terminated.ToArray());
        Assert.Equal([true, false], vector.Truncated.ToArray());
        Assert.Equal(2, vector.FinishedCount);
        Assert.Equal([1000f, 2f], vector.FinalObservations.Slice(0, 2).ToArray());
        Assert.Equal([1001f, 0f], vector.Observations.Slice(0, 2).ToArray());
    }

    [Fact]
    public void CartPoleEpisodeStatisticsAddUp()
    {
        var vector = new VectorEnvironment(Enumerable.Range(0, 3).Select(_ => EnvironmentRegistry.Builtin.Make("CartPole-v1")).ToArray());
        vector.Reset(0);
        var actions = new float[3]; // always push left: episodes end within a few dozen steps
        var lengths = new int[3];
        int episodes = 0;
        for (int t = 0; t < 200; t++)
        {
            vector.Step(actions);
            for (int i = 0; i < 3; i++)
            {
                lengths[i]++;
                if (vector.Terminated[i] || vector.Truncated[i])
                {
                    Assert.Equal(lengths[i], vector.FinishedLengths[i]);
                    Assert.Equal(lengths[i], vector.FinishedReturns[i]); // reward 1 per step
                    float[] final = vector.FinalObservations.Slice(4 * i, 4).ToArray();
                    Assert.True(Math.Abs(final[0]) > 2.4f || Math.Abs(final[2]) > (float)CartPole.ThetaThresholdRadians);
                    Assert.All(vector.Observations.Slice(4 * i, 4).ToArray(), v => Assert.InRange(v, -0.05f, 0.05f));
                    lengths[i] = 0;
                    episodes++;
                }
            }
        }
        Assert.True(episodes > 5);
    }

    [Fact]
    public void StepValidatesItsInput()
    {
        var vector = Scripted(3, 3);
        Assert.Throws<InvalidOperationException>(() => vector.Step([0f, 0f]));
        vector.Reset(0);
        Assert.Throws<ArgumentException>(() => vector.Step([0f]));
        Assert.Throws<ArgumentException>(() => vector.Step([0f, 0f, 0f]));
    }

    [Fact]
    public void ResetClearsFlagsAndEpisodeBookkeeping()
    {
        var vector = Scripted(1, 5);
        vector.Reset(0);
        vector.Step([0f, 0f]);
        vector.Step([0f, 0f]);
        Assert.Equal(1, vector.FinishedCount);
        vector.Reset(0);
        Assert.Equal(0, vector.FinishedCount);
        Assert.Equal([false, false], vector.Terminated.ToArray());
        Assert.Equal([0.0, 0.0], vector.FinishedReturns.ToArray());
        vector.Step([0f, 0f]);
        Assert.Equal([1.0, 0.0], vector.FinishedReturns.ToArray()); // the running return started over
    }
}
