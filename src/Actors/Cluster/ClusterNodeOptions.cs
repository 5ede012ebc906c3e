using Advantage.Learning;

namespace Advantage.Actors.Cluster;

/// <summary>
/// TLS between nodes, mutually authenticated: every node presents its certificate (a PKCS#12 file with its
/// private key) and accepts a connection, in either direction, only from a peer whose certificate passes.
/// By default a peer must present the very certificate this node has (the cluster shares one file, so it is
/// pinned: no CA, no trust store, and a stranger's self-signed certificate is refused). With
/// <see cref="CertificateAuthorityPath"/> every node may have its own certificate, and a peer's must chain to
/// that CA. A cluster that leaves one machine carries parameters and experience, and accepts rollouts and
/// control messages, over networks the user may not trust: a node that cannot prove it belongs must not join.
/// </summary>
/// <param name="CertificatePath">Path of a .pfx/.p12 file holding this node's certificate and its private key.</param>
/// <param name="CertificatePassword">Its password; empty when it has none.</param>
public sealed record TlsOptions(string CertificatePath, string CertificatePassword)
{
    /// <summary>
    /// A CA certificate file (PEM, possibly several certificates, or DER) that peers' certificates must chain to;
    /// null pins peers to this node's own certificate instead. Use it when nodes have certificates of their own
    /// issued by a private CA. Only this file is trusted (not the machine's store), revocation is not checked,
    /// and host names are not compared (nodes connect by address and the CA, not DNS, says who belongs). Default null.
    /// </summary>
    public string? CertificateAuthorityPath { get; init; }

    /// <summary>
    /// Accept any certificate a peer presents: traffic is encrypted but anyone can join. For tests only, which
    /// is why it is a separate option with this name and not a default. Default false.
    /// </summary>
    public bool InsecureSkipValidation { get; init; }

    /// <summary>Returns a copy that validates peers against the CA certificate(s) in this file (null: pin to this node's certificate).</summary>
    public TlsOptions WithCertificateAuthorityPath(string? value) => this with { CertificateAuthorityPath = value };

    /// <summary>Returns a copy with <see cref="InsecureSkipValidation"/> changed; true only in tests.</summary>
    public TlsOptions WithInsecureSkipValidation(bool value) => this with { InsecureSkipValidation = value };

