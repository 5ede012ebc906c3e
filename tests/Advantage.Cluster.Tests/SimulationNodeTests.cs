using Advantage.Actors;
using Advantage.Actors.Cluster;
using Advantage.Actors.Simulation;
using Advantage.Environments;
using Advantage.Learning;
using System.Runtime.CompilerServices;
using Akka.Actor;

namespace Advantage.Cluster.Tests;

/// <summary>
/// A simulation on a worker node of the cluster, the learner on another: two actor systems in this process over Akka.Remote
/// loopback. The worker node joins through the same handshake as a worker node, starts the gateways, and the user's stream
/// actors (created in the node's system by <see cref="SimulationHosting.Start"/>) drive CartPole through them.
/// </summary>
public class SimulationNodeTests
{
    /// <summary>One CartPole entity of the user's simulation: asks its gateway, steps, reports, and counts the decisions it got.</summary>
    private sealed class Stream : ReceiveActor
    {
        private readonly IEnvironment env = EnvironmentRegistry.Builtin.Make("CartPole-v1");
        private readonly float[] observation = new float[4];

        public Stream(IActorRef gateway, int stream, int seed, StrongBox<int> decisions)
        {
            env.Reset(seed, observation);
            gateway.Tell(new Decide(stream, (float[])observation.Clone()));
            Receive<Decision>(decision =>
            {
                Interlocked.Increment(ref decisions.Value);
                var result = env.Step(decision.Action, observation);
                float[]? final = result.Truncated && !result.Terminated ? (float[])observation.Clone() : null;
                gateway.Tell(new Advantage.Actors.Simulation.Outcome(stream, result.Reward, result.Terminated, result.Truncated, final));
                if (result.IsFinished) env.Reset(null, observation);
                gateway.Tell(new Decide(stream, (float[])observation.Clone()));
            });
        }
    }

    private static ClusterWorkerOptions NodeFor(int port, SimulationHosting hosting, ClusterNodeOptions? node = null) =>
        new ClusterWorkerOptions($"127.0.0.1:{port}")
            .WithNode(node ?? new ClusterNodeOptions())
            .WithJoinRetryInterval(TimeSpan.FromMilliseconds(250))
            .WithSimulation(hosting);

    /// <summary>Starts a stream actor per stream of every gateway; records what the node was given.</summary>
    private static SimulationHosting Streams(StrongBox<int> decisions, List<SimulationGateways> started) => new(gateways =>
    {
        lock (started) started.Add(gateways);
        for (int g = 0; g < gateways.Gateways.Count; g++)
            for (int s = 0; s < gateways.StreamsPerSimulation; s++)
            {
                var gateway = gateways.Gateways[g];
                int stream = s, seed = 100 * gateways.SimulationIds[g] + s;
                gateways.System.ActorOf(Props.Create(() => new Stream(gateway, stream, seed, decisions)));
            }
    });

