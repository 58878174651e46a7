using System.Management.Automation;

namespace DeviceShell.Commands;

/// <summary>Enable-/Disable-GatewayDeviceSsl: one Multi call for all ids given or piped.</summary>
public abstract class GatewaySslCommand : GatewayCmdlet
{
    private readonly List<uint> _ids = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(GatewayDeviceIdCompleter))]
    public uint[] DeviceId { get; set; } = Array.Empty<uint>();

    protected abstract bool Enabled { get; }

    protected override void ProcessRecord() => _ids.AddRange(DeviceId);

    protected override void EndProcessing()
    {
        if (_ids.Count == 0) return;
        var session = ResolveGateway();
        string action = Enabled ? "Enable SSL" : "Disable SSL";
        if (!ShouldProcess(string.Join(", ", _ids), action)) return;
        WriteVerbose($"{(Enabled ? "EnableSSLMulti" : "DisableSSLMulti")}({string.Join(", ", _ids)}).");
        WriteDeviceErrors(Call(token => session.SetSslAsync(_ids, Enabled, token), _ids.ToArray()));
    }
}
