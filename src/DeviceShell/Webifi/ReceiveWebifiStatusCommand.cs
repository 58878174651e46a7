using System.Management.Automation;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Commands;

/// <summary>
/// Streams a Webifi session's connection-status changes (Connected, Reconnecting, Disconnected) and background errors
/// (error codes met while no send was waiting: networks not set, download errors, a refused re-login) as they arrive.
/// Received data stays queued for Receive-WebifiData.
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "WebifiStatus", HelpUri = HelpLinks.CmdletPages + "Receive-WebifiStatus.md")]
[OutputType(typeof(WebifiStatusChange))]
public sealed class ReceiveWebifiStatusCommand : ReceiveCmdlet
{
    /// <summary>Only status changes of these kinds (others stay queued for later receives).</summary>
    [Parameter(Position = 0)]
    [ValidateSet("Connected", "Reconnecting", "Disconnected", "Error", IgnoreCase = true)]
    public string[]? Kind { get; set; }

    protected override void EndProcessing()
    {
        var session = ResolveSession<WebifiSession>("Webifi", "Connect-Webifi");
        var kinds = Kind;
        Receive(session, session.Events, item => item is WebifiStatusChange change
            && (kinds is null || kinds.Contains(change.Kind.ToString(), StringComparer.OrdinalIgnoreCase)));
    }
}
