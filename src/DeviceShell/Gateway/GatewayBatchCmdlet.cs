using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>
/// A Gateway cmdlet that acts on a set of device ids with one RPC: ids given or piped (by property name,
/// e.g. from Get-GatewayDevice) are collected and sent once at the end of the pipeline, after ShouldProcess.
/// Ids the gateway does not manage are reported and left out of the call.
/// </summary>
public abstract class GatewayBatchCmdlet : GatewayCallCmdlet
{
    private readonly List<uint> _ids = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(GatewayDeviceIdCompleter))]
    public uint[] DeviceId { get; set; } = Array.Empty<uint>();

    /// <summary>Writes the devices afterwards, as the gateway lists them (devices it no longer manages are left out).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>The ShouldProcess action, e.g. "Enable SSL".</summary>
    protected abstract string Action { get; }

    /// <summary>Makes the one call for all collected ids.</summary>
    protected abstract void Apply(GatewaySession session, IReadOnlyList<uint> deviceIds);

    protected override void ProcessRecord() => _ids.AddRange(DeviceId);

    protected override void EndProcessing()
    {
        if (_ids.Count == 0) return;
        var session = ResolveGateway();
        var managed = KeepManaged(session, _ids);
        if (managed.Count == 0 || !ShouldProcess(string.Join(", ", managed), Action)) return;
        Apply(session, managed);
        if (PassThru) WriteDevices(session, managed);
    }

    /// <summary>Enable-/Disable-GatewayDeviceSsl: EnableSSLMulti / DisableSSLMulti with per-device error records.</summary>
    protected void SetSsl(GatewaySession session, IReadOnlyList<uint> deviceIds, bool enabled)
    {
        WriteVerbose($"{(enabled ? "EnableSSLMulti" : "DisableSSLMulti")}({string.Join(", ", deviceIds)}).");
        WriteDeviceErrors(Call(token => session.SetSslAsync(deviceIds.ToArray(), enabled, token, CallTimeout), deviceIds.ToArray()));
    }
}

/// <summary>-DeviceId / -IPAddress pairs given by position (Add-GatewayAsyncConnection, Add-LabGatewayDevice).</summary>
internal static class DeviceAddressPairs
{
    public static IReadOnlyList<(uint DeviceId, string IPAddress)> Pair(uint[] deviceIds, string[] addresses) =>
        deviceIds.Length == addresses.Length
            ? deviceIds.Zip(addresses).ToArray()
            : throw new ArgumentException($"-DeviceId has {deviceIds.Length} value(s) but -IPAddress has {addresses.Length}; they pair up by position.");
}
