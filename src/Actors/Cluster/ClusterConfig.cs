using System.Globalization;
using System.Net.Sockets;
using Advantage.Learning;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;

namespace Advantage.Actors.Cluster;

/// <summary>
/// Builds the HOCON of a training cluster's node: cluster provider, bind address, frame size sized to the
/// run's messages, failure detection, optional TLS, and Advantage's serializer. Pure, so tests pin it.
/// </summary>
internal static class ClusterConfig
{
    /// <summary>Role of the node that runs the learner (and is the seed).</summary>
    public const string LearnerRole = "learner";

    /// <summary>Role of nodes that run workers.</summary>
    public const string WorkerRole = "worker";

    /// <summary>The smallest frame a node uses: room for every small message and a modest network.</summary>
    public const long MinimumFrameSize = 1 << 20;

    /// <summary>
    /// Frame size for a run: the larger of a parameter broadcast and a rollout, plus headroom, at least
    /// <see cref="MinimumFrameSize"/>. Akka.Remote's default (128,000 bytes) would silently drop the
    /// parameters of any network above ~32,000 parameters; the Nature conv body has ~1.7 million.
    /// </summary>
    /// <param name="parameterCount">Floats in the parameter vector.</param>
    /// <param name="rolloutBytes">Bytes of the largest rollout a worker sends (see <see cref="RolloutBytes"/>).</param>
    public static long FrameSizeFor(long parameterCount, long rolloutBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(parameterCount);
        ArgumentOutOfRangeException.ThrowIfNegative(rolloutBytes);
        // Parameters may carry normaliser statistics (2 doubles per observation float); 64 KiB covers them and headers.
        long largest = Math.Max(4 * parameterCount, rolloutBytes) + (64 << 10);
        long frame = Math.Max(MinimumFrameSize, largest + largest / 4);
        return Math.Min(frame, int.MaxValue);
    }

    /// <summary>Upper bound on the serialized size of a rollout of T steps, K environments, observations and actions of these sizes.</summary>
    public static long RolloutBytes(int steps, int environments, int observationSize, int actionWidth)
    {
        long tk = (long)steps * environments;
        // Observations (T+1)K, actions, rewards, flags; a final observation per step at worst, episode stats at worst.
        return 4L * (steps + 1) * environments * observationSize + 4 * tk * actionWidth + 4 * tk + 2 * tk
            + tk * (4 + 4L * observationSize) + tk * 12 + 256;
    }

