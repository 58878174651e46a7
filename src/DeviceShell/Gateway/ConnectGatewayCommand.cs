using System.Management.Automation;
using DeviceShell.Engine.Gateway;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>Opens (or shares) a TLS channel to a device gateway trusting only -CaCertificate, checks it with GetAcceptFilter and registers the session.</summary>
[Cmdlet(VerbsCommunications.Connect, "Gateway", HelpUri = HelpLinks.CmdletPages + "Connect-Gateway.md")]
[OutputType(typeof(GatewaySession))]
public sealed class ConnectGatewayCommand : DeviceCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("ComputerName")]
    [ValidateNotNullOrEmpty]
    public string HostName { get; set; } = string.Empty;

    [Parameter]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = 4000;

    /// <summary>The gateway's root CA file (ca.crt, PEM or DER); relative paths are resolved against the current location.</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CaCertificate { get; set; } = string.Empty;

    /// <summary>Deadline of each call of the session; 10 s when not given.</summary>
    [Parameter]
    [ValidateRange(0.1, 3600)]
    public double? TimeoutSec { get; set; }

    /// <summary>How many status changes the gateway may queue for this session's SubscribeStatus stream (its queueSize).</summary>
    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int StatusQueueSize { get; set; } = GatewayConnectOptions.Default.StatusQueueSize;

    /// <summary>
    /// Seconds of quiet before an HTTP/2 keep-alive ping; 330 when not given, because gRPC servers on their default
    /// policy end a connection that pings more often than every 5 minutes. Lower it only for gateways configured to permit it.
    /// </summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int? KeepAliveSec { get; set; }

    /// <summary>The largest message accepted from the gateway, in MiB (4 when not given).</summary>
    [Parameter]
    [ValidateRange(1, 2047)]
    public int? MaxMessageSizeMB { get; set; }

    protected override void EndProcessing()
    {
        string caFile = GetUnresolvedProviderPathFromPSPath(CaCertificate);
        WriteVerbose($"Opening (or sharing) the gRPC/TLS channel to {HostName}:{Port} trusting only {caFile}; checking it with GetAcceptFilter.");
        try
        {
            var defaults = GatewayConnectOptions.Default;
            var options = defaults with
            {
                HostName = HostName,
                Port = Port,
                CaCertificateFile = caFile,
                Timeout = TimeoutSec is { } timeout ? TimeSpan.FromSeconds(timeout) : defaults.Timeout,
                StatusQueueSize = StatusQueueSize,
                MaxReceiveMessageSize = MaxMessageSizeMB is { } megabytes ? megabytes * 1024 * 1024 : defaults.MaxReceiveMessageSize,
                KeepAlive = KeepAliveSec is { } seconds ? TimeSpan.FromSeconds(seconds) : defaults.KeepAlive,
            };
            var session = Await(token => GatewaySession.ConnectAsync(options, token));
            WriteObject(SessionRegistry.Shared.Add(session));
        }
        catch (Exception ex) when (ErrorRecords.IsExpected(ex))
        {
            ThrowFailure(ex, $"{HostName}:{Port}");
        }
    }
}
