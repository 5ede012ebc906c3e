using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Serialization;
using System.Text;
using Advantage.Actors.Serialization;
using Akka.Actor;
using Akka.Event;

namespace Advantage.Actors.Cluster;

/// <summary>
/// Length-prefixed frames of the data lane: a 4-byte little-endian length of the rest, the manifest (one
/// length byte, ASCII), then the <see cref="AdvantageSerializer"/> payload. The same bytes Akka.Remote would
/// carry, without its pipeline.
/// </summary>
internal static class LaneFrames
{
    /// <summary>Handshake manifest: the payload is the worker actor's serialized path.</summary>
    public const string Hello = "HELLO1";

    /// <summary>
    /// A write that cannot finish in this time (the peer stopped reading) fails, which closes the lane and sends the
    /// message through Akka instead; without it one stalled peer would block the sender's actor thread.
    /// </summary>
    public const int SendTimeoutMilliseconds = 5_000;

    public static byte[] Encode(string manifest, ReadOnlySpan<byte> payload)
    {
        int rest = 1 + manifest.Length + payload.Length;
        var frame = new byte[4 + rest];
        BinaryPrimitives.WriteInt32LittleEndian(frame, rest);
        frame[4] = checked((byte)manifest.Length);
        Encoding.ASCII.GetBytes(manifest, frame.AsSpan(5));
        payload.CopyTo(frame.AsSpan(5 + manifest.Length));
        return frame;
    }

    /// <summary>Reads one frame; null at a clean end of stream (between frames).</summary>
    /// <exception cref="InvalidDataException">A frame longer than <paramref name="maxFrame"/>, or one cut short.</exception>
    public static (string Manifest, byte[] Payload)? Read(Stream stream, long maxFrame)
    {
        Span<byte> header = stackalloc byte[4];
        int got = ReadAtMost(stream, header);
        if (got == 0) return null;
        if (got < 4) throw new InvalidDataException("The lane closed inside a frame header.");
        int rest = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (rest < 2 || rest > maxFrame) throw new InvalidDataException($"A lane frame of {rest} bytes is outside [2, {maxFrame}].");
        var body = new byte[rest];
        if (ReadAtMost(stream, body) < rest) throw new InvalidDataException("The lane closed inside a frame.");
        int manifestLength = body[0];
        if (manifestLength == 0 || 1 + manifestLength > rest) throw new InvalidDataException($"A lane frame's manifest length {manifestLength} does not fit its {rest} bytes.");
        string manifest = Encoding.ASCII.GetString(body, 1, manifestLength);
        return (manifest, body.AsSpan(1 + manifestLength).ToArray());
    }

    private static int ReadAtMost(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}

/// <summary>
/// The learner's end of the data lane: a TCP listener beside Akka.Remote on which worker actors send rollouts
/// and receive parameters. Akka.Remote stays in charge of everything else (membership, registration, death
/// watch, control messages); only the two messages of every round take the short path.
/// </summary>
/// <remarks>
/// A synchronous round waits for its messages, so their latency is paid once per update. Through Akka.Remote a
/// message crosses about six threads (sender, endpoint writer, the transport's event loop, and the same on the
/// receiving side); measured round trips on loopback were about 1 ms, next to rounds of about 1 ms of work.
/// On the lane the sending actor writes the frame to the socket itself and one reader thread per connection
/// delivers it. Whatever cannot go on the lane (no connection yet, a broken one) goes through Akka.Remote as
/// before, so the lane is an optimisation, never a dependency.
/// </remarks>
internal sealed class LearnerLane : IDisposable
{
    private readonly ExtendedActorSystem system;
    private readonly AdvantageSerializer serializer;
    private readonly TcpListener listener;
    private readonly long maxFrame;
    private readonly ILoggingAdapter log;
    private readonly ConcurrentDictionary<IActorRef, Connection> byWorker = new();
    private readonly ConcurrentDictionary<Connection, byte> connections = new();
    private IActorRef learner = ActorRefs.Nobody;
    private volatile bool disposed;
    private long malformed;

