using Advantage.Actors;
using Advantage.Actors.Cluster;
using Advantage.Actors.Serialization;
using Advantage.Environments;
using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Cluster.Tests;

/// <summary>
/// The join handshake between a worker node and the learner, over real Akka.Remote in this process: a node of another
/// wire or without the run's environment is refused with the reason, and a run's end sends its nodes home.
/// </summary>
public sealed class HandshakeTests
{
    private static TrainingOptions Run(long maxSteps = 1_000_000_000) => new TrainingOptions()
        .WithAlgorithm(new A2COptions().WithHiddenSizes([16]).WithWorkers(1).WithEnvironmentsPerWorker(2).WithRolloutLength(5).WithSeed(3))
        .WithMaxSteps(maxSteps);

    private static ClusterWorkerOptions WorkerFor(int port) =>
        new ClusterWorkerOptions($"127.0.0.1:{port}").WithJoinRetryInterval(TimeSpan.FromMilliseconds(250));

    [Fact]
    public async Task A_node_of_another_version_is_refused_on_the_wire_with_one_line_naming_the_difference()
    {
        int port = Ports.Free();
        var options = Run();
        using var learnerSystem = ClusterLearner.CreateSystem(new ClusterNodeOptions().WithPort(port), options);
        var run = ClusterLearner.Start(learnerSystem, options);
        // The other side of the pair: a node whose serializer speaks one manifest differently (a later Parameters layout).
        var node = new ClusterNodeOptions();
        using var other = ClusterConfig.CreateSystem(node, ClusterConfig.For(node, ClusterConfig.WorkerRole, $"127.0.0.1:{port}", ClusterConfig.MinimumFrameSize));
        var inbox = Inbox.Create(other);
        string[] later = [.. AdvantageSerializer.Wire.Where(m => m != "P2"), "P3"];
        var endpoint = other.ActorSelection($"akka.tcp://advantage@127.0.0.1:{port}{ClusterLearner.EndpointPath}");
        using var asking = new CancellationTokenSource();
        // Asked until answered, as a node does: the learner's remoting may take a moment to accept the connection.
        _ = Task.Run(async () =>
        {
            while (!asking.IsCancellationRequested)
            {
                endpoint.Tell(new JoinRun("akka.tcp://advantage@127.0.0.1:1", 1) { Wire = later, Version = "9.9.9", EnvironmentIds = ["CartPole-v1"] }, inbox.Receiver);
                await Task.Delay(250);
            }
        });
        var answer = await inbox.ReceiveAsync(TimeSpan.FromSeconds(60));
        await asking.CancelAsync();
        var refused = Assert.IsType<JoinRefused>(answer);
        Assert.Equal($"it runs Advantage 9.9.9, whose messages differ from this learner's ({AdvantageSerializer.ProductVersion}): it speaks P3 where this learner speaks P2; " +
            "every node of a cluster must run the same Advantage version.", refused.Reason);
        run.Stop();
        await run.Completion.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_worker_node_without_the_runs_environment_ends_refused_and_the_run_waits_for_a_node_that_has_it()
    {
        int port = Ports.Free();
        var registry = EnvironmentRegistry.Builtin.Register("Faulty-v0", () => new FaultyEnvironment(-1));
        var options = Run(maxSteps: 2_000).WithEnvironments(registry).WithEnvironmentId("Faulty-v0");
        using var learnerSystem = ClusterLearner.CreateSystem(new ClusterNodeOptions().WithPort(port), options);
        var run = ClusterLearner.Start(learnerSystem, options);
        var lacking = await ClusterWorker.RunAsync(WorkerFor(port), null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(ClusterWorkerEnd.Refused, lacking.End);
        Assert.False(lacking.IsNormal);
        Assert.Contains("it does not have the run's environment 'Faulty-v0' (it has CartPole-v1, ", lacking.Message);
        // The refused node took no worker id: one that has the environment trains the run to its end, then ends with it.
        var events = new List<string>();
        var having = await ClusterWorker.RunAsync(WorkerFor(port).WithEnvironments(registry), e => { lock (events) events.Add(e.Message); }, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(90));
        var result = await run.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(StopReason.StepBudgetExhausted, result.Reason);
        Assert.Equal(new ClusterWorkerResult(ClusterWorkerEnd.RunEnded, "the run ended (StepBudgetExhausted); left the cluster"), having);
        lock (events) Assert.Contains(events, e => e.StartsWith("started 1 workers (ids 0)", StringComparison.Ordinal));
        await ClusterLearner.ShutdownAsync(learnerSystem, TimeSpan.FromSeconds(5)).WaitAsync(TimeSpan.FromSeconds(30));
    }
}
