using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DeviceShell.Lab.Gateway;

/// <summary>
/// The simulated gateway's PKI, made in-process at start like <c>device-gateway -c</c> would: a root CA
/// and a server certificate it signs, whose subject alternative names carry the names clients dial
/// (gRPC clients check them; the CN alone is not enough). The CA is written as PEM to a temp file
/// (<see cref="CaFile"/>), the file the Lab announces as <c>caCertificate</c>.
/// </summary>
public sealed class GatewayCertificates : IDisposable
{
    private GatewayCertificates(X509Certificate2 ca, X509Certificate2 server, string caFile)
    {
        Ca = ca;
        Server = server;
        CaFile = caFile;
    }

    public X509Certificate2 Ca { get; }

    public X509Certificate2 Server { get; }

    public string CaFile { get; }

    /// <summary>Default names: <c>IP:127.0.0.1, DNS:localhost</c>.</summary>
    public static GatewayCertificates Create() => Create(["localhost"], [IPAddress.Loopback]);

    public static GatewayCertificates Create(IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses)
    {
        var notBefore = DateTimeOffset.UtcNow.AddDays(-1);
        var notAfter = DateTimeOffset.UtcNow.AddYears(1);

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=DeviceShell Lab Gateway CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var caWithKey = caRequest.CreateSelfSigned(notBefore, notAfter);
        var ca = new X509Certificate2(caWithKey.Export(X509ContentType.Cert));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (string name in dnsNames) names.AddDnsName(name);
        foreach (var address in addresses) names.AddIpAddress(address);
        var serverRequest = new CertificateRequest("CN=DeviceShell Lab Gateway", serverKey, HashAlgorithmName.SHA256);
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(caWithKey, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var signed = serverRequest.Create(caWithKey, notBefore, notAfter, serial);
        using var withKey = signed.CopyWithPrivateKey(serverKey);
        // A PKCS#12 round trip gives a certificate whose key SslStream can use on every platform.
        var server = new X509Certificate2(withKey.Export(X509ContentType.Pkcs12), (string?)null, X509KeyStorageFlags.Exportable);

        string folder = Directory.CreateTempSubdirectory("deviceshell-gateway-").FullName;
        string caFile = Path.Combine(folder, "ca.crt");
        File.WriteAllText(caFile, ca.ExportCertificatePem() + "\n");
        return new GatewayCertificates(ca, server, caFile);
    }

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
        try
        {
            Directory.Delete(Path.GetDirectoryName(CaFile)!, recursive: true);
        }
        catch (IOException)
        {
            // A client may still hold the file open on some platforms; the temp folder is cleaned later.
        }
    }
}
