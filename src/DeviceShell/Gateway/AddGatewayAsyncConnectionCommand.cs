using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>
/// AddAsyncConnection: registers devices the gateway connects to in the background and reconnects on its own.
/// Takes Find-GatewayDevice output from the pipeline; all devices go to the gateway in one request at the end.
/// -DeviceId and -IPAddress pair up by position.
/// </summary>
[Cmdlet(VerbsCommon.Add, "GatewayAsyncConnection", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Add-GatewayAsyncConnection.md")]
[OutputType(typeof(GatewayDevice))]
public sealed class AddGatewayAsyncConnectionCommand : GatewayCallCmdlet
{
    private readonly List<GatewayAsyncConnection> _connections = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(GatewayDeviceIdCompleter))]
    public uint[] DeviceId { get; set; } = Array.Empty<uint>();

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] IPAddress { get; set; } = Array.Empty<string>();

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = 51211;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter UseSsl { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        TryRun(() =>
        {
            foreach (var (id, address) in DeviceAddressPairs.Pair(DeviceId, IPAddress))
            {
                var connection = new GatewayAsyncConnection(id, address, Port, UseSsl);
                if (ShouldProcess($"{connection.DeviceId} ({connection.IPAddress}:{connection.Port})", "Add async connection")) _connections.Add(connection);
            }
        }, DeviceId);
    }

    protected override void EndProcessing()
    {
        if (_connections.Count == 0) return;
        var session = ResolveGateway();
        WriteVerbose($"AddAsyncConnection with {_connections.Count} device(s).");
        Call(token => session.AddAsyncConnectionsAsync(_connections, token, CallTimeout), _connections.Select(c => c.DeviceId).ToArray());
        if (!PassThru) return;
        var added = _connections.Select(c => c.DeviceId).ToHashSet();
        foreach (var device in Call(token => session.GetDevicesAsync(token, CallTimeout)).Where(d => added.Contains(d.DeviceId))) WriteObject(device);
    }
}
