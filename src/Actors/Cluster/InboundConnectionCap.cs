using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Remote.Transport;
using Google.Protobuf;

namespace Advantage.Actors.Cluster;

/// <summary>
/// Akka.Remote transport adapter (named <see cref="Name"/> under <c>akka.remote.adapters</c>, applied to
/// <c>akka.remote.dot-netty.tcp</c> by <see cref="ClusterConfig.For"/>) that bounds a node's live inbound connections.
/// </summary>
/// <remarks>
/// <para>Why: DotNetty accepts every connection that reaches the port and Akka keeps it until its handshake timeout
/// (<c>connection-timeout</c>), so a peer that merely opens connections holds one file descriptor per connection
/// without proving anything. 1,000 idle connections filled a learner's 1,024-descriptor table for seconds; under load
/// the runtime then failed for want of a descriptor and the learner died. No Akka.Remote or DotNetty setting bounds the
/// accepted sockets (<c>tcp-backlog</c> bounds only the kernel's queue of connections not yet accepted).</para>
/// <para>How: the adapter sits between Akka's protocol layer and the DotNetty driver. Each inbound association the
/// driver reports is counted; one beyond <see cref="InboundConnections.Cap"/> is closed at once, before Akka sees it
/// (no handshake, no actor, no timer), and counted as refused. The count drops when an association ends: when Akka
/// disassociates it (handshake timeout, a node leaving, shutdown) or the peer closes it. Outbound connections (this
/// node dialling a peer) are not counted: a stranger cannot make a node dial. TLS and the Akka handshake run above the
/// driver exactly as without the adapter, and the addresses keep their scheme (<c>akka.tcp</c>, <c>akka.ssl.tcp</c>):
/// unlike Akka's own adapters (throttler, failure injector), this one adds no scheme of its own, so it changes nothing
/// a peer sees except that connections beyond the cap are closed.</para>
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
        var counters = InboundConnections.For(system);
        counters.Cap = cap;
        return new InboundConnectionCapTransport(wrappedTransport, counters, interval, Logging.GetLogger(system, typeof(InboundConnectionCapTransport)));
    }
}

/// <summary>
/// A node's inbound-connection counts, one per actor system (an Akka extension, so the transport adapter that Akka
/// creates by name and the code that wants the figures find the same object).
/// </summary>
internal sealed class InboundConnections : IExtension
{
    private long live;
    private long refused;

    /// <summary>The most live inbound connections the node keeps; 0 until the adapter starts (no cap applied).</summary>
    public int Cap { get; internal set; }

    /// <summary>Inbound connections open now (counted from the driver's report until the association ends).</summary>
    public long Live => Interlocked.Read(ref live);

    /// <summary>Inbound connections closed on arrival because <see cref="Cap"/> were open, since the node started.</summary>
    public long Refused => Interlocked.Read(ref refused);

    /// <summary>The counts of <paramref name="system"/>.</summary>
    public static InboundConnections For(ActorSystem system) => system.WithExtension<InboundConnections, InboundConnectionsId>();

    /// <summary>Takes a slot; false (and nothing taken) when <see cref="Cap"/> are live.</summary>
    internal bool TryTake()
    {
        long now = Interlocked.Increment(ref live);
        if (now <= Cap) return true;
        Interlocked.Decrement(ref live);
        Interlocked.Increment(ref refused);
        return false;
    }

    internal void Release() => Interlocked.Decrement(ref live);

    private sealed class InboundConnectionsId : ExtensionIdProvider<InboundConnections>
    {
        public override InboundConnections CreateExtension(ExtendedActorSystem system) => new();
    }
}

/// <summary>
/// The adapter itself: a <see cref="Transport"/> over the driver that forwards everything, counts inbound associations
/// and closes those beyond the cap. It derives from <see cref="Transport"/> rather than Akka's
/// <c>AbstractTransportAdapter</c> because that base adds a scheme to every address (<c>akka.trttl.tcp</c> for the
/// throttler), which would change the address every peer and seed node is configured with.
/// </summary>
internal sealed class InboundConnectionCapTransport : Transport
{
    private readonly Transport wrapped;
    private readonly InboundConnections counters;
    private readonly TimeSpan warnInterval;
    private readonly ILoggingAdapter log;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Lock warning = new();
    private TimeSpan? lastWarning;
    private long refusedAtLastWarning;

