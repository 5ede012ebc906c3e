namespace Advantage.Environments.Tests;

/// <summary>
/// A saved environment restored into fresh instances continues exactly: the same observations, rewards, flags and
/// episode returns for the same actions, across episode ends (resets draw on from the restored random stream).
/// </summary>
public class ResumableEnvironmentTests
{
    public static TheoryData<string> Builtin() => new(EnvironmentRegistry.Builtin.Ids);

    /// <summary>Actions from a fixed stream, valid for the vector's action space.</summary>
    private static float[] Actions(VectorEnvironment vector, Random random)
    {
        var actions = new float[vector.Count * vector.ActionSize];
        for (int i = 0; i < actions.Length; i++)
        {
            actions[i] = vector.ActionSpace switch
            {
                Discrete d => random.Next(d.N),
                Box box => box.Low[i % box.FlatSize] + (float)random.NextDouble() * (box.High[i % box.FlatSize] - box.Low[i % box.FlatSize]),
                _ => throw new InvalidOperationException(),
            };
        }
        return actions;
    }

    private static VectorEnvironment Vector(string id, int count) =>
        new(Enumerable.Range(0, count).Select(_ => EnvironmentRegistry.Builtin.Make(id)).ToArray());

    [Theory]
    [MemberData(nameof(Builtin))]
    public void A_restored_vector_continues_exactly_like_the_saved_one(string id)
    {
        var original = Vector(id, 3);
        Assert.True(original.CanSaveState);
        original.Reset(7);
        var random = new Random(3);
        for (int t = 0; t < 150; t++) original.Step(Actions(original, random));
        byte[] saved = original.SaveState();

        var restored = Vector(id, 3);
        restored.RestoreState(saved);
        Assert.Equal(original.Observations.ToArray(), restored.Observations.ToArray());
        int finished = 0;
        for (int t = 0; t < 1500; t++)
        {
            var actions = Actions(original, random);
            original.Step(actions);
            restored.Step(actions);
            Assert.Equal(original.Observations.ToArray(), restored.Observations.ToArray());
            Assert.Equal(original.Rewards.ToArray(), restored.Rewards.ToArray());
            Assert.Equal(original.Terminated.ToArray(), restored.Terminated.ToArray());
            Assert.Equal(original.Truncated.ToArray(), restored.Truncated.ToArray());
            Assert.Equal(original.FinishedReturns.ToArray(), restored.FinishedReturns.ToArray());
            Assert.Equal(original.FinishedLengths.ToArray(), restored.FinishedLengths.ToArray());
            finished += original.FinishedCount;
        }
        Assert.True(finished > 0, "Some episode ended after the restore, so resets drew on the restored streams.");
    }

    [Fact]
    public void A_state_of_another_environment_or_a_vector_of_another_size_is_refused()
    {
        var cartPole = Vector("CartPole-v1", 2);
        cartPole.Reset(1);
        var pendulum = Vector("Pendulum-v1", 2);
        pendulum.Reset(1);
        Assert.Contains("not of CartPole", Assert.Throws<ArgumentException>(() => cartPole.RestoreState(pendulum.SaveState())).Message);
        Assert.Contains("holds 2 environments", Assert.Throws<ArgumentException>(() => Vector("CartPole-v1", 3).RestoreState(cartPole.SaveState())).Message);
        byte[] saved = cartPole.SaveState();
        Assert.Throws<ArgumentException>(() => Vector("CartPole-v1", 2).RestoreState(saved.AsSpan(0, saved.Length - 3)));
    }

    [Fact]
    public void An_environment_that_cannot_save_makes_the_vector_say_so()
    {
        var vector = new VectorEnvironment([new TimeLimit(new ScriptedEnvironment(5, 4), 10), new TimeLimit(new ScriptedEnvironment(5, 4), 10)]);
        Assert.False(vector.CanSaveState);
        vector.Reset(1);
        Assert.Throws<NotSupportedException>(() => vector.SaveState());
    }
}
