namespace Advantage.Actors.Cluster;

/// <summary>
/// A node could not listen because another socket (usually another learner) already listens on its address.
/// Thrown by <see cref="ClusterConfig.CreateSystem"/> at the node's start, so a second learner on the same
/// port fails at once with a message a command line can print, instead of starting and silently sharing the
/// port with the first (which is what SO_REUSEPORT allowed before).
/// </summary>
public sealed class PortInUseException : Exception
{
    /// <summary>Creates the exception for the address that is taken; <paramref name="inner"/> is the bind failure.</summary>
    public PortInUseException(string host, int port, Exception? inner = null)
        : base($"port {port} on {host} is already in use", inner)
    {
        Host = host;
        Port = port;
    }

    /// <summary>The address the node tried to bind.</summary>
    public string Host { get; }

    /// <summary>The port that is taken.</summary>
    public int Port { get; }
}