    public InboundConnectionCapTransport(Transport wrapped, InboundConnections counters, TimeSpan warnInterval, ILoggingAdapter log)
    {
        this.wrapped = wrapped;
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

    /// <summary>Outbound: this node dials a peer it chose; passed through uncounted.</summary>
    public override Task<AssociationHandle> Associate(Address remoteAddress) => wrapped.Associate(remoteAddress);

    /// <inheritdoc />
    public override Task<bool> Shutdown() => wrapped.Shutdown();

    /// <inheritdoc />
    public override Task<bool> ManagementCommand(object message) => wrapped.ManagementCommand(message);

    /// <summary>
    /// Listens through the driver and hands Akka a listener promise of its own; once Akka completes it, the driver's is
    /// completed with a listener that counts (the driver accepts no connection before its promise is completed).
    /// </summary>
    public override async Task<(Address, TaskCompletionSource<IAssociationEventListener>)> Listen()
    {
        var (address, driverPromise) = await wrapped.Listen().ConfigureAwait(false);
        var upstream = new TaskCompletionSource<IAssociationEventListener>();
        _ = upstream.Task.ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully) driverPromise.TrySetResult(new CountingListener(this, t.Result));
            else if (t.Exception is { } e) driverPromise.TrySetException(e.InnerExceptions);
            else driverPromise.TrySetCanceled();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return (address, upstream);
    }

    private void OnInbound(InboundAssociation inbound, IAssociationEventListener upstream)
    {
        var handle = inbound.Association;
        if (counters.TryTake())
        {
            upstream.Notify(new InboundAssociation(new CountedHandle(handle, counters, log)));
            return;
        }
        // Warned before closing, so whoever sees the close can count on the warning having been published.
        Warn(handle.RemoteAddress);
        handle.Disassociate($"{counters.Cap} inbound connections are open, the most this node accepts", log);
    }

    /// <summary>One warning at the first refusal, then at most one per <see cref="warnInterval"/> while refusals go on.</summary>
    private void Warn(Address remote)
    {
        long refused = counters.Refused;
        lock (warning)
        {
            var now = clock.Elapsed;
            if (lastWarning is { } last && now - last < warnInterval) return;
            long since = refused - refusedAtLastWarning;
            string window = lastWarning is { } previous ? $"{since} since the last such line {(now - previous).TotalSeconds:F0} s ago" : "the first";
            lastWarning = now;
            refusedAtLastWarning = refused;
            log.Warning(
                "Refused an inbound connection from {0}: {1} inbound connections are open, the most this node accepts " +
                "(ClusterNodeOptions.MaxInboundConnections, --max-inbound-connections). Refused {2} in all, {3}. " +
                "Something is opening connections it does not use; cluster members already connected are not affected.",
                $"{remote.Host}:{remote.Port}", counters.Cap, refused, window);
        }
    }

    private sealed class CountingListener(InboundConnectionCapTransport transport, IAssociationEventListener upstream) : IAssociationEventListener
    {
        public void Notify(IAssociationEvent ev)
        {
            if (ev is InboundAssociation inbound) transport.OnInbound(inbound, upstream);
            else upstream.Notify(ev);
        }
    }
}

/// <summary>
/// An inbound association that holds a slot of the cap until it ends: Akka disassociates it, or the driver reports it
/// disassociated (the peer closed it). Either releases the slot once. Addresses are the driver's, unchanged.
/// </summary>
internal sealed class CountedHandle : AssociationHandle
{
    private readonly AssociationHandle wrapped;
    private readonly InboundConnections counters;
    private readonly ILoggingAdapter log;
    private int released;

    public CountedHandle(AssociationHandle wrapped, InboundConnections counters, ILoggingAdapter log)
        : base(wrapped.LocalAddress, wrapped.RemoteAddress)
    {
        this.wrapped = wrapped;
        this.counters = counters;
        this.log = log;
        // Akka registers its reader on this handle; the driver gets one that watches for the end and passes everything on.
        ReadHandlerSource.Task.ContinueWith(t => wrapped.ReadHandlerSource.TrySetResult(new Watch(this, t.Result)),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    /// <inheritdoc />
    public override bool Write(ByteString payload) => wrapped.Write(payload);

    // AssociationHandle.Disassociate() is obsolete for callers (they should state a reason); Akka still routes every
    // disassociation through this override, so it must be implemented.
#pragma warning disable CS0672
    /// <inheritdoc />
    public override void Disassociate()
#pragma warning restore CS0672
    {
        Release();
        wrapped.Disassociate("Akka disassociated it", log);
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref released, 1) == 0) counters.Release();
    }

    private sealed class Watch(CountedHandle handle, IHandleEventListener upstream) : IHandleEventListener
    {
        public void Notify(IHandleEvent ev)
        {
            if (ev is Disassociated) handle.Release();
            upstream.Notify(ev);
        }
    }
}
