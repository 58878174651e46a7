using System.Management.Automation;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Commands;

/// <summary>
/// Ends the relay session (close message over WebSocket, a terminating CancelDownload in long polling), closes the
/// session and removes it from the registry. Sends not acknowledged by then are reported as failed (WebifiSessionClosed).
/// </summary>
[Cmdlet(VerbsCommunications.Disconnect, "Webifi", DefaultParameterSetName = "Session")]
[OutputType(typeof(WebifiSession))]
public sealed class DisconnectWebifiCommand : SessionCmdlet
{
    [Parameter(ParameterSetName = "All", Mandatory = true)]
    public SwitchParameter All { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var sessions = All
            ? SessionRegistry.Shared.List(DeviceWorld.Webifi).OfType<WebifiSession>().ToList()
            : new List<WebifiSession> { ResolveSession<WebifiSession>("Webifi", "Connect-Webifi") };
        foreach (var session in sessions)
        {
            WriteVerbose($"Closing {session}.");
            Await(token => session.DisposeAsync().AsTask().WaitAsync(token));
            if (PassThru) WriteObject(session);
        }
    }
}
