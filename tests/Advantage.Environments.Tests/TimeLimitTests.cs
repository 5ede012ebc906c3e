namespace Advantage.Environments.Tests;

public class TimeLimitTests
{
    private static readonly float[] Action = [0f];

    [Fact]
    public void TruncatesOnTheStepThatReachesTheLimit()
    {
        var env = new TimeLimit(new ScriptedEnvironment(episodeLength: 100), 3);
        var obs = new float[2];
        env.Reset(0, obs);
        Assert.False(env.Step(Action, obs).Truncated);
        Assert.False(env.Step(Action, obs).Truncated);
        Assert.Equal(2, env.ElapsedSteps);
        StepResult third = env.Step(Action, obs);
        Assert.True(third.Truncated);
        Assert.False(third.Terminated);
        Assert.Equal(3.0, third.Reward);
    }

    [Fact]
    public void TruncatedAndTerminatedCanCoincideAsInGymnasium()
    {
        var env = new TimeLimit(new ScriptedEnvironment(episodeLength: 2), 2);
        var obs = new float[2];
        env.Reset(0, obs);
        env.Step(Action, obs);
        StepResult last = env.Step(Action, obs);
        Assert.True(last.Terminated);
        Assert.True(last.Truncated);
    }

    [Fact]
    public void ResetRestartsTheCount()
    {
        var env = new TimeLimit(new ScriptedEnvironment(episodeLength: 100), 2);
        var obs = new float[2];
        env.Reset(0, obs);
        env.Step(Action, obs);
        env.Reset(null, obs);
        Assert.Equal(0, env.ElapsedSteps);
        Assert.False(env.Step(Action, obs).Truncated);
        Assert.True(env.Step(Action, obs).Truncated);
    }

    [Fact]
    public void ForwardsSpacesAndObservations()
    {
        var inner = new CartPole();
        var env = new TimeLimit(inner, 500);
        Assert.Same(inner, env.Inner);
        Assert.Equal(inner.ObservationSpace, env.ObservationSpace);
        Assert.Equal(inner.ActionSpace, env.ActionSpace);
        var obs = new float[4];
        env.Reset(5, obs);
        var direct = new float[4];
        new CartPole().Reset(5, direct);
        Assert.Equal(direct, obs);
    }

    [Fact]
    public void RejectsNonPositiveLimit()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TimeLimit(new CartPole(), 0));
        Assert.Throws<ArgumentNullException>(() => new TimeLimit(null!, 10));
    }

    [Fact]
    public void CartPoleV1IsTruncatedAtFiveHundred()
    {
        var env = (TimeLimit)EnvironmentRegistry.Builtin.Make("CartPole-v1");
        var inner = (CartPole)env.Inner;
        var obs = new float[4];
        env.Reset(0, obs);
        StepResult result = default;
        for (int t = 0; t < 500; t++)
        {
            inner.SetState([0.0, 0.0, 0.0, 0.0]); // keep it balanced so only the limit can end it
            result = env.Step(t % 2 == 0 ? [0f] : [1f], obs);
            Assert.False(result.Terminated);
            Assert.Equal(t == 499, result.Truncated);
        }
    }
}
