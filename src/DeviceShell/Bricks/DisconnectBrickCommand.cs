using System.Management.Automation;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>Disconnects a Brick session (reason Request, no auto-reconnect) and removes it from the registry.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "Brick", SupportsShouldProcess = true, DefaultParameterSetName = "Session", HelpUri = HelpLinks.CmdletPages + "Disconnect-Brick.md")]
[OutputType(typeof(BrickSession))]
public sealed class DisconnectBrickCommand : DisconnectCmdlet
{
    protected override void ProcessRecord() => DisconnectSessions<BrickSession>("Brick", "Connect-Brick");
}
