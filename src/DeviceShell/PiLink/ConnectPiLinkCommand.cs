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
        var options = PiLinkOptions.Default with
        {
            ConnectTimeout = TimeoutSec is double seconds ? TimeSpan.FromSeconds(seconds) : PiLinkOptions.Default.ConnectTimeout,
            OccupiedWait = OccupiedWaitSec is double wait ? TimeSpan.FromSeconds(wait) : null,
        };
        var session = new PiLinkSession(HostName, Port, options);
        WriteVerbose($"Connecting to {session.Endpoint}.");
        var outcome = Await(token => session.ConnectAsync(token));
        WriteVerbose($"Watched {session.ProbeWindow.TotalSeconds:0.###} s for an occupied server.");
        if (outcome != PiLinkState.Connected)
        {
            Await(_ => session.DisposeAsync().AsTask());
            var error = outcome == PiLinkState.ServerOccupied
                ? new DeviceException(DeviceErrorKind.ResourceUnavailable, "PiLinkServerOccupied",
                    $"SERVER_OCCUPIED: {session.Endpoint} serves another client and closed this connection.", session.Endpoint)
                : new DeviceException(DeviceErrorKind.Connection, "PiLinkConnectionFailed",
                    $"CONNECTION_FAILED: {session.Endpoint}: {session.LastError}.", session.Endpoint);
            // Terminating like every Connect-*: with no session, nothing after this command can go on.
            ThrowFailure(error);
        }
        WriteVerbose($"CONNECTED to {session.Endpoint}.");
        WriteObject(SessionRegistry.Shared.Add(session));
    }
}
