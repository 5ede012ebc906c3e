namespace Advantage.Environments.Tests;

public class AllocationTests
{
    [Fact]
    public void VectorOfEightCartPolesStepsWithoutAllocating()
    {
        var vector = new VectorEnvironment(Enumerable.Range(0, 8).Select(_ => EnvironmentRegistry.Builtin.Make("CartPole-v1")).ToArray());
        vector.Reset(0);
        var actions = new float[8];
        void Run(int steps)
        {
            for (int t = 0; t < steps; t++)
            {
                for (int i = 0; i < actions.Length; i++) actions[i] = ((t + i) & 2) == 0 ? 0f : 1f;
                vector.Step(actions);
            }
        }
        Run(2_000); // warm up (JIT, tiering, statics)
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    public static TheoryData<string> Ids() => new(EnvironmentRegistry.Builtin.Ids);

    [Theory]
    [MemberData(nameof(Ids))]
    public void EveryBuiltinStepsAndResetsWithoutAllocating(string id)
    {
        IEnvironment env = EnvironmentRegistry.Builtin.Make(id);
        var observation = new float[env.ObservationSpace.FlatSize];
        var action = new float[env.ActionSpace.FlatSize];
        int n = env.ActionSpace is Discrete d ? d.N : 0;
        void Run(int steps)
        {
            for (int t = 0; t < steps; t++)
            {
                action[0] = n > 0 ? t % n : (t % 5 - 2) * 0.5f;
                if (env.Step(action, observation).IsFinished) env.Reset(null, observation);
            }
        }
        env.Reset(1, observation);
        Run(2_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(5_000);
        env.Reset(2, observation);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
