using System.Globalization;
using System.Management.Automation;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Commands;

/// <summary>
/// Logs in to a Webifi server (the public service by default, or a relay given with -Server), opens the
/// WebSocket or long-polling transport and registers the session. The connect password only travels as a
/// PSCredential / SecureString. A wrong password or an unreachable server stops the command (no retry);
/// after that the session reconnects on its own.
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "Webifi", HelpUri = HelpLinks.CmdletPages + "Connect-Webifi.md")]
[OutputType(typeof(WebifiSession))]
public sealed class ConnectWebifiCommand : DeviceCmdlet
{
    /// <summary>User name = connect name, password = connect password (not the webifi.me account password).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [Credential]
    public PSCredential Credential { get; set; } = PSCredential.Empty;

    /// <summary>The listen-to (default) networks.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(WebifiNetworkCompleter))]
    public string[] Network { get; set; } = Array.Empty<string>();

    /// <summary>The name this session answers discovery requests with.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = Environment.MachineName;

    [Parameter]
    public SwitchParameter NotDiscoverable { get; set; }

    /// <summary>WebSocket (default) or LongPolling; a string so no engine value type is held here (see DeviceCmdlet).</summary>
    [Parameter]
    [ValidateSet("WebSocket", "LongPolling")]
    public string Transport { get; set; } = "WebSocket";

    /// <summary>HTTPS for the login, then WSS/HTTPS to the host names the server gives (implied by an https:// -Server).</summary>
    [Parameter]
    public SwitchParameter UseEncryption { get; set; }

    /// <summary>A certificate file (PEM or DER) to trust instead of the system store: a self-hosted relay's own certificate or its CA.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CaCertificate { get; set; }

    [Parameter]
    [ValidateRange(10, 1800)]
    public double? DownloadTimeoutSec { get; set; }

    /// <summary>The credentials server, e.g. http://127.0.0.1:8080/ for a Lab relay. Default: the public service.</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri Server { get; set; } = WebifiConnectOptions.PublicServer;

    protected override void EndProcessing()
    {
        if (!Server.IsAbsoluteUri || (Server.Scheme != Uri.UriSchemeHttp && Server.Scheme != Uri.UriSchemeHttps))
        {
            ThrowFailure(new DeviceException(DeviceErrorKind.InvalidArgument, "WebifiBadServer", $"-Server must be an http:// or https:// address, not '{Server}'.", Server));
            return;
        }
        System.Security.Cryptography.X509Certificates.X509Certificate2? trusted = null;
        if (CaCertificate is not null)
        {
            string path = GetUnresolvedProviderPathFromPSPath(CaCertificate);
            try
            {
                trusted = new System.Security.Cryptography.X509Certificates.X509Certificate2(path);
            }
            catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException)
            {
                ThrowFailure(new DeviceException(DeviceErrorKind.InvalidArgument, "WebifiBadCertificate", $"'{path}' is not a certificate file (PEM or DER): {ex.Message}", path, ex));
                return;
            }
        }
        string connectName = Credential.UserName.TrimStart('\\');
        var options = new WebifiConnectOptions
        {
            Server = Server,
            ConnectName = connectName,
            ConnectPassword = Credential.Password,
            Networks = Network,
            Name = Name,
            Discoverable = !NotDiscoverable,
            Transport = Transport == "LongPolling" ? WebifiTransport.LongPolling : WebifiTransport.WebSocket,
            UseEncryption = UseEncryption,
            TrustedCertificate = trusted,
            DownloadTimeout = TimeSpan.FromSeconds(DownloadTimeoutSec ?? 120),
        };
        WriteVerbose(string.Format(CultureInfo.InvariantCulture, "Requesting credentials for connect name '{0}' from {1}, then {2}{3}.",
            connectName, Server, Transport, options.Encrypted ? " with TLS" : ""));
        WebifiSession session;
        try
        {
            session = Await(token => WebifiSession.ConnectAsync(options, token));
        }
        catch (Exception ex) when (ErrorRecords.IsExpected(ex))
        {
            ThrowFailure(ex, Server);
            return;
        }
        SessionRegistry.Shared.Add(session);
        WriteVerbose($"Logged in as session id {session.SessionId}; listening to {string.Join(", ", session.Networks)}.");
        if (session.LastError is { Code: WebifiErrorCode.NotAllNetworksSet } error)
            WriteFailure(session.ErrorFor(error.Code, error.Context, Network)); // the context names the refused networks
        WriteObject(session);
    }
}
