using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>Closes a gateway session (the default one, the one given, or -All) and removes it from the registry.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "Gateway", SupportsShouldProcess = true, DefaultParameterSetName = "Session", HelpUri = HelpLinks.CmdletPages + "Disconnect-Gateway.md")]
[OutputType(typeof(GatewaySession))]
public sealed class DisconnectGatewayCommand : DisconnectCmdlet
{
    protected override void ProcessRecord() => DisconnectSessions<GatewaySession>("Gateway", "Connect-Gateway");
}
