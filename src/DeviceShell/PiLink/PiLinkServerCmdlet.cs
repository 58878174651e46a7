using System.Management.Automation;
using DeviceShell.Engine.PiLink;

namespace DeviceShell.Commands;

/// <summary>A cmdlet that acts on a Pi link server started in this process (default: the newest) and writes it with -PassThru.</summary>
public abstract class PiLinkServerCmdlet : SessionCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected PiLinkServer ResolveServer() => ResolveSession<PiLinkServer>("Pi link server", "Start-PiLinkServer");

    /// <summary>tcpcom's terminate(): the client sees DISCONNECTED, the port closes, the server leaves the registry.</summary>
    protected void Terminate(PiLinkServer server)
    {
        if (!ShouldProcess(server.ToString(), "Terminate")) return;
        Await(_ => server.DisposeAsync().AsTask());
        WriteVerbose($"Terminated the server on port {server.Port}.");
        if (PassThru) WriteObject(server);
    }
}
