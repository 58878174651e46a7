using System.Management.Automation;
using DeviceShell.Engine.PiLink;

namespace DeviceShell.Commands;

/// <summary>
/// Drops the client of a server started with Start-PiLinkServer or Start-PiButtonServer (tcpcom's server disconnect()):
/// the client sees its connection close, the server keeps listening for the next one. Without a client it does nothing.
/// </summary>
[Cmdlet(VerbsCommunications.Disconnect, "PiLinkClient", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Disconnect-PiLinkClient.md")]
[OutputType(typeof(PiLinkServer))]
public sealed class DisconnectPiLinkClientCommand : PiLinkServerCmdlet
{
    protected override void ProcessRecord()
    {
        var server = ResolveServer();
        if (server.ClientAddress is not string client)
            WriteVerbose($"{server} has no client.");
        else if (ShouldProcess($"{client} (client of {server})", "Disconnect"))
        {
            Await(_ => server.DisconnectClientAsync());
            WriteVerbose($"Dropped {client}; the server on port {server.Port} listens for the next client.");
        }
        if (PassThru) WriteObject(server);
    }
}
