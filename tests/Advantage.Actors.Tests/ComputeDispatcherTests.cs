using Advantage.Learning;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;

namespace Advantage.Actors.Tests;

/// <summary>The blocking compute dispatcher that cluster nodes use: pinned semantics, no spinning.</summary>
public class ComputeDispatcherTests() : TestKit(ConfigurationFactory.ParseString("""
    advantage.compute-dispatcher.type = "Advantage.Actors.BlockingComputeDispatcherConfigurator, Advantage.Actors"
    akka.test.single-expect-default = 30s
    akka.loglevel = WARNING
    """).WithFallback(AdvantageConfig.Default))
{
    private sealed class ThreadReporter : ReceiveActor
    {
        public ThreadReporter() => Receive<int>(n => Sender.Tell((n, Environment.CurrentManagedThreadId, Thread.CurrentThread.Name)));

        public static Props Props() => Akka.Actor.Props.Create(() => new ThreadReporter()).WithDispatcher(AdvantageConfig.ComputeDispatcher);
    }

    [Fact]
    public void Each_actor_gets_a_thread_of_its_own_and_its_messages_keep_their_order()
    {
        var a = Sys.ActorOf(ThreadReporter.Props());
        var b = Sys.ActorOf(ThreadReporter.Props());
        var threads = new Dictionary<IActorRef, HashSet<int>> { [a] = [], [b] = [] };
        for (int n = 0; n < 500; n++)
        {
            a.Tell(n);
            b.Tell(n);
        }
        var next = new Dictionary<IActorRef, int> { [a] = 0, [b] = 0 };
        for (int i = 0; i < 1000; i++)
        {
            var (n, thread, name) = ExpectMsg<(int, int, string?)>();
            Assert.Equal(next[LastSender]++, n);
            threads[LastSender].Add(thread);
            Assert.Equal(AdvantageConfig.ComputeDispatcher, name);
        }
        Assert.Single(threads[a]);
        Assert.Single(threads[b]);
        Assert.NotEqual(threads[a].Single(), threads[b].Single());
    }

    [Fact]
    public async Task A_run_on_the_blocking_dispatcher_trains()
    {
        var options = Fixtures.Training.WithAlgorithm(Fixtures.Options.WithWorkers(2).WithEnvironmentsPerWorker(4).WithRolloutLength(5)).WithMaxSteps(2_000);
        var result = await Training.RunAsync(Sys, options).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(StopReason.StepBudgetExhausted, result.Reason);
        Assert.Equal(0, result.Progress.RejectedRollouts);
        Assert.True(result.Progress.Version >= 2_000 / 40);
    }
}
