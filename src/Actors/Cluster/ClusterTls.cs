using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace Advantage.Actors.Cluster;

/// <summary>
/// Loads a node's TLS material and decides which peers it accepts. Akka.Remote's HOCON can only trust the
/// machine's store or nothing (<c>suppress-validation</c> accepts any certificate, which is how an earlier
/// Advantage accepted strangers): pinning a self-signed cluster certificate, or trusting one private CA,
/// takes a validation callback, and Akka takes that only through <see cref="DotNettySslSetup"/>.
/// </summary>
internal static class ClusterTls
{
    private const string PemCertificate = "-----BEGIN CERTIFICATE-----";

    /// <summary>The Akka setup for these options: mutual authentication, no host-name check, our callback.</summary>
    public static DotNettySslSetup Setup(TlsOptions tls)
    {
        var own = LoadCertificate(tls);
        return new DotNettySslSetup(own, suppressValidation: false, requireMutualAuthentication: true, validateCertificateHostname: false, Validator(tls, own));
    }

    /// <summary>The callback deciding whether a peer's certificate (either side of a connection) is accepted.</summary>
    public static CertificateValidationCallback Validator(TlsOptions tls, X509Certificate2 own)
    {
        if (tls.InsecureSkipValidation) return (_, _, _, _, _) => true;
        if (tls.CertificateAuthorityPath is { } authorityPath)
        {
            var authorities = LoadAuthorities(authorityPath);
            return (certificate, presented, peer, _, log) => Accept(certificate, peer, log, ChainsTo(certificate, presented, authorities), $"does not chain to a CA in {authorityPath}");
        }
        byte[] pinned = own.RawData;
        return (certificate, _, peer, _, log) => Accept(certificate, peer, log, certificate is not null && certificate.RawData.AsSpan().SequenceEqual(pinned), "is not the cluster's certificate");
    }

    private static bool Accept(X509Certificate2? certificate, string peer, ILoggingAdapter log, bool trusted, string why)
    {
        if (certificate is null)
        {
            log.Warning("TLS: refused {0}: it presented no certificate.", peer);
            return false;
        }
        var now = DateTime.Now;
        if (trusted && (now < certificate.NotBefore || now > certificate.NotAfter))
        {
            trusted = false;
            why = $"is valid only from {certificate.NotBefore:u} to {certificate.NotAfter:u}";
        }
        if (!trusted) log.Warning("TLS: refused {0}: its certificate {1} (SHA-256 {2}) {3}.", peer, certificate.Subject, certificate.GetCertHashString(HashAlgorithmName.SHA256), why);
        return trusted;
    }

    private static bool ChainsTo(X509Certificate2? certificate, X509Chain? presented, X509Certificate2Collection authorities)
    {
        if (certificate is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        foreach (var authority in authorities)
        {
            if (authority.SubjectName.RawData.AsSpan().SequenceEqual(authority.IssuerName.RawData)) chain.ChainPolicy.CustomTrustStore.Add(authority);
            else chain.ChainPolicy.ExtraStore.Add(authority);
        }
        // Intermediates the peer sent help build the path; they are not trusted by being sent.
        if (presented is not null)
            foreach (var element in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        return chain.Build(certificate);
    }

    /// <summary>This node's certificate with its private key.</summary>
    public static X509Certificate2 LoadCertificate(TlsOptions tls) =>
        X509CertificateLoader.LoadPkcs12FromFile(tls.CertificatePath, tls.CertificatePassword);

    /// <summary>Every certificate in a PEM file (or the one in a DER file).</summary>
    public static X509Certificate2Collection LoadAuthorities(string path)
    {
        var authorities = new X509Certificate2Collection();
        byte[] bytes = File.ReadAllBytes(path);
        if (System.Text.Encoding.ASCII.GetString(bytes).Contains(PemCertificate, StringComparison.Ordinal)) authorities.ImportFromPemFile(path);
        else authorities.Add(X509CertificateLoader.LoadCertificate(bytes));
        return authorities;
    }

    /// <summary>Why this node's certificate file cannot serve, or null when it can.</summary>
    public static string? CertificateProblem(TlsOptions tls)
    {
        if (!File.Exists(tls.CertificatePath)) return "does not exist";
        try
        {
            using var certificate = LoadCertificate(tls);
            if (!certificate.HasPrivateKey) return "holds no private key (a node must prove it owns the certificate it presents)";
            var now = DateTime.Now;
            if (now < certificate.NotBefore || now > certificate.NotAfter) return $"is valid only from {certificate.NotBefore:u} to {certificate.NotAfter:u}";
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot be read: {e.Message}";
        }
        catch (CryptographicException e)
        {
            return $"is not a PKCS#12 (.pfx/.p12) file this password opens: {e.Message}";
        }
    }

    /// <summary>Why this CA file cannot serve, or null when it can.</summary>
    public static string? AuthorityProblem(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) return "must name a file";
        if (!File.Exists(path)) return "does not exist";
        try
        {
            var authorities = LoadAuthorities(path);
            try
            {
                return authorities.Count == 0 ? "holds no certificate" : null;
            }
            finally
            {
                foreach (var authority in authorities) authority.Dispose();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot be read: {e.Message}";
        }
        catch (CryptographicException e)
        {
            return $"is not a PEM or DER certificate file: {e.Message}";
        }
    }
}