    /// <summary>The configuration of one node.</summary>
    /// <param name="node">Address, TLS and failure detection.</param>
    /// <param name="role"><see cref="LearnerRole"/> or <see cref="WorkerRole"/>.</param>
    /// <param name="seed">The learner's "host:port": the seed every node joins.</param>
    /// <param name="frameSize">Maximum frame in bytes (<see cref="FrameSizeFor"/>).</param>
    public static Config For(ClusterNodeOptions node, string role, string seed, long frameSize)
    {
        ArgumentNullException.ThrowIfNull(node);
        node.Validate();
        ArgumentException.ThrowIfNullOrWhiteSpace(role);
        ArgumentException.ThrowIfNullOrWhiteSpace(seed);
        ArgumentOutOfRangeException.ThrowIfLessThan(frameSize, 32_000);
        string frame = frameSize.ToString(CultureInfo.InvariantCulture) + "b";
        string pause = ((long)node.FailureDetectionPause.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
        // The certificate and the peer check come from ClusterConfig.CreateSystem (a DotNettySslSetup): HOCON alone
        // cannot pin a certificate. Without that setup, this config names no certificate and the node fails to start.
        string tls = node.Tls is not null
            ? """
                enable-ssl = true
                ssl {
                  suppress-validation = off
                  require-mutual-authentication = on
                  validate-certificate-hostname = off
                }
              """
            : "enable-ssl = false";
        string hocon = $$"""
            akka {
              loglevel = WARNING
              stdout-loglevel = WARNING
              # One line per network condition, no stack traces for a peer that left or a refused handshake (NodeLogger).
              loggers = ["Advantage.Actors.Cluster.NodeLogger, Advantage.Actors"]
              log-dead-letters = 0
              log-dead-letters-during-shutdown = off
              actor.provider = cluster
              remote {
                log-remote-lifecycle-events = off
                # No space after the comma: Akka reads this map through HoconValue.ToString, which quotes a value holding a space
                # and then fails to load the type (the node hangs at start).
                adapters.{{InboundConnectionCapProvider.Name}} = "{{typeof(InboundConnectionCapProvider).FullName}},Advantage.Actors"
                dot-netty.tcp {
                  # Inbound connections beyond advantage.inbound-connections.max are closed as soon as they are accepted, so
                  # idle connections cannot fill the node's descriptor table (InboundConnectionCap.cs). Addresses keep their scheme.
                  applied-adapters = ["{{InboundConnectionCapProvider.Name}}"]
                  hostname = {{Quote(node.Host)}}
                  port = {{node.Port}}
                  maximum-frame-size = {{frame}}
                  # Also Akka's handshake timeout on this transport: a connection that has not completed Akka's
                  # handshake by then is closed. 15 s (the default) lets idle connections hold the slots of the inbound cap
                  # (advantage.inbound-connections.max) three times longer, keeping honest peers out for as long.
                  connection-timeout = 5 s
                  send-buffer-size = {{frame}}
                  receive-buffer-size = {{frame}}
                  # Rounds are request/response (rollout in, parameters out): batching writes would hold each
                  # message back waiting for company that never comes in a synchronous round.
                  batching.enabled = false
                  # Akka's default ("off-for-windows") sets SO_REUSEADDR, which .NET on Linux turns into SO_REUSEPORT
                  # too: a second learner on the same port then binds and listens beside the first. Off, a taken port
                  # fails the start; .NET still sets SO_REUSEADDR alone at bind on Unix, so a restart is not held
                  # back by connections in TIME_WAIT.
                  tcp-reuse-addr = off
                  {{tls}}
                }
              }
              cluster {
                seed-nodes = [{{Quote($"{node.Protocol}://{node.SystemName}@{seed}")}}]
                roles = [{{Quote(role)}}]
                # The learner decides who is gone (it downs unreachable workers itself); workers never down
                # the learner, they wait for it or restart and rejoin. No split-brain resolver is needed for a star.
                downing-provider-class = ""
                failure-detector {
                  heartbeat-interval = 1s
                  acceptable-heartbeat-pause = {{pause}}
                }
                # Seeds may be down for a while (the learner restarting): keep trying, never give up.
                shutdown-after-unsuccessful-join-seed-nodes = off
                retry-unsuccessful-join-after = 1s
                log-info = off
              }
              coordinated-shutdown.exit-clr = off
            }
            advantage.inbound-connections {
              max = {{node.MaxInboundConnections.ToString(CultureInfo.InvariantCulture)}}
              warn-interval = 10s
            }
            # A worker node reports TLS refusals itself (once, then every 10 s) and gives up after a bound.
            advantage.node-logger.quiet-tls = {{(role == WorkerRole ? "on" : "off")}}
            # Compute actors here wait a network round for their next message; blocking beats spinning.
            advantage.compute-dispatcher.type = "Advantage.Actors.BlockingComputeDispatcherConfigurator, Advantage.Actors"
            """;
        var config = ConfigurationFactory.ParseString(hocon).WithFallback(AdvantageConfig.Default);
        return node.EngineSettings.Length > 0 ? ConfigurationFactory.ParseString(node.EngineSettings).WithFallback(config) : config;
    }

    /// <summary>
    /// Starts a node's actor system from its options and <see cref="For"/>'s config. Use this rather than
    /// <c>ActorSystem.Create</c>: it adds what HOCON cannot carry (the TLS certificate and the callback that
    /// accepts only the cluster's peers, see <see cref="TlsOptions"/>), and it turns a taken port into a
    /// <see cref="PortInUseException"/> whose message a command line can print as it is.
    /// </summary>
    /// <param name="node">The same options the config was made from.</param>
    /// <param name="config">The node's config (<see cref="For"/>).</param>
    /// <exception cref="PortInUseException">Another socket listens on <see cref="ClusterNodeOptions.Port"/>.</exception>
    /// <exception cref="OptionsValidationException">The options are invalid (a TLS file is missing, say).</exception>
    public static ActorSystem CreateSystem(ClusterNodeOptions node, Config config)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(config);
        node.Validate();
        var bootstrap = BootstrapSetup.Create().WithConfig(config);
        ActorSystemSetup setup = node.Tls is { } tls ? bootstrap.And(ClusterTls.Setup(tls)) : ActorSystemSetup.Create(bootstrap);
        try
        {
            return ActorSystem.Create(node.SystemName, setup);
        }
        catch (Exception e) when (node.Port != 0 && AddressInUse(e) is { } cause)
        {
            throw new PortInUseException(node.Host, node.Port, cause);
        }
    }

    private static SocketException? AddressInUse(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } socket) return socket;
            if (e is AggregateException aggregate)
                foreach (var inner in aggregate.InnerExceptions)
                    if (AddressInUse(inner) is { } found) return found;
        }
        return null;
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>Frame size for a run's options and network spec, both directions.</summary>
    internal static long FrameSizeForRun(Learning.Networks.NetworkSpec spec, int rolloutLength, int environmentsPerWorker)
    {
        long parameters = ParameterCount(spec);
        return FrameSizeFor(parameters, RolloutBytes(rolloutLength, environmentsPerWorker, spec.ObservationSize, spec.ActionWidth));
    }

    /// <summary>Parameters of a network of this spec (built once and dropped, so any body the spec describes counts right).</summary>
    internal static long ParameterCount(Learning.Networks.NetworkSpec spec)
    {
        using var network = new Learning.Networks.ActorCriticNetwork(spec);
        return network.Flat.NumberOfElements;
    }
}
