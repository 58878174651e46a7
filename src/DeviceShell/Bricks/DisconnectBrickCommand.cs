using System.Management.Automation;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>Disconnects a Brick session (reason Request, no auto-reconnect) and removes it from the registry.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "Brick", SupportsShouldProcess = true, DefaultParameterSetName = "Session")]
[OutputType(typeof(BrickSession))]
public sealed class DisconnectBrickCommand : SessionCmdlet
{
    /// <summary>Every open Brick session.</summary>
    [Parameter(ParameterSetName = "All", Mandatory = true)]
    public SwitchParameter All { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var sessions = All
            ? SessionRegistry.Shared.List(DeviceWorld.Brick).OfType<BrickSession>().ToArray()
            : new[] { ResolveSession<BrickSession>("Brick", "Connect-Brick") };
        foreach (var session in sessions)
        {
            if (!ShouldProcess(session.ToString(), "Disconnect")) continue;
            Await(async _ => await session.DisposeAsync().ConfigureAwait(false));
            WriteVerbose($"Disconnected {session}.");
            if (PassThru) WriteObject(session);
        }
    }
}
