using System.Management.Automation;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Commands;

/// <summary>
/// Changes a running session: the listen-to networks (sent to the relay at once; error 5 when some are not the
/// account's), whether it answers discovery, its discovery name, the long-polling hold time (from the next login on),
/// and, like the official library's set_use_websocket / set_use_encryption, the transport and encryption (the session
/// logs in again at once; queued sends stay queued and go out on the new link).
/// </summary>
[Cmdlet(VerbsCommon.Set, "WebifiSession", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Set-WebifiSession.md")]
[OutputType(typeof(WebifiSession))]
public sealed class SetWebifiSessionCommand : SessionCmdlet
{
    private SwitchParameter _discoverable;
    private bool _discoverableGiven;

    [Parameter]
    [ValidateNotNull]
    [AllowEmptyCollection]
    [ArgumentCompleter(typeof(WebifiNetworkCompleter))]
    public string[]? Network { get; set; }

    /// <summary>-Discoverable to answer discovery requests, -Discoverable:$false to pass them on as data.</summary>
    [Parameter]
    public SwitchParameter Discoverable
    {
        get => _discoverable;
        set
        {
            _discoverable = value;
            _discoverableGiven = true;
        }
    }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter]
    [ValidateRange(10, 1800)]
    public double? DownloadTimeoutSec { get; set; }

    /// <summary>WebSocket or LongPolling; a string so no engine value type is held here (see DeviceCmdlet).</summary>
    [Parameter]
    [ValidateSet("WebSocket", "LongPolling")]
    public string? Transport { get; set; }

    /// <summary>-UseEncryption for TLS from now on, -UseEncryption:$false for plain HTTP/WS (an https:// server keeps TLS).</summary>
    [Parameter]
    public SwitchParameter UseEncryption { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var session = ResolveSession<WebifiSession>("Webifi", "Connect-Webifi");
        if (!ShouldProcess(session.ToString(), "Change Webifi session settings")) return;
        if (_discoverableGiven) session.SetDiscoverable(Discoverable);
        if (Name is not null) session.SetName(Name);
        if (DownloadTimeoutSec is double seconds) session.SetDownloadTimeout(TimeSpan.FromSeconds(seconds));
        if (Network is not null)
        {
            WriteVerbose($"Setting listen-to networks: {string.Join(", ", Network)}.");
            try
            {
                Await(token => session.SetNetworksAsync(Network, token));
            }
            catch (Exception ex) when (ErrorRecords.IsExpected(ex))
            {
                WriteFailure(ex, Network);
            }
        }
        bool? encryption = MyInvocation.BoundParameters.ContainsKey(nameof(UseEncryption)) ? UseEncryption.IsPresent : null;
        if (Transport is not null || encryption is not null)
        {
            WebifiTransport? transport = Transport is null ? null : Transport == "LongPolling" ? WebifiTransport.LongPolling : WebifiTransport.WebSocket;
            WriteVerbose($"Switching to {Transport ?? session.Transport.ToString()}{(encryption is bool tls ? tls ? " with TLS" : " without TLS" : "")}; logging in again.");
            try
            {
                Await(token => session.SetTransportAsync(transport, encryption, token));
            }
            catch (Exception ex) when (ErrorRecords.IsExpected(ex))
            {
                WriteFailure(ex, session);
            }
        }
        if (PassThru) WriteObject(session);
    }
}