    [Theory]
    [InlineData(false, 4_000)]
    [InlineData(true, 1_000)] // over TLS: the same handshake and run, both nodes with the cluster's certificate
    public async Task A_simulation_on_a_worker_node_gets_actions_and_the_learner_on_another_node_updates_until_the_run_ends(bool tls, int steps)
    {
        using var files = new TestCertificates();
        var nodeOptions = tls ? new ClusterNodeOptions().WithTls(files.SelfSigned("cluster")) : new ClusterNodeOptions();
        var training = new TrainingOptions()
            .WithAlgorithm(new A2COptions().WithHiddenSizes([16]).WithRolloutLength(5).WithSeed(3).WithNormalizeRewards(true))
            .WithMaxSteps(steps);
        // The learner waits for two gateways of four streams each; the node hosts both.
        var options = SimulationTraining.ForCluster(training, new SimulationOptions { Simulations = 2, StreamsPerSimulation = 4 });
        Assert.Equal((2, 4), (options.Algorithm.Workers, options.Algorithm.EnvironmentsPerWorker));
        int port = Ports.Free();
        var progress = new ProgressLog();
        using var system = ClusterLearner.CreateSystem(nodeOptions.WithPort(port), options);
        var run = ClusterLearner.Start(system, options, null, progress.Add);
        var decisions = new StrongBox<int>();
        var started = new List<SimulationGateways>();
        var events = new System.Collections.Concurrent.ConcurrentQueue<ClusterWorkerEvent>();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var node = ClusterWorker.RunAsync(NodeFor(port, Streams(decisions, started).WithSimulations(2), nodeOptions), events.Enqueue, cancel.Token);

        var result = await run.Completion.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(StopReason.StepBudgetExhausted, result.Reason);
        Assert.True(result.Progress.Version >= steps / (5 * 8), $"version {result.Progress.Version}: the learner updated from the simulation's rollouts");
        Assert.Equal(0, result.Progress.RejectedRollouts);
        Assert.Equal(2, result.Progress.Workers);
        Assert.True(decisions.Value >= steps, $"{decisions.Value} decisions");
        // The node was given the run's sizes by the learner, then ended with the run, as a worker node does.
        var given = Assert.Single(started);
        Assert.Equal((2, 4, 4), (given.Gateways.Count, given.StreamsPerSimulation, given.Spec.ObservationSize));
        Assert.Equal([0, 1], given.SimulationIds);
        var end = await node.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(ClusterWorkerEnd.RunEnded, end.End);
        Assert.True(end.IsNormal);
        Assert.Contains(events, e => e.Message.Contains("started 2 simulation gateways", StringComparison.Ordinal));
        await ClusterLearner.ShutdownAsync(system, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_learner_whose_node_runs_one_silent_simulation_closes_each_round_without_it_after_its_round_timeout()
    {
        // The learner's limits come from the SimulationOptions given to ForCluster; the node's gateways have their own.
        var training = new TrainingOptions()
            .WithAlgorithm(new A2COptions().WithHiddenSizes([8]).WithRolloutLength(5).WithSeed(3))
            .WithMaxSteps(200);
        var options = SimulationTraining.ForCluster(training, new SimulationOptions { Simulations = 2, StreamsPerSimulation = 4 }
            .WithRoundTimeout(TimeSpan.FromMilliseconds(300)));
        int port = Ports.Free();
        using var system = ClusterLearner.CreateSystem(new ClusterNodeOptions().WithPort(port), options);
        var run = ClusterLearner.Start(system, options);
        var decisions = new StrongBox<int>();
        // Only simulation 0's entities start: simulation 1's gateway lives on with nothing behind it.
        var hosting = new SimulationHosting(gateways =>
        {
            for (int s = 0; s < gateways.StreamsPerSimulation; s++)
            {
                int stream = s;
                gateways.System.ActorOf(Props.Create(() => new Stream(gateways.Gateways[0], stream, stream, decisions)));
            }
        }).WithSimulations(2);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var node = ClusterWorker.RunAsync(NodeFor(port, hosting), null, cancel.Token);

        var result = await run.Completion.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(StopReason.StepBudgetExhausted, result.Reason);
        Assert.Equal(200, result.Progress.Steps); // 10 rounds of simulation 0's 4 x 5 steps
        Assert.Equal(result.Progress.Version, result.ShortRounds);
        Assert.Equal(1, result.Progress.LastUpdate!.Extra["missing_rollouts"]);
        Assert.Equal(ClusterWorkerEnd.RunEnded, (await node.WaitAsync(TimeSpan.FromSeconds(60))).End);
        await ClusterLearner.ShutdownAsync(system, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_simulation_node_with_a_bad_option_is_refused_before_it_starts_and_one_whose_Start_throws_ends_with_one_line()
    {
        // The learner runs a real environment; a simulation node needs none and is let in.
        var options = new TrainingOptions()
            .WithAlgorithm(new A2COptions().WithHiddenSizes([8]).WithWorkers(1).WithEnvironmentsPerWorker(2).WithRolloutLength(5))
            .WithMaxSteps(1_000_000_000);
        int port = Ports.Free();
        using var system = ClusterLearner.CreateSystem(new ClusterNodeOptions().WithPort(port), options);
        var run = ClusterLearner.Start(system, options);
        // A bad option is refused before anything starts, naming the field.
        var bad = Assert.Throws<OptionsValidationException>(() => NodeFor(port, new SimulationHosting(_ => { }) { Simulations = 0 }).Validate());
        Assert.Contains("Simulation.Simulations = 0 is outside [1, 1024]", bad.Message);
        // A Start that throws ends the node with its message, not a crash.
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var end = await ClusterWorker.RunAsync(NodeFor(port, new SimulationHosting(_ => throw new InvalidOperationException("no warehouse today"))), null, cancel.Token);
        Assert.Equal(ClusterWorkerEnd.Refused, end.End);
        Assert.False(end.IsNormal);
        Assert.Contains("the simulation's Start threw InvalidOperationException: no warehouse today", end.Message);
        run.Stop();
        await run.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        await ClusterLearner.ShutdownAsync(system, TimeSpan.FromSeconds(1));
    }
}
