using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>SetConnectionModeMulti: the devices must be connected; each failed device becomes its own error record.</summary>
[Cmdlet(VerbsCommon.Set, "GatewayConnectionMode", SupportsShouldProcess = true)]
[OutputType(typeof(void))]
public sealed class SetGatewayConnectionModeCommand : GatewayCmdlet
{
    private readonly List<uint> _ids = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(GatewayDeviceIdCompleter))]
    public uint[] DeviceId { get; set; } = Array.Empty<uint>();

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateSet("ServerToDevice", "DeviceToServer")]
    public string Mode { get; set; } = "ServerToDevice";

    protected override void ProcessRecord() => _ids.AddRange(DeviceId);

    protected override void EndProcessing()
    {
        if (_ids.Count == 0) return;
        var session = ResolveGateway();
        if (!ShouldProcess(string.Join(", ", _ids), $"Set connection mode {Mode}")) return;
        var mode = Enum.Parse<GatewayConnectionMode>(Mode, ignoreCase: true);
        WriteVerbose($"SetConnectionModeMulti({string.Join(", ", _ids)}, {mode}).");
        WriteDeviceErrors(Call(token => session.SetConnectionModeAsync(_ids, mode, token), _ids.ToArray()));
    }
}
