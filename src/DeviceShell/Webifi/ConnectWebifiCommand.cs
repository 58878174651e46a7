using System.Globalization;
using System.Management.Automation;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Commands;

/// <summary>
/// Logs in to a Webifi server (the public service by default, or a relay given with -Server or -HostName/-Port),
/// opens the WebSocket or long-polling transport and registers the session. The connect password only travels as a
/// PSCredential / SecureString. A wrong password, an unreachable server, or networks none of which is the account's
/// stop the command (no retry, no session left open); after that the session reconnects on its own.
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "Webifi", DefaultParameterSetName = ServerSet, HelpUri = HelpLinks.CmdletPages + "Connect-Webifi.md")]
[OutputType(typeof(WebifiSession))]
public sealed class ConnectWebifiCommand : DeviceCmdlet
{
    private const string ServerSet = "Server";
    private const string HostNameSet = "HostName";

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
    [Parameter(ParameterSetName = ServerSet)]
    [ValidateNotNull]
    public Uri Server { get; set; } = WebifiConnectOptions.PublicServer;

    /// <summary>The credentials server by name or address, as the other worlds' Connect cmdlets take it.</summary>
    [Parameter(Mandatory = true, ParameterSetName = HostNameSet)]
    [Alias("ComputerName")]
    [ValidateNotNullOrEmpty]
    public string HostName { get; set; } = string.Empty;

    /// <summary>With -HostName: the server's port (default 80, or 443 with -UseEncryption).</summary>
    [Parameter(ParameterSetName = HostNameSet)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; }

    /// <summary>How long the login and every later request may wait for the relay's answer (default 10 s).</summary>
    [Parameter]
    [ValidateRange(0.1, 3600)]
    public double? TimeoutSec { get; set; }

    protected override void EndProcessing()
    {
        if (ParameterSetName == HostNameSet)
        {
            var address = new UriBuilder(UseEncryption ? Uri.UriSchemeHttps : Uri.UriSchemeHttp, HostName, MyInvocation.BoundParameters.ContainsKey(nameof(Port)) ? Port : UseEncryption ? 443 : 80);
            if (!Uri.TryCreate(address.ToString(), UriKind.Absolute, out var server))
            {
                ThrowFailure(new DeviceException(DeviceErrorKind.InvalidArgument, "WebifiBadServer", $"'{HostName}' is not a host name or address.", HostName));
                return;
            }
            Server = server;
        }
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
            ReplyTimeout = TimeSpan.FromSeconds(TimeoutSec ?? 10),
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
        if (session.LastError is { Code: WebifiErrorCode.NotAllNetworksSet } error)
        {
            var refused = session.ErrorFor(error.Code, error.Context, Network); // the context names the refused networks
            if (session.Networks.Length == 0)
            {
                // Not one network is the account's: a session listening to nothing is a typo's result, not a connection.
                Await(_ => session.DisposeAsync().AsTask());
                ThrowFailure(refused);
                return;
            }
            WriteFailure(refused);
        }
        SessionRegistry.Shared.Add(session);
        WriteVerbose($"Logged in as session id {session.SessionId} ({session.Dialect} dialect); listening to {string.Join(", ", session.Networks)}.");
        WriteObject(session);
    }
}
