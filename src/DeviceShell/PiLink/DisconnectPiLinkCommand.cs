using System.Management.Automation;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>Closes a Pi link client session (default: the newest) or all of them, and unregisters it.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "PiLink", DefaultParameterSetName = "Session")]
[OutputType(typeof(PiLinkSession))]
public sealed class DisconnectPiLinkCommand : SessionCmdlet
{
    [Parameter(ParameterSetName = "All", Mandatory = true)]
    public SwitchParameter All { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var sessions = All
            ? SessionRegistry.Shared.List(DeviceWorld.PiLink).OfType<PiLinkSession>().ToArray()
            : new[] { ResolveSession<PiLinkSession>("Pi link", "Connect-PiLink") };
        foreach (var session in sessions)
        {
            Await(_ => session.DisposeAsync().AsTask());
            WriteVerbose($"Disconnected from {session.Endpoint}.");
            if (PassThru) WriteObject(session);
        }
    }
}
