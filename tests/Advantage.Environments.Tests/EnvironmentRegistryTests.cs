namespace Advantage.Environments.Tests;

public class EnvironmentRegistryTests
{
    private static readonly string[] Expected = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1", "MinAtar/Breakout-v1"];

    [Fact]
    public void BuiltinHoldsTheClassicControlSet()
    {
        Assert.Equal(Expected, EnvironmentRegistry.Builtin.Ids);
        Assert.All(Expected, id => Assert.True(EnvironmentRegistry.Builtin.Contains(id)));
        Assert.False(EnvironmentRegistry.Builtin.Contains("cartpole-v1"));
    }

    [Theory]
    [InlineData("CartPole-v1", typeof(CartPole), 500)]
    [InlineData("Acrobot-v1", typeof(Acrobot), 500)]
    [InlineData("MountainCar-v0", typeof(MountainCar), 200)]
    [InlineData("MountainCarContinuous-v0", typeof(MountainCarContinuous), 999)]
    [InlineData("Pendulum-v1", typeof(Pendulum), 200)]
    [InlineData("MinAtar/Breakout-v1", typeof(MinAtarBreakout), MinAtarBreakout.RegisteredStepLimit)]
    public void MakeWrapsInTheRegisteredTimeLimit(string id, Type type, int limit)
    {
        var env = Assert.IsType<TimeLimit>(EnvironmentRegistry.Builtin.Make(id));
        Assert.IsType(type, env.Inner);
        Assert.Equal(limit, env.MaxEpisodeSteps);
        Assert.NotSame(env, EnvironmentRegistry.Builtin.Make(id));
    }

    [Fact]
    public void UnknownIdListsTheKnownOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => EnvironmentRegistry.Builtin.Make("CartPole-v0"));
        Assert.Contains("CartPole-v0", ex.Message);
        Assert.All(Expected, id => Assert.Contains(id, ex.Message));
    }

    [Fact]
    public void RegisterReturnsANewRegistryAndLeavesTheOldOneAlone()
    {
        EnvironmentRegistry extended = EnvironmentRegistry.Builtin.Register("Short-v0", () => new TimeLimit(new CartPole(), 10));
        Assert.True(extended.Contains("Short-v0"));
        Assert.False(EnvironmentRegistry.Builtin.Contains("Short-v0"));
        Assert.Equal([.. Expected, "Short-v0"], extended.Ids);
        Assert.Equal(10, Assert.IsType<TimeLimit>(extended.Make("Short-v0")).MaxEpisodeSteps);
        Assert.Empty(EnvironmentRegistry.Empty.Ids);
    }

    [Fact]
    public void DuplicateOrBlankIdIsRejected()
    {
        Assert.Throws<ArgumentException>(() => EnvironmentRegistry.Builtin.Register("Pendulum-v1", () => new Pendulum()));
        Assert.Throws<ArgumentException>(() => EnvironmentRegistry.Empty.Register(" ", () => new Pendulum()));
        Assert.Throws<ArgumentNullException>(() => EnvironmentRegistry.Empty.Register("X", null!));
    }

    [Fact]
    public void NullFromAFactoryIsReported()
    {
        EnvironmentRegistry registry = EnvironmentRegistry.Empty.Register("Broken-v0", () => null!);
        Assert.Throws<InvalidOperationException>(() => registry.Make("Broken-v0"));
    }
}
