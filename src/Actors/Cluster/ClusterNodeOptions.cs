using Advantage.Learning;

namespace Advantage.Actors.Cluster;

/// <summary>
/// TLS between nodes: every node presents the same certificate (a PKCS#12 file with its private key)
/// and checks its peers against it. One option away from plain TCP, because a cluster that leaves one
/// machine carries parameters and experience over networks the user may not trust.
/// </summary>
/// <param name="CertificatePath">Path of a .pfx/.p12 file holding the certificate and its private key.</param>
/// <param name="CertificatePassword">Its password; empty when it has none.</param>
/// <param name="SuppressValidation">
/// Skip chain validation, for self-signed certificates that are not in the machine's trust store (tests,
/// a private cluster whose nodes share the file). Default true, since sharing one self-signed file is the common case.
/// </param>
public sealed record TlsOptions(string CertificatePath, string CertificatePassword, bool SuppressValidation = true);

/// <summary>
/// Where and how one node of a training cluster listens. Immutable; F# callers change it with the
/// <c>WithX</c> methods.
/// </summary>
public sealed record ClusterNodeOptions
{
    /// <summary>Address to bind and advertise. Default 127.0.0.1: nothing is exposed beyond this machine unless asked.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to bind; 0 picks a free one (fine for workers, not for the learner, whose address workers must know). Default 0.</summary>
    public int Port { get; init; }

    /// <summary>Actor system name; every node of one cluster must use the same. Default "advantage".</summary>
    public string SystemName { get; init; } = "advantage";

    /// <summary>TLS between nodes; null for plain TCP. Default null.</summary>
    public TlsOptions? Tls { get; init; }

    /// <summary>
    /// Heartbeats a node may miss (as a pause) before it is marked unreachable; the learner then removes it
    /// and finishes its rounds without it. Shorter notices deaths sooner but risks false alarms on a busy
    /// machine (a falsely removed worker node restarts and rejoins): a worker node that is loading TorchSharp on a
    /// busy two-core machine can miss heartbeats for a few seconds. Default 5 s.
    /// </summary>
    public TimeSpan FailureDetectionPause { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The address protocol Akka.Remote uses for these options: TLS nodes speak "akka.ssl.tcp".</summary>
    public string Protocol => Tls is null ? "akka.tcp" : "akka.ssl.tcp";

    /// <summary>Returns a copy with <see cref="Host"/> changed.</summary>
    public ClusterNodeOptions WithHost(string value) => this with { Host = value };

    /// <summary>Returns a copy with <see cref="Port"/> changed.</summary>
    public ClusterNodeOptions WithPort(int value) => this with { Port = value };

    /// <summary>Returns a copy with <see cref="SystemName"/> changed.</summary>
    public ClusterNodeOptions WithSystemName(string value) => this with { SystemName = value };

    /// <summary>Returns a copy with TLS on, using the given certificate.</summary>
    public ClusterNodeOptions WithTls(TlsOptions value) => this with { Tls = value };

    /// <summary>Returns a copy with <see cref="FailureDetectionPause"/> changed.</summary>
    public ClusterNodeOptions WithFailureDetectionPause(TimeSpan value) => this with { FailureDetectionPause = value };

    /// <summary>Every problem with these options, one per bad field. Empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Host)) problems.Add($"{nameof(Host)} must be set.");
        if (Port < 0 || Port > 65535) problems.Add($"{nameof(Port)} = {Port} is outside [0, 65535].");
        if (string.IsNullOrWhiteSpace(SystemName) || !SystemName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            problems.Add($"{nameof(SystemName)} = '{SystemName}' must be non-empty ASCII letters, digits, '-' or '_'.");
        if (Tls is { } tls && string.IsNullOrWhiteSpace(tls.CertificatePath)) problems.Add($"{nameof(Tls)}.{nameof(TlsOptions.CertificatePath)} must be set.");
        if (FailureDetectionPause < TimeSpan.FromMilliseconds(500)) problems.Add($"{nameof(FailureDetectionPause)} = {FailureDetectionPause} must be at least 0.5 s.");
        return problems;
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem, if there is any.</summary>
    public ClusterNodeOptions Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new OptionsValidationException(nameof(ClusterNodeOptions), problems);
        return this;
    }
}
