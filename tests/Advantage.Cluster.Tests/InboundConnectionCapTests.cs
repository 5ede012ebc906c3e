using System.Net;
using System.Net.Sockets;
using Advantage.Actors.Cluster;
using Akka.Actor;
using Akka.Event;

namespace Advantage.Cluster.Tests;

/// <summary>
/// The inbound-connection cap (<see cref="InboundConnectionCapProvider"/>) on real nodes in this process: a connection
/// beyond the cap is closed on arrival while the nodes already associated keep talking, refusals are counted and warned
/// about once per interval, and a slot comes back when a connection closes (its peer closes it, Akka's handshake timeout
/// closes it, or a member node stops). Every wait is a generous "never hangs" bound, not a pace.
/// </summary>
public sealed class InboundConnectionCapTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>A node's actor system, started within the bound (Akka waits forever for a transport adapter it cannot load).</summary>
    private static Task<ActorSystem> Node(ClusterNodeOptions node, string role, int seedPort) =>
        Task.Run(() => ClusterConfig.CreateSystem(node, ClusterConfig.For(node, role, $"127.0.0.1:{seedPort}", ClusterConfig.MinimumFrameSize))).WaitAsync(Bound);

    [Fact]
    public void The_cap_is_on_by_default_on_every_node_and_its_option_names_its_range()
    {
        var node = new ClusterNodeOptions().WithPort(4053);
        Assert.Equal(256, node.MaxInboundConnections);
        var config = ClusterConfig.For(node, ClusterConfig.LearnerRole, "127.0.0.1:4053", ClusterConfig.MinimumFrameSize);
        Assert.Equal([InboundConnectionCapProvider.Name], config.GetStringList("akka.remote.dot-netty.tcp.applied-adapters"));
        Assert.Equal(256, config.GetInt(InboundConnectionCapProvider.CapPath));
        // Akka reads the adapter's type name as RemoteSettings does (HoconValue.ToString, which quotes a value with a space).
        string typeName = config.GetConfig("akka.remote.adapters").Root.GetObject().Unwrapped[InboundConnectionCapProvider.Name].ToString()!;
        Assert.Equal(typeof(InboundConnectionCapProvider), Type.GetType(typeName));
        Assert.Equal(7, ClusterConfig.For(node.WithMaxInboundConnections(7), ClusterConfig.WorkerRole, "127.0.0.1:4053", ClusterConfig.MinimumFrameSize)
            .GetInt(InboundConnectionCapProvider.CapPath));
        Assert.Contains("MaxInboundConnections = 0 is outside [1, 1000000].", node.WithMaxInboundConnections(0).Problems());
        Assert.Empty(node.WithMaxInboundConnections(1).Problems());
    }

    [Fact]
    public async Task A_connection_beyond_the_cap_is_closed_at_once_while_two_member_nodes_stay_associated()
    {
        int port = Ports.Free();
        // Akka's handshake timeout at 10 minutes: within this test's bounds, only the cap can close a silent connection.
        var options = new ClusterNodeOptions().WithPort(port).WithMaxInboundConnections(2)
            .WithEngineSettings("akka.remote.dot-netty.tcp.connection-timeout = 600 s\nadvantage.inbound-connections.warn-interval = 1h");
        using var seed = await Node(options, ClusterConfig.LearnerRole, port);
        var counts = InboundConnections.For(seed);
        var warnings = Inbox.Create(seed);
        seed.EventStream.Subscribe(warnings.Receiver, typeof(Warning));
        using var first = await Node(new ClusterNodeOptions(), ClusterConfig.WorkerRole, port);
        using var second = await Node(new ClusterNodeOptions(), ClusterConfig.WorkerRole, port);
        await Answers(first, port);
        await Answers(second, port);
        await Until(() => counts.Open == 2, "the two member nodes' connections to be counted");
        Assert.Equal((2, 0L), (counts.Cap, counts.Refused));

        // Three strangers: each closed on arrival, before any handshake; one warning for all three (interval 1 h).
        for (int i = 0; i < 3; i++)
        {
            using var stranger = await Connect(port);
            Assert.True(await ClosedByPeer(stranger), $"stranger {i + 1} was still open after {Bound.TotalSeconds:F0} s");
        }
        Assert.Equal((2L, 3L), (counts.Open, counts.Refused));
        var marker = new Warning("test", typeof(InboundConnectionCapTests), "marker");
        seed.EventStream.Publish(marker);
        var refusals = new List<Warning>();
        for (object got; !ReferenceEquals(got = await warnings.ReceiveAsync(Bound), marker);)
            if (got is Warning w && w.LogClass == typeof(InboundConnectionCapTransport)) refusals.Add(w);
        var warning = Assert.Single(refusals);
        Assert.Contains("2 inbound connections are open, the most this node accepts", warning.Message.ToString());

        // The members were never disturbed: both still answer over the associations they had.
        await Answers(first, port);
        await Answers(second, port);
        Assert.Equal((2L, 3L), (counts.Open, counts.Refused));

        // A member that stops frees its slot; a stranger then gets it, and frees it by closing.
        await second.Terminate().WaitAsync(Bound);
        await Until(() => counts.Open == 1, "the stopped member's slot to be freed");
        using (var accepted = await Connect(port))
            await Until(() => counts.Open == 2, "the next connection to take the free slot");
        await Until(() => counts.Open == 1, "the slot of a connection its peer closed to be freed");
        Assert.Equal(3L, counts.Refused);
        await Answers(first, port);
    }

    [Fact]
    public async Task A_slot_held_by_a_silent_connection_comes_back_at_the_handshake_timeout()
    {
        int port = Ports.Free();
        // ClusterConfig's handshake timeout (connection-timeout = 5 s) applies here.
        using var seed = await Node(new ClusterNodeOptions().WithPort(port).WithMaxInboundConnections(1), ClusterConfig.LearnerRole, port);
        var counts = InboundConnections.For(seed);
        using var silent = await Connect(port);
        await Until(() => counts.Open == 1, "the silent connection to be counted");
        using (var beyond = await Connect(port))
            Assert.True(await ClosedByPeer(beyond), "the connection beyond the cap of 1 stayed open");
        Assert.Equal((1L, 1L), (counts.Open, counts.Refused));
        // Akka closes the silent one at its handshake timeout, and the slot is free again.
        Assert.True(await ClosedByPeer(silent), "the silent connection outlived the handshake timeout");
        await Until(() => counts.Open == 0, "the timed-out connection's slot to be freed");
        using var next = await Connect(port);
        await Until(() => counts.Open == 1, "the next connection to take the free slot");
        Assert.Equal(1L, counts.Refused);
    }

    [Fact]
    public async Task Over_TLS_a_connection_beyond_the_cap_is_closed_before_its_TLS_handshake()
    {
        using var files = new TestCertificates();
        int port = Ports.Free();
        var options = new ClusterNodeOptions().WithPort(port).WithMaxInboundConnections(1).WithTls(files.SelfSigned("node"))
            .WithEngineSettings("akka.remote.dot-netty.tcp.connection-timeout = 600 s");
        using var seed = await Node(options, ClusterConfig.LearnerRole, port);
        var counts = InboundConnections.For(seed);
        using var held = await Connect(port);
        await Until(() => counts.Open == 1, "the first connection to be counted");
        using (var beyond = await Connect(port))
            Assert.True(await ClosedByPeer(beyond), "the connection beyond the cap of 1 stayed open");
        Assert.Equal((1, 1L, 1L), (counts.Cap, counts.Open, counts.Refused));
    }

    /// <summary>A round trip from <paramref name="node"/> to the seed's user guardian, within the bound.</summary>
    private static async Task Answers(ActorSystem node, int port)
    {
        var identity = await node.ActorSelection($"akka.tcp://advantage@127.0.0.1:{port}/user").Ask<ActorIdentity>(new Identify(port), Bound);
        Assert.Equal(port, identity.MessageId);
        Assert.NotNull(identity.Subject);
    }

    private static async Task<Socket> Connect(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(Bound);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        return socket;
    }

    /// <summary>True once the node closes (or resets) the connection; false if it is still open after the bound. Sends nothing.</summary>
    private static async Task<bool> ClosedByPeer(Socket socket)
    {
        using var timeout = new CancellationTokenSource(Bound);
        var buffer = new byte[256];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }
            return true;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Bound);
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        while (!condition())
        {
            if (!await ticks.WaitForNextTickAsync(timeout.Token).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result, TaskScheduler.Default))
                throw new TimeoutException($"Waited {Bound.TotalSeconds:F0} s for {what}.");
        }
    }
}
