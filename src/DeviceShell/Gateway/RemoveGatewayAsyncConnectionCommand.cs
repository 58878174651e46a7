using System.Management.Automation;

namespace DeviceShell.Commands;

/// <summary>DeleteAsyncConnection: the gateway stops managing the devices (disconnecting them first).</summary>
[Cmdlet(VerbsCommon.Remove, "GatewayAsyncConnection", SupportsShouldProcess = true)]
[OutputType(typeof(void))]
public sealed class RemoveGatewayAsyncConnectionCommand : GatewayCmdlet
{
    private readonly List<uint> _ids = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(GatewayDeviceIdCompleter))]
    public uint[] DeviceId { get; set; } = Array.Empty<uint>();

    protected override void ProcessRecord() => _ids.AddRange(DeviceId);

    protected override void EndProcessing()
    {
        if (_ids.Count == 0) return;
        var session = ResolveGateway();
        if (!ShouldProcess(string.Join(", ", _ids), "Remove async connection")) return;
        WriteVerbose($"DeleteAsyncConnection({string.Join(", ", _ids)}).");
        Call(token => session.DeleteAsyncConnectionsAsync(_ids, token), _ids.ToArray());
    }
}
