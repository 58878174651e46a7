using System.Management.Automation;
using DeviceShell.Engine.Gateway;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>Closes a gateway session (the default one, the one given, or -All) and removes it from the registry.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "Gateway")]
[OutputType(typeof(GatewaySession))]
public sealed class DisconnectGatewayCommand : GatewayCmdlet
{
    [Parameter]
    public SwitchParameter All { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var sessions = All ? SessionRegistry.Shared.List(DeviceWorld.Gateway).OfType<GatewaySession>().ToArray() : new[] { ResolveGateway() };
        foreach (var session in sessions)
        {
            WriteVerbose($"Closing {session}.");
            Await(_ => session.DisposeAsync().AsTask());
            if (PassThru) WriteObject(session);
        }
    }
}
