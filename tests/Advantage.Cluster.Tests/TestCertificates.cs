using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Advantage.Actors.Cluster;

namespace Advantage.Cluster.Tests;

/// <summary>Certificates made for one test in a temporary folder (deleted on dispose): self-signed nodes, a CA and nodes it issued.</summary>
internal sealed class TestCertificates : IDisposable
{
    public const string Password = "s3cret";

    public string Folder { get; } = Directory.CreateTempSubdirectory("advantage-tls-").FullName;

    /// <summary>A self-signed node certificate with its key, as TLS options.</summary>
    public TlsOptions SelfSigned(string name)
    {
        using var key = RSA.Create(2048);
        using var certificate = NodeRequest(name, key).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return new TlsOptions(Write(name + ".pfx", certificate.Export(X509ContentType.Pfx, Password)), Password);
    }

    /// <summary>A CA certificate (with key, to issue nodes) and its public part as a PEM file.</summary>
    public (X509Certificate2 Authority, string PemPath) Authority(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        string pem = Path.Combine(Folder, name + ".pem");
        File.WriteAllText(pem, authority.ExportCertificatePem());
        return (authority, pem);
    }

    /// <summary>A node certificate issued by <paramref name="authority"/>, with its key, as TLS options.</summary>
    public TlsOptions IssuedBy(X509Certificate2 authority, string name)
    {
        using var key = RSA.Create(2048);
        byte[] serial = RandomNumberGenerator.GetBytes(12);
        using var issued = NodeRequest(name, key).Create(authority, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        return new TlsOptions(Write(name + ".pfx", withKey.Export(X509ContentType.Pfx, Password)), Password);
    }

    /// <summary>A PKCS#12 file holding only a certificate, no private key.</summary>
    public string WithoutPrivateKey(string name)
    {
        using var key = RSA.Create(2048);
        using var certificate = NodeRequest(name, key).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var publicOnly = X509CertificateLoader.LoadCertificate(certificate.RawData);
        return Write(name + ".pfx", publicOnly.Export(X509ContentType.Pfx, Password));
    }

    public string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(Folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static CertificateRequest NodeRequest(string name, RSA key)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        // Server and client authentication: with mutual TLS every node is both.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        return request;
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
