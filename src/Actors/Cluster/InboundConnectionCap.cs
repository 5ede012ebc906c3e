using System.Diagnostics;
using System.Net;
using System.Reflection;
using Akka.Actor;
using Akka.Event;
using Akka.Remote.Transport;
using DotNetty.Transport.Channels;

namespace Advantage.Actors.Cluster;

/// <summary>
/// Akka.Remote transport adapter (named <see cref="Name"/> under <c>akka.remote.adapters</c>, applied to
/// <c>akka.remote.dot-netty.tcp</c> by <see cref="ClusterConfig.For"/>) that bounds a node's open inbound connections.
/// </summary>
/// <remarks>
/// <para>Why: DotNetty accepts every connection that reaches the port and Akka keeps it until its handshake timeout
/// (<c>connection-timeout</c>), so a peer that merely opens connections holds a file descriptor per connection without
/// proving anything. 1,000 idle connections filled a learner's 1,024-descriptor table for seconds; under load the runtime
/// then failed for want of a descriptor and the learner died. No Akka.Remote or DotNetty setting bounds the accepted
/// sockets (<c>backlog</c> bounds only the kernel's queue of connections not yet accepted).</para>
/// <para>Where: Akka's adapter layer sees an inbound association only after a hop through the thread pool, by when DotNetty's
/// accept loop has accepted the rest of a flood (the first version of this adapter counted there; 1,000 idle connections
/// still reached 1,023 descriptors). So the adapter puts a gate at the head of the driver's listening channel's pipeline,
/// which sees each accepted socket synchronously on the accept loop, before it is registered or handed to Akka: beyond
/// <see cref="InboundConnections.Cap"/> open ones, the socket is closed on the spot (its descriptor freed before the next
/// accept; no TLS, no handshake, no actor, no timer) and counted as refused. An accepted one holds its slot until its
/// channel closes, whoever closes it (Akka's handshake timeout, a node leaving, the peer, shutdown). Outbound connections
/// (this node dialling a peer it chose) are not counted. The driver does not expose its listening channel, so the adapter
/// reads Akka's internal <c>DotNettyTransport.ServerChannel</c> field by reflection (Akka 1.5.74; a test pins it); if a
/// later Akka hides it, the node still starts, warns that inbound connections are not capped, and
/// <see cref="InboundConnections.Cap"/> stays 0.</para>
/// <para>The adapter changes nothing else: associations pass through untouched and addresses keep the driver's scheme
/// (<c>akka.tcp</c>, <c>akka.ssl.tcp</c>). It derives from <see cref="Transport"/> rather than Akka's
/// <c>AbstractTransportAdapter</c>, whose scheme augmenter would add a scheme of its own to every address (as the
/// throttler's <c>akka.trttl.tcp</c> does) and so change the address every peer and seed node is configured with.</para>
/// </remarks>
internal sealed class InboundConnectionCapProvider : ITransportAdapterProvider
{
    /// <summary>The adapter's name in <c>akka.remote.adapters</c> and <c>applied-adapters</c>.</summary>
    public const string Name = "advantage-inbound-cap";

    /// <summary>The HOCON path of the cap (an int, at least 1).</summary>
    public const string CapPath = "advantage.inbound-connections.max";

    /// <summary>The HOCON path of the shortest time between two warnings about refused connections.</summary>
    public const string WarnIntervalPath = "advantage.inbound-connections.warn-interval";

    /// <inheritdoc />
    public Transport Create(Transport wrappedTransport, ExtendedActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(wrappedTransport);
        ArgumentNullException.ThrowIfNull(system);
        var config = system.Settings.Config;
        int cap = config.GetInt(CapPath, ClusterNodeOptions.DefaultMaxInboundConnections);
        if (cap < 1) throw new Akka.Configuration.ConfigurationException($"{CapPath} = {cap} must be at least 1.");
        var interval = config.GetTimeSpan(WarnIntervalPath, TimeSpan.FromSeconds(10), allowInfinite: false);
        return new InboundConnectionCapTransport(wrappedTransport, cap, InboundConnections.For(system), interval,
            Logging.GetLogger(system, typeof(InboundConnectionCapTransport)));
    }
}

/// <summary>
/// A node's inbound-connection counts, one per actor system (an Akka extension, so the transport adapter that Akka
/// creates by name and the code that wants the figures find the same object).
/// </summary>
internal sealed class InboundConnections : IExtension
{
    private long open;
    private long refused;

    /// <summary>The most inbound connections the node keeps open; 0 while no cap applies (before the node listens, or if the gate could not be installed).</summary>
    public int Cap { get; private set; }

    /// <summary>Inbound connections open now: accepted and not yet closed.</summary>
    public long Open => Interlocked.Read(ref open);

    /// <summary>Inbound connections closed on arrival because <see cref="Cap"/> were open, since the node started.</summary>
    public long Refused => Interlocked.Read(ref refused);

    /// <summary>The counts of <paramref name="system"/>.</summary>
    public static InboundConnections For(ActorSystem system) => system.WithExtension<InboundConnections, InboundConnectionsId>();

    internal void Apply(int cap) => Cap = cap;

    /// <summary>Takes a slot; false (nothing taken, one more refusal counted) when <see cref="Cap"/> are open.</summary>
    internal bool TryTake()
    {
        if (Interlocked.Increment(ref open) <= Cap) return true;
        Interlocked.Decrement(ref open);
        Interlocked.Increment(ref refused);
        return false;
    }

    internal void Release() => Interlocked.Decrement(ref open);

    private sealed class InboundConnectionsId : ExtensionIdProvider<InboundConnections>
    {
        public override InboundConnections CreateExtension(ExtendedActorSystem system) => new();
    }
}