    public LearnerLane(ExtendedActorSystem system, string host, long maxFrame)
    {
        this.system = system;
        this.maxFrame = maxFrame;
        serializer = new AdvantageSerializer(system);
        log = Logging.GetLogger(system, typeof(LearnerLane));
        var address = IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).First();
        listener = new TcpListener(address, 0);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The port workers connect to (on the learner node's host).</summary>
    public int Port { get; }

    /// <summary>Workers with a live lane.</summary>
    public int Connected => byWorker.Count;

    /// <summary>Payloads that did not deserialize (dropped; the connection stays up, as with Akka.Remote).</summary>
    public long Malformed => Interlocked.Read(ref malformed);

    /// <summary>Starts accepting; rollouts are delivered to <paramref name="target"/> as if sent by their worker.</summary>
    public void Start(IActorRef target)
    {
        learner = target;
        new Thread(AcceptLoop) { IsBackground = true, Name = "advantage-lane-accept" }.Start();
    }

    /// <summary>Serializes once for all workers of a round.</summary>
    public byte[] Frame(Parameters parameters) => LaneFrames.Encode(serializer.Manifest(parameters), serializer.ToBinary(parameters));

    /// <summary>Writes a frame to the worker's lane; false when it has none or the write failed (the caller falls back to Tell).</summary>
    public bool TrySend(IActorRef worker, byte[] frame)
    {
        if (!byWorker.TryGetValue(worker, out var connection)) return false;
        if (connection.TryWrite(frame)) return true;
        Close(connection);
        return false;
    }

    /// <summary>Closes the lane of a worker that is gone.</summary>
    public void Drop(IActorRef worker)
    {
        if (byWorker.TryRemove(worker, out var connection)) Close(connection);
    }

    public void Dispose()
    {
        disposed = true;
        listener.Stop();
        foreach (var connection in connections.Keys) Close(connection);
    }

    private void AcceptLoop()
    {
        while (!disposed)
        {
            Socket socket;
            try
            {
                socket = listener.AcceptSocket();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                if (!disposed) log.Warning("The data lane stopped accepting: {0}", e.Message);
                return;
            }
            socket.NoDelay = true;
            socket.SendTimeout = LaneFrames.SendTimeoutMilliseconds;
            var connection = new Connection(socket);
            connections[connection] = 0;
            new Thread(() => ReadLoop(connection)) { IsBackground = true, Name = "advantage-lane-read" }.Start();
        }
    }

    private void ReadLoop(Connection connection)
    {
        IActorRef? worker = null;
        try
        {
            var hello = LaneFrames.Read(connection.Stream, maxFrame);
            if (hello is not { Manifest: LaneFrames.Hello } h) return;
            worker = system.Provider.ResolveActorRef(Encoding.UTF8.GetString(h.Payload));
            if (worker.IsNobody()) return;
            if (byWorker.TryGetValue(worker, out var previous)) Close(previous);
            byWorker[worker] = connection;
            while (!disposed && LaneFrames.Read(connection.Stream, maxFrame) is { } frame)
            {
                object message;
                try
                {
                    message = serializer.FromBinary(frame.Payload, frame.Manifest);
                }
                catch (SerializationException e)
                {
                    Interlocked.Increment(ref malformed);
                    log.Warning("Dropped a malformed message on the data lane from {0}: {1}", worker.Path, e.Message);
                    continue;
                }
                if (message is RolloutCollected) learner.Tell(message, worker);
                else log.Warning("Dropped a {0} on the data lane from {1}: only rollouts travel this way.", message.GetType().Name, worker.Path);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ObjectDisposedException or SocketException)
        {
            if (!disposed) log.Info("The data lane of {0} closed: {1}", worker?.Path.ToString() ?? "a worker", e.Message);
        }
        finally
        {
            if (worker is not null) byWorker.TryRemove(new KeyValuePair<IActorRef, Connection>(worker, connection));
            Close(connection);
        }
    }

    private void Close(Connection connection)
    {
        connections.TryRemove(connection, out _);
        connection.Dispose();
    }

    /// <summary>One worker's socket; writes come from the learner's thread, reads from the connection's reader.</summary>
    internal sealed class Connection(Socket socket) : IDisposable
    {
        public NetworkStream Stream { get; } = new(socket, ownsSocket: true);

        public bool TryWrite(byte[] frame)
        {
            try
            {
                Stream.Write(frame);
                return true;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
            {
                return false;
            }
        }

        public void Dispose() => Stream.Dispose();
    }
}

/// <summary>Where a worker finds the learner's data lane.</summary>
/// <param name="Host">The learner node's host.</param>
/// <param name="Port">The lane's port.</param>
/// <param name="MaxFrame">Largest frame accepted, the run's frame size.</param>
internal sealed record LaneEndpoint(string Host, int Port, long MaxFrame);

/// <summary>
/// A worker actor's end of the data lane: sends its rollouts on its own thread and hands parameters that arrive
/// to the actor. Created in the actor's PreStart and disposed with the actor instance.
/// </summary>
/// <remarks>
/// The lane's thread connects, introduces the actor, then reads; until it has, <see cref="TrySend"/> says no and
/// the actor uses Akka, so PreStart never waits on the network. The socket is connected and used only with
/// blocking calls: on Linux a socket that has seen one asynchronous call stays non-blocking and .NET then
/// emulates every blocking read and write through its epoll thread and the thread pool, two more thread hops
/// per message.
/// </remarks>
internal sealed class WorkerLane : IDisposable
{
    private readonly Socket socket = new(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, SendTimeout = LaneFrames.SendTimeoutMilliseconds };
    private readonly AdvantageSerializer serializer;
    private NetworkStream? stream;
    private volatile bool ready;
    private volatile bool broken;

    private WorkerLane(AdvantageSerializer serializer) => this.serializer = serializer;

    /// <summary>Starts connecting the lane for <paramref name="self"/> in the background.</summary>
    public static WorkerLane Open(LaneEndpoint endpoint, ExtendedActorSystem system, IActorRef self, ILoggingAdapter log)
    {
        var lane = new WorkerLane(new AdvantageSerializer(system));
        new Thread(() => lane.Run(endpoint, self, log)) { IsBackground = true, Name = "advantage-lane-read" }.Start();
        return lane;
    }

    /// <summary>True while rollouts can go on the lane.</summary>
    public bool Ready => ready && !broken;

    /// <summary>True once the lane is closed or failed; every send then goes through Akka.</summary>
    public bool Broken => broken;

    /// <summary>Sends a message on the lane; false when the lane is not (or no longer) up, so the caller falls back to Tell.</summary>
    public bool TrySend(object message)
    {
        if (!Ready || stream is not { } s) return false;
        try
        {
            s.Write(LaneFrames.Encode(serializer.Manifest(message), serializer.ToBinary(message)));
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            broken = true;
            return false;
        }
    }

    public void Dispose()
    {
        broken = true;
        socket.Dispose();
    }

    private void Run(LaneEndpoint endpoint, IActorRef self, ILoggingAdapter log)
    {
        try
        {
            socket.Connect(endpoint.Host, endpoint.Port);
            var s = new NetworkStream(socket, ownsSocket: false);
            s.Write(LaneFrames.Encode(LaneFrames.Hello, Encoding.UTF8.GetBytes(Akka.Serialization.Serialization.SerializedActorPath(self))));
            stream = s;
            ready = true;
            while (LaneFrames.Read(s, endpoint.MaxFrame) is { } frame)
            {
                object message;
                try
                {
                    message = serializer.FromBinary(frame.Payload, frame.Manifest);
                }
                catch (SerializationException e)
                {
                    log.Warning("Dropped a malformed message on the data lane: {0}", e.Message);
                    continue;
                }
                if (message is Parameters) self.Tell(message, ActorRefs.NoSender);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ObjectDisposedException or SocketException)
        {
            if (!broken) log.Warning("The data lane to {0}:{1} is down ({2}); rounds go through Akka.Remote.", endpoint.Host, endpoint.Port, e.Message);
        }
        finally
        {
            broken = true;
        }
    }
}
