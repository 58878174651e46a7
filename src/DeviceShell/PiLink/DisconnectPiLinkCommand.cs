using System.Management.Automation;
using DeviceShell.Engine.PiLink;

namespace DeviceShell.Commands;

/// <summary>Closes a Pi link client session (default: the newest) or all of them, and unregisters it.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "PiLink", SupportsShouldProcess = true, DefaultParameterSetName = "Session", HelpUri = HelpLinks.CmdletPages + "Disconnect-PiLink.md")]
[OutputType(typeof(PiLinkSession))]
public sealed class DisconnectPiLinkCommand : DisconnectCmdlet
{
    protected override void ProcessRecord() => DisconnectSessions<PiLinkSession>("Pi link", "Connect-PiLink");
}
