using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>Disconnect / DisconnectAll. Async connections are retried by the gateway after a delay (remove them with Remove-GatewayAsyncConnection).</summary>
[Cmdlet(VerbsCommunications.Disconnect, "GatewayDevice", SupportsShouldProcess = true, DefaultParameterSetName = "DeviceId", HelpUri = HelpLinks.CmdletPages + "Disconnect-GatewayDevice.md")]
[OutputType(typeof(GatewayDevice))]
public sealed class DisconnectGatewayDeviceCommand : GatewayCallCmdlet
{
    private readonly List<uint> _ids = new();

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "DeviceId", ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(GatewayDeviceIdCompleter))]
    public uint[] DeviceId { get; set; } = Array.Empty<uint>();

    [Parameter(Mandatory = true, ParameterSetName = "All")]
    public SwitchParameter All { get; set; }

    /// <summary>Writes the devices the gateway still lists afterwards (async connections stay, disconnected, until it retries).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => _ids.AddRange(DeviceId);

    protected override void EndProcessing()
    {
        var session = ResolveGateway();
        if (All)
        {
            if (!ShouldProcess(session.Endpoint, "Disconnect all devices")) return;
            WriteVerbose("DisconnectAll.");
            Call(token => session.DisconnectAllDevicesAsync(token, CallTimeout), session.Endpoint);
            if (PassThru) foreach (var device in Call(token => session.GetDevicesAsync(token, CallTimeout))) WriteObject(device);
            return;
        }
        var managed = KeepManaged(session, _ids);
        if (managed.Count == 0 || !ShouldProcess(string.Join(", ", managed), "Disconnect")) return;
        WriteVerbose($"Disconnect({string.Join(", ", managed)}).");
        Call(token => session.DisconnectDevicesAsync(managed, token, CallTimeout), managed.ToArray());
        if (PassThru) WriteDevices(session, managed);
    }
}
