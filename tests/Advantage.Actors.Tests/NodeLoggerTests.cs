using Advantage.Actors.Cluster;
using Akka.Event;

namespace Advantage.Actors.Tests;

/// <summary>What a cluster node prints for Akka's network conditions: one line each, at the level it deserves, TLS rate-limited.</summary>
public sealed class NodeLoggerTests
{
    private static T Thrown<T>(Func<T> make) where T : Exception
    {
        try
        {
            throw make();
        }
        catch (T e)
        {
            return e; // with a stack trace, as Akka's are
        }
    }

    /// <summary>Akka.Remote's own (internal) exception for a peer that went away.</summary>
    private static Exception Endpoint() => (Exception)Activator.CreateInstance(
        typeof(Akka.Remote.RemoteTransport).Assembly.GetType("Akka.Remote.EndpointDisassociatedException", throwOnError: true)!,
        System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic, null, ["Disassociated"], null)!;

    private static Warning Disassociated() => new(Thrown(Endpoint),
        "akka.tcp://advantage@127.0.0.1:4053/system/endpointManager/reliableEndpointWriter-1", typeof(Akka.Remote.RemoteTransport),
        "Association with remote system akka.tcp://advantage@127.0.0.1:40000 has failed; address is now gated for 5000 ms. Reason: [Akka.Remote.EndpointDisassociatedException: Disassociated\n   at Akka.Remote.EndpointWriter.PublishAndThrow(Exception reason, LogLevel level, Boolean needToThrow)\n]");

    private static Error TlsFailure() => new(
        new AggregateException(Thrown(() => new System.Security.Authentication.AuthenticationException("The remote certificate was rejected by the provided RemoteCertificateValidationCallback."))),
        "TcpClientHandler (akka://advantage)", typeof(NodeLoggerTests), "TLS handshake failed on channel [x]\nTLS handshake failed (Client side):\n  Error: One or more errors occurred.");

    [Fact]
    public void A_disassociation_is_info_one_line_and_hidden_at_the_nodes_warning_level()
    {
        Assert.Null(new NodeLogFilter(quietTls: false, LogLevel.WarningLevel).Line(Disassociated(), TimeSpan.Zero));
        string line = new NodeLogFilter(quietTls: false, LogLevel.InfoLevel).Line(Disassociated(), TimeSpan.Zero)!;
        Assert.StartsWith("[INFO][", line);
        Assert.Contains("Association with remote system akka.tcp://advantage@127.0.0.1:40000 has failed", line);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("   at ", line);
    }

    [Fact]
    public void TLS_failures_are_one_line_then_at_most_one_per_10_s_with_a_count_and_none_on_a_worker_node()
    {
        var filter = new NodeLogFilter(quietTls: false, LogLevel.WarningLevel);
        string first = filter.Line(TlsFailure(), TimeSpan.FromSeconds(1))!;
        Assert.Equal("TLS handshake failed on channel [x] (AuthenticationException: The remote certificate was rejected by the provided RemoteCertificateValidationCallback.)",
            first[(first.IndexOf("] TLS", StringComparison.Ordinal) + 2)..]);
        Assert.StartsWith("[ERROR][", first);
        // About 24 a second while a node retries: 239 left out over the next 10 s, then one line that counts them.
        for (int i = 1; i < 240; i++) Assert.Null(filter.Line(TlsFailure(), TimeSpan.FromSeconds(1 + i / 24.0)));
        string next = filter.Line(TlsFailure(), TimeSpan.FromSeconds(11))!;
        Assert.EndsWith("(239 more TLS failures in the last 10 s not shown)", next);
        Assert.Null(new NodeLogFilter(quietTls: true, LogLevel.WarningLevel).Line(TlsFailure(), TimeSpan.Zero));
    }

    [Fact]
    public void Other_network_conditions_are_one_line_and_everything_else_keeps_its_trace()
    {
        var filter = new NodeLogFilter(quietTls: false, LogLevel.WarningLevel);
        var refused = new Warning(Thrown(() => new System.Net.Sockets.SocketException(111)), "remoting (akka://advantage)", typeof(Akka.Remote.RemoteTransport),
            "Tried to associate with unreachable remote address [akka.tcp://advantage@127.0.0.1:4053].\n   at somewhere");
        string line = filter.Line(refused, TimeSpan.Zero)!;
        Assert.DoesNotContain('\n', line);
        Assert.Contains("Tried to associate with unreachable remote address [akka.tcp://advantage@127.0.0.1:4053]. (SocketException: ", line);

        // A bug in an actor is worth its stack trace.
        var bug = new Error(Thrown(() => new InvalidOperationException("boom")), "akka://advantage/user/x", typeof(NodeLoggerTests), "Actor failed");
        string full = filter.Line(bug, TimeSpan.Zero)!;
        Assert.Contains("Cause: System.InvalidOperationException: boom", full);
        Assert.Contains("   at ", full);
    }
}
