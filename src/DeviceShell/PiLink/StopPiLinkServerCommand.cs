using System.Management.Automation;
using DeviceShell.Engine.PiLink;

namespace DeviceShell.Commands;

/// <summary>Terminates a server started with Start-PiLinkServer or Start-PiButtonServer (default: the newest).</summary>
[Cmdlet(VerbsLifecycle.Stop, "PiLinkServer", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Stop-PiLinkServer.md")]
[OutputType(typeof(PiLinkServer))]
public sealed class StopPiLinkServerCommand : PiLinkServerCmdlet
{
    protected override void ProcessRecord() => Terminate(ResolveServer());
}
