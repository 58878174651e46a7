using System.Management.Automation;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Commands;

/// <summary>
/// Ends the relay session (close message over WebSocket, a terminating CancelDownload in long polling), closes the
/// session and removes it from the registry. Sends not acknowledged by then are reported as failed (WebifiSessionClosed).
/// </summary>
[Cmdlet(VerbsCommunications.Disconnect, "Webifi", SupportsShouldProcess = true, DefaultParameterSetName = "Session", HelpUri = HelpLinks.CmdletPages + "Disconnect-Webifi.md")]
[OutputType(typeof(WebifiSession))]
public sealed class DisconnectWebifiCommand : DisconnectCmdlet
{
    protected override void ProcessRecord() => DisconnectSessions<WebifiSession>("Webifi", "Connect-Webifi");
}
