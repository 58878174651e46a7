using System.Management.Automation;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Connects a tcpcom client. A server that already serves a client closes the connection at once; that is
/// reported as PiLinkServerOccupied. The watch for it lasts four TCP handshakes (at least 50 ms, at most tcpcom's
/// fixed 2 s) unless -OccupiedWaitSec says otherwise. A failed connect stops the command.
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "PiLink", HelpUri = HelpLinks.CmdletPages + "Connect-PiLink.md")]
[OutputType(typeof(PiLinkSession))]
public sealed class ConnectPiLinkCommand : DeviceCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("ComputerName")]
    [ValidateNotNullOrEmpty]
    public string HostName { get; set; } = "";

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = PiLinkOptions.DefaultPort;

    /// <summary>How long the TCP connect may take.</summary>
    [Parameter]
    [ValidateRange(0.01, 600)]
    public double? TimeoutSec { get; set; }

    /// <summary>How long to watch for the one-client refusal before declaring CONNECTED; absent: sized from the handshake.</summary>
    [Parameter]
    [ValidateRange(0, 60)]
    public double? OccupiedWaitSec { get; set; }

    protected override void ProcessRecord()
    {
        var link = PiLinkOptions.Default;
        var options = new PiLinkConnectOptions
        {
            HostName = HostName,
            Port = Port,
            Link = link with
            {
                ConnectTimeout = TimeoutSec is double seconds ? TimeSpan.FromSeconds(seconds) : link.ConnectTimeout,
                OccupiedWait = OccupiedWaitSec is double wait ? TimeSpan.FromSeconds(wait) : link.OccupiedWait,
            },
        };
        WriteVerbose($"Connecting to {HostName}:{Port}.");
        try
        {
            var session = Await(token => PiLinkSession.ConnectAsync(options, token));
            WriteVerbose($"Watched {session.ProbeWindow.TotalSeconds:0.###} s for an occupied server.");
            WriteVerbose($"CONNECTED to {session.Endpoint}.");
            WriteObject(SessionRegistry.Shared.Add(session));
        }
        catch (DeviceException ex)
        {
            // Terminating like every Connect-*: with no session, nothing after this command can go on.
            ThrowFailure(ex);
        }
    }
}
