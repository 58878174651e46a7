using System.Management.Automation;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>A generic tcpcom server (one client at a time) in this PowerShell process, registered as a PiLink session.</summary>
[Cmdlet(VerbsLifecycle.Start, "PiLinkServer", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Start-PiLinkServer.md")]
[OutputType(typeof(PiLinkServer))]
public sealed class StartPiLinkServerCommand : DeviceCmdlet
{
    [Parameter(Position = 0)]
    [ValidateRange(0, 65535)]
    public int Port { get; set; } = PiLinkOptions.DefaultPort;

    /// <summary>The character that ends each message: NUL for tcpcom peers, "`n" for line-oriented clients (nc, telnet).</summary>
    [Parameter]
    public char Terminator { get; set; }

    /// <summary>Disconnect a client that sent nothing for this long (tcpcom's setTimeout); 0 (the default, as tcpcom): never.</summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public double IdleTimeoutSec { get; set; }

    /// <summary>The local address to listen on; every IPv4 interface (tcpcom's choice) by default.</summary>
    [Parameter]
    public System.Net.IPAddress LocalAddress { get; set; } = PiLinkOptions.Default.BindAddress;

    [Parameter]
    [ValidateRange(1, 256 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = PiLinkOptions.Default.MaxMessageBytes;

    protected override void EndProcessing()
    {
        if (Terminator > '\x7f')
            ThrowFailure(new DeviceException(DeviceErrorKind.InvalidArgument, "PiLinkBadTerminator",
                "The terminator is one byte on the wire, so it must be an ASCII character (NUL or \"`n\" as a rule).", Terminator));
        if (!ShouldProcess($"{LocalAddress} port {Port}", "Start a Pi link server")) return;
        var options = new PiLinkOptions
        {
            Terminator = (byte)Terminator,
            IdleTimeout = IdleTimeoutSec > 0 ? TimeSpan.FromSeconds(IdleTimeoutSec) : null,
            MaxMessageBytes = MaxMessageBytes,
            BindAddress = LocalAddress,
        };
        var server = new PiLinkServer(Port, options);
        try
        {
            server.Start();
        }
        catch (DeviceException ex)
        {
            ThrowFailure(ex, Port);
        }
        WriteVerbose($"Pi link server listening on port {server.Port} (terminator 0x{options.Terminator:X2}).");
        WriteObject(SessionRegistry.Shared.Add(server));
    }
}
