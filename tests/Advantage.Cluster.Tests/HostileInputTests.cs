using Xunit.Abstractions;

namespace Advantage.Cluster.Tests;

/// <summary>
/// Hostile input at the learner's one port while a learner process and a worker process train (the scenario is
/// <see cref="HostileScenario"/>): random bytes, an HTTP request, a frame claiming 2 GB, a slow sender, 1,000 idle
/// connections against a learner started under <c>ulimit -n 1024</c>. The learner must survive all of it: close every
/// hostile connection, send nothing back, keep training with its worker, keep its threads and memory bounded, keep its open
/// files within its inbound-connection cap (<c>ClusterNodeOptions.MaxInboundConnections</c>) of what they were, keep its
/// checkpoint loadable, and listen on exactly one TCP port throughout.
/// </summary>
/// <remarks>
/// What the attacks cost in pace is measured by <c>bench hostile</c>, not asserted here: a pace ratio depends on what
/// else the machine runs (it failed at 56 % on a loaded machine), and the test command must pass on any machine that
/// builds it. Every wait here is a generous "never hangs" bound.
/// </remarks>
public class HostileInputTests(ITestOutputHelper log)
{
    private static readonly HostileSettings Settings = new(
        Baseline: TimeSpan.FromSeconds(3), IdleHold: TimeSpan.FromSeconds(10), WarmupVersion: 50, Deadline: TimeSpan.FromSeconds(180));

    [Fact]
    public async Task Hostile_input_at_the_learners_port_neither_stops_training_nor_grows_the_learner()
    {
        var run = await HostileScenario.RunAsync(Settings, log.WriteLine);

        Assert.Equal("1024", run.SoftFileLimit);
        Assert.True(run.Garbage.Closed, "random bytes: " + run.Garbage);
        Assert.True(run.Http.Closed, "HTTP: " + run.Http);
        Assert.Equal(0, run.Http.BytesBack); // nothing here speaks HTTP
        Assert.True(run.Claim.Closed, "2 GB frame: " + run.Claim);
        Assert.True(run.Slow.Closed, "slow sender: " + run.Slow);

        // The worker stayed registered and nothing was rejected: every progress line since training began counted it.
        Assert.All(run.Windows, w => Assert.Equal(1, w.FewestWorkers));
        Assert.All(run.Windows, w => Assert.Equal(0, w.Rejected));
        // Training went on through each attack (how fast is bench hostile's business).
        Assert.True(run.Quick.Last.Version > run.Quick.First.Version, run.Quick.ToString());
        Assert.True(run.IdleWindow.Last.Version > run.IdleWindow.First.Version, run.IdleWindow.ToString());
        Assert.True(run.B2.Last.Version > run.B2.First.Version, run.B2.ToString());

        // Threads: DotNetty's event loops are a fixed set, so connections must not add threads (a thread per connection
        // would be hundreds); the .NET thread pool may inject some on a loaded machine. Bound: the baseline's most plus 16.
        // Memory: an idle or refused connection costs kilobytes (1,000 of them a few MiB); a 2 GB claim that were
        // buffered, or a buffer per connection sized to the frame (~1 MiB), would show as hundreds of MiB to gigabytes.
        // Bound: the baseline's most plus 128 MiB.
        Assert.True(run.AttackMost.Threads <= run.BaselineMost.Threads + 16, $"Threads: {run.AttackMost.Threads} under attack, {run.BaselineMost.Threads} before.");
        Assert.True(run.AttackMost.Rss <= run.BaselineMost.Rss + (128L << 20), $"RSS: {run.AttackMost.Rss >> 20} MiB under attack, {run.BaselineMost.Rss >> 20} MiB before.");
        // Descriptors: the learner closes inbound connections beyond its cap (ClusterNodeOptions.MaxInboundConnections, default 256)
        // as soon as it accepts them, so 1,000 idle connections hold at most the cap's worth of descriptors until Akka's handshake
        // timeout. Without the cap they took the whole table (1,023 of 1,024), and once, under load, the runtime then died for want
        // of a descriptor. Bound: the baseline's most plus the cap plus 128 (connections accepted and not yet closed, other files).
        int files = run.BaselineFiles + Advantage.Actors.Cluster.ClusterNodeOptions.DefaultMaxInboundConnections + 128;
        Assert.True(run.IdleFiles <= files, $"Open files: {run.IdleFiles} at most under 1,000 idle connections, {run.BaselineFiles} before; bound {files}. {run.Idle}");
        Assert.Empty(run.OutOfDescriptors);
        // The refusals are said, not per connection: at most a line per 10 s (they all come within the flood's first second or so).
        Assert.InRange(run.RefusalWarnings.Count, 1, 3);
        Assert.False(run.LearnerExited);
        Assert.Equal([run.Port], run.PortsAtStart);
        Assert.Equal([run.Port], run.PortsWhileIdleHeld);
        Assert.Equal([run.Port], run.PortsAtEnd);
        // The checkpoint written after the attacks loads whole (the scenario fails otherwise).
        Assert.True(run.CheckpointLoaded > run.IdleWindow.Last.Version);
    }
}