/// <summary>
/// The adapter itself: a <see cref="Transport"/> over the driver that forwards everything and, once the driver listens,
/// puts an <see cref="AcceptGate"/> at the head of its listening channel's pipeline.
/// </summary>
internal sealed class InboundConnectionCapTransport : Transport
{
    private readonly Transport wrapped;
    private readonly int cap;
    private readonly InboundConnections counters;
    private readonly TimeSpan warnInterval;
    private readonly ILoggingAdapter log;

    public InboundConnectionCapTransport(Transport wrapped, int cap, InboundConnections counters, TimeSpan warnInterval, ILoggingAdapter log)
    {
        this.wrapped = wrapped;
        this.cap = cap;
        this.counters = counters;
        this.warnInterval = warnInterval;
        this.log = log;
        System = wrapped.System;
        Config = wrapped.Config;
    }

    /// <summary>The driver's own scheme: the adapter must not change any address.</summary>
    public override string SchemeIdentifier => wrapped.SchemeIdentifier;

    /// <inheritdoc />
    public override long MaximumPayloadBytes => wrapped.MaximumPayloadBytes;

    /// <inheritdoc />
    public override bool IsResponsibleFor(Address remote) => wrapped.IsResponsibleFor(remote);

    /// <summary>Outbound: this node dials a peer it chose; passed through, not counted.</summary>
    public override Task<AssociationHandle> Associate(Address remoteAddress) => wrapped.Associate(remoteAddress);

    /// <inheritdoc />
    public override Task<bool> Shutdown() => wrapped.Shutdown();

    /// <inheritdoc />
    public override Task<bool> ManagementCommand(object message) => wrapped.ManagementCommand(message);

    /// <summary>
    /// Listens through the driver, then installs the gate. The driver's listening channel accepts nothing until Akka
    /// completes the listener promise returned here (it binds with reads off), so no connection gets past the gate.
    /// </summary>
    public override async Task<(Address, TaskCompletionSource<IAssociationEventListener>)> Listen()
    {
        var listening = await wrapped.Listen().ConfigureAwait(false);
        if (ListeningChannel(wrapped) is { } channel)
        {
            counters.Apply(cap);
            channel.Pipeline.AddFirst(InboundConnectionCapProvider.Name, new AcceptGate(counters, new RefusalWarning(cap, warnInterval, log)));
        }
        else
        {
            log.Warning("Inbound connections are not capped: the transport under {0} ({1}) does not expose its listening channel as " +
                "Akka.Remote 1.5's DotNetty transport does; ClusterNodeOptions.MaxInboundConnections has no effect.",
                InboundConnectionCapProvider.Name, wrapped.GetType().FullName);
        }
        return listening;
    }

    /// <summary>Akka's DotNetty driver keeps its listening channel in an internal field, <c>ServerChannel</c>; null if there is none.</summary>
    internal static IChannel? ListeningChannel(Transport driver)
    {
        for (var type = driver.GetType(); type is not null; type = type.BaseType)
        {
            var field = type.GetField("ServerChannel", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
            if (field?.GetValue(driver) is IChannel channel) return channel;
        }
        return null;
    }
}

/// <summary>
/// The first handler of the listening channel's pipeline: it sees every accepted socket (as a child channel) on the accept
/// loop, before DotNetty registers it. Within the cap the child goes on and holds a slot until it closes; beyond it the
/// child is closed at once, which frees its descriptor before the loop accepts the next one.
/// </summary>
internal sealed class AcceptGate(InboundConnections counters, RefusalWarning warning) : ChannelHandlerAdapter
{
    /// <inheritdoc />
    public override void ChannelRead(IChannelHandlerContext context, object message)
    {
        if (message is not IChannel child)
        {
            context.FireChannelRead(message);
            return;
        }
        if (counters.TryTake())
        {
            child.CloseCompletion.ContinueWith(_ => counters.Release(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            context.FireChannelRead(child);
            return;
        }
        // Warned before closing, so whoever sees the close can count on the warning having been published.
        warning.Refused(child.RemoteAddress, counters.Refused);
        // Not registered with an event loop yet: closing it here, on the accept loop, is what DotNetty itself does with a
        // child it fails to register (ServerBootstrapAcceptor.ForceClose).
        child.Unsafe.CloseForcibly();
    }
}

/// <summary>One warning at the first refusal, then at most one per interval while refusals go on, each with the counts.</summary>
internal sealed class RefusalWarning(int cap, TimeSpan interval, ILoggingAdapter log)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Lock gate = new();
    private TimeSpan? last;
    private long refusedAtLast;

    public void Refused(EndPoint? from, long refused)
    {
        lock (gate)
        {
            var now = clock.Elapsed;
            if (last is { } previous && now - previous < interval) return;
            string since = last is { } before ? $"{refused - refusedAtLast} since the last such line {(now - before).TotalSeconds:F0} s ago" : "the first";
            last = now;
            refusedAtLast = refused;
            log.Warning(
                "Refused an inbound connection from {0}: {1} inbound connections are open, the most this node accepts " +
                "(ClusterNodeOptions.MaxInboundConnections, --max-inbound-connections). Refused {2} in all, {3}. " +
                "Something is opening connections it does not use; cluster members already connected are not affected.",
                Describe(from), cap, refused, since);
        }
    }

    private static string Describe(EndPoint? endpoint) => endpoint switch
    {
        IPEndPoint ip when ip.Address.IsIPv4MappedToIPv6 => new IPEndPoint(ip.Address.MapToIPv4(), ip.Port).ToString(),
        null => "an unknown address",
        _ => endpoint.ToString() ?? "an unknown address",
    };
}
