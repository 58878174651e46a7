using System.Management.Automation;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Terminates a button server started with Start-PiButtonServer (default: the newest one), the stop under the
/// start's own noun; Stop-PiLinkServer stops any server, button servers included.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "PiButtonServer", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Stop-PiButtonServer.md")]
[OutputType(typeof(PiLinkServer))]
public sealed class StopPiButtonServerCommand : PiLinkServerCmdlet
{
    protected override void ProcessRecord()
    {
        if (Session is null)
        {
            var newest = SessionRegistry.Shared.List(DeviceWorld.PiLink).OfType<PiLinkServer>().LastOrDefault(s => s.Button is not null);
            if (newest is null) ThrowTerminatingError(ErrorRecords.SessionNotFound("Pi button server", "Start-PiButtonServer"));
            Terminate(newest!);
            return;
        }
        var server = ResolveServer();
        if (server.Button is null)
        {
            ThrowFailure(new DeviceException(DeviceErrorKind.InvalidArgument, "NotAPiButtonServer",
                $"{server} is not a button server; stop it with Stop-PiLinkServer.", server));
        }
        Terminate(server);
    }
}
