using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace DeviceShell.Engine.Gateway;

/// <summary>
/// Certificate checks of a channel that trusts one CA: the chain must end at that CA (the system store is
/// ignored) and the certificate must name the host that was dialled.
/// </summary>
public static class TlsTrust
{
    /// <summary>
    /// True when the certificate is acceptable; otherwise throws <see cref="AuthenticationException"/> with the reason,
    /// which the handshake passes on, so the user learns why rather than just "the remote certificate is invalid".
    /// </summary>
    public static bool Validate(string host, X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 trustedRoot)
    {
        string? reason = Reason(host, certificate, errors, trustedRoot);
        return reason is null ? true : throw new AuthenticationException(reason);
    }

    private static string? Reason(string host, X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 trustedRoot)
    {
        if (certificate is null) return "the gateway sent no certificate.";
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            return $"the gateway's certificate does not name '{host}' (its subject alternative names must include the host or IP address you dial).";
        using var leaf = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trustedRoot);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (!chain.Build(leaf))
        {
            string status = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0));
            return $"the gateway's certificate '{leaf.Subject}' is not issued by the CA certificate '{trustedRoot.Subject}' ({status}).";
        }
        return null;
    }
}
