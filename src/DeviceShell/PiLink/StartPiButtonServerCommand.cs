using System.Management.Automation;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.PiLink.Gpio;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// The tutorial's button server in this PowerShell process: answers <c>go</c> with <c>Button pressed</c> /
/// <c>Button released</c> from a GPIO input with pull-up (Linux GPIO character device) or from a simulated button.
/// The server is registered as a PiLink session, so Get-DeviceSession lists it and Receive-PiLinkMessage reads it.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "PiButtonServer", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Start-PiButtonServer.md")]
[OutputType(typeof(PiLinkServer))]
public sealed class StartPiButtonServerCommand : PiButtonLineCmdlet
{
    [Parameter(Position = 0)]
    [ValidateRange(0, 65535)]
    public int Port { get; set; } = PiLinkOptions.DefaultPort;

    /// <summary>Disconnect a client that sent nothing for this long, so a silent one cannot hold the server; 0 never.</summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public double IdleTimeoutSec { get; set; } = PiButtonServer.DefaultIdleTimeout.TotalSeconds;

    /// <summary>The local address to listen on; every IPv4 interface (tcpcom's choice) by default. 127.0.0.1 keeps it on this machine.</summary>
    [Parameter]
    public System.Net.IPAddress LocalAddress { get; set; } = PiLinkOptions.Default.BindAddress;

    /// <summary>Read a simulated button (Set-PiButtonState presses it) instead of GPIO.</summary>
    [Parameter]
    public SwitchParameter Simulated { get; set; }

    protected override void EndProcessing()
    {
        string source = Simulated ? $"simulated pin {Pin}" : $"/dev/gpiochip{Chip} line {Pin}";
        if (!ShouldProcess($"{LocalAddress} port {Port}", $"Start a Pi button server reading {source}")) return;
        PiLinkServer? server = null;
        try
        {
            var button = PiButton.Open(Chip, Pin, Simulated);
            var options = PiButtonServer.DefaultOptions with { IdleTimeout = IdleTimeoutSec > 0 ? TimeSpan.FromSeconds(IdleTimeoutSec) : null, BindAddress = LocalAddress };
            server = PiButtonServer.Create(button, Port, options);
            server.Start();
        }
        catch (DeviceException ex)
        {
            if (server is not null) Await(_ => server.DisposeAsync().AsTask());
            ThrowFailure(ex, ex.Target ?? Port);
        }
        string idle = IdleTimeoutSec > 0 ? $"disconnects a client silent for {IdleTimeoutSec:0.###} s" : "never disconnects a silent client";
        WriteVerbose($"Pi button server listening on {LocalAddress} port {server!.Port}, reading {source}; it answers '{PiButtonServer.Command}' and {idle}.");
        WriteObject(SessionRegistry.Shared.Add(server));
    }
}
