using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DeviceShell.Engine.Gateway;

/// <summary>
/// Certificate checks of a channel that trusts one CA: the chain must end at that CA (the system store is
/// ignored) and the certificate must name the host that was dialled.
/// </summary>
internal static class TlsTrust
{
    /// <summary>
    /// Client TLS options that trust only <paramref name="trustedRoot"/>. The handshake builds the one chain with that
    /// root as its policy (a second chain built in the callback cost the first connect of a process about a tenth of
    /// its time, docs/benchmarks.md "Gateway cold start"); the callback only turns its errors into a reason.
    /// </summary>
    public static SslClientAuthenticationOptions ClientOptions(string host, X509Certificate2 trustedRoot)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(trustedRoot);
        return new SslClientAuthenticationOptions
        {
            CertificateChainPolicy = policy,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Validate(host, certificate, chain, errors, trustedRoot),
        };
    }

    /// <summary>
    /// Loads what the first chain of a process needs (on Linux every X509Chain reads the system's certificate
    /// bundle once, even with a custom root, for its intermediates) by building the root's own chain. Run beside the
    /// dial, it takes that load off the handshake's path; a failure here only leaves the load to the handshake.
    /// </summary>
    internal static void Prepare(byte[] trustedRoot)
    {
        try
        {
            using var root = new X509Certificate2(trustedRoot);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.CustomTrustStore.Add(root);
            chain.Build(root);
        }
        catch (CryptographicException)
        {
            // The handshake builds its chain all the same and reports what is wrong with it.
        }
    }

    /// <summary>
    /// True when the handshake found the certificate acceptable under <see cref="ClientOptions"/>' policy; otherwise
    /// throws <see cref="AuthenticationException"/> with the reason, which the handshake passes on, so the user learns
    /// why rather than just "the remote certificate is invalid".
    /// </summary>
    private static bool Validate(string host, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, X509Certificate2 trustedRoot)
    {
        string? reason = Reason(host, certificate, chain, errors, trustedRoot);
        return reason is null ? true : throw new AuthenticationException(reason);
    }

    private static string? Reason(string host, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, X509Certificate2 trustedRoot)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) return "the gateway sent no certificate.";
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            return $"the gateway's certificate does not name '{host}' (its subject alternative names must include the host or IP address you dial).";
        if (errors == SslPolicyErrors.None) return null;
        string status = chain is null ? "" : string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0));
        return $"the gateway's certificate '{certificate.Subject}' is not issued by the CA certificate '{trustedRoot.Subject}' ({status}).";
    }
}