    /// <summary>
    /// Every problem with these options, one per bad field, found by reading the files: a node must fail at its
    /// start with the reason, not later with a refused handshake and no word why. Empty when valid.
    /// </summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(CertificatePath)) problems.Add($"{nameof(CertificatePath)} must be set.");
        else if (ClusterTls.CertificateProblem(this) is { } problem) problems.Add($"{nameof(CertificatePath)} = '{CertificatePath}' {problem}.");
        if (CertificateAuthorityPath is not null)
        {
            if (InsecureSkipValidation)
                problems.Add($"{nameof(CertificateAuthorityPath)} is set but {nameof(InsecureSkipValidation)} = true would ignore it; choose one.");
            else if (ClusterTls.AuthorityProblem(CertificateAuthorityPath) is { } problem)
                problems.Add($"{nameof(CertificateAuthorityPath)} = '{CertificateAuthorityPath}' {problem}.");
        }
        return problems;
    }
}

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

    /// <summary>The default of <see cref="MaxInboundConnections"/>.</summary>
    public static int DefaultMaxInboundConnections => 256;

    /// <summary>
    /// The most inbound TCP connections this node keeps open at once; one more is closed as soon as it is accepted
    /// (counted, and a warning at most every 10 s). Connections this node opens itself do not count. Why: a connection
    /// costs a file descriptor from the moment it is accepted until it completes Akka's handshake or times out (5 s), so
    /// without a bound anyone who reaches the port could fill the process's descriptor table (1,000 idle connections
    /// filled a learner's 1,024) and starve it of the descriptors its runtime needs. A learner needs about one per worker
    /// node (a few more while nodes reconnect); a worker node needs almost none. Keep it well below the process's
    /// descriptor limit and well above the worker nodes you expect. In [1, 1,000,000]; default 256.
    /// </summary>
    public int MaxInboundConnections { get; init; } = DefaultMaxInboundConnections;

    /// <summary>The address protocol Akka.Remote uses for these options: TLS nodes speak "akka.ssl.tcp".</summary>
    public string Protocol => Tls is null ? "akka.tcp" : "akka.ssl.tcp";

    /// <summary>Returns a copy with <see cref="Host"/> changed.</summary>
    public ClusterNodeOptions WithHost(string value) => this with { Host = value };

    /// <summary>Returns a copy with <see cref="Port"/> changed.</summary>
    public ClusterNodeOptions WithPort(int value) => this with { Port = value };

    /// <summary>Returns a copy with <see cref="SystemName"/> changed.</summary>
    public ClusterNodeOptions WithSystemName(string value) => this with { SystemName = value };

    /// <summary>Returns a copy with TLS on, using the given certificate and peer validation.</summary>
    public ClusterNodeOptions WithTls(TlsOptions value) => this with { Tls = value };

    /// <summary>Returns a copy with <see cref="FailureDetectionPause"/> changed.</summary>
    public ClusterNodeOptions WithFailureDetectionPause(TimeSpan value) => this with { FailureDetectionPause = value };

    /// <summary>Returns a copy with <see cref="MaxInboundConnections"/> changed.</summary>
    public ClusterNodeOptions WithMaxInboundConnections(int value) => this with { MaxInboundConnections = value };

    /// <summary>
    /// Akka HOCON laid over this node's configuration (for instance DotNetty's socket worker pools or the remoting
    /// dispatcher), so the engine's own settings can be tuned and measured (<c>bench cluster --engine</c>) without
    /// forking the library. Empty (the default) changes nothing; invalid HOCON is reported by <see cref="Problems"/>.
    /// </summary>
    public string EngineSettings { get; init; } = "";

    /// <summary>Returns a copy with <see cref="EngineSettings"/> changed.</summary>
    public ClusterNodeOptions WithEngineSettings(string value) => this with { EngineSettings = value };

    /// <summary>Every problem with these options, one per bad field. Empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Host)) problems.Add($"{nameof(Host)} must be set.");
        problems.AddIf(new OptionRange(0, 65535).Problem(nameof(Port), Port));
        if (string.IsNullOrWhiteSpace(SystemName) || !SystemName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            problems.Add($"{nameof(SystemName)} = '{SystemName}' must be non-empty ASCII letters, digits, '-' or '_'.");
        if (Tls is not null) problems.AddRange(Tls.Problems().Select(p => $"{nameof(Tls)}.{p}"));
        if (FailureDetectionPause < TimeSpan.FromMilliseconds(500)) problems.Add($"{nameof(FailureDetectionPause)} = {FailureDetectionPause} must be at least 0.5 s.");
        if (MaxInboundConnections is < 1 or > 1_000_000) problems.Add($"{nameof(MaxInboundConnections)} = {MaxInboundConnections} is outside [1, 1000000].");
        if (EngineSettings is null) problems.Add($"{nameof(EngineSettings)} must be a string (empty for none).");
        else if (EngineSettings.Length > 0)
        {
            try
            {
                Akka.Configuration.ConfigurationFactory.ParseString(EngineSettings);
            }
            catch (Exception e) when (e is Akka.Configuration.ConfigurationException or FormatException or ArgumentException)
            {
                problems.Add($"{nameof(EngineSettings)} is not valid HOCON: {e.Message}");
            }
        }
        return problems;
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem, if there is any.</summary>
    public ClusterNodeOptions Validate()
    {
        OptionsValidationException.ThrowIfAny(nameof(ClusterNodeOptions), Problems());
        return this;
    }
}
