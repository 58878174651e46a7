using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>
/// SetSlaveDevice: registers the slaves of a connected parent device. The gateway does not store them, so
/// set them again after the parent reconnects.
/// </summary>
[Cmdlet(VerbsCommon.Set, "GatewaySlaveDevice", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Set-GatewaySlaveDevice.md")]
[OutputType(typeof(GatewaySlaveDevice))]
public sealed class SetGatewaySlaveDeviceCommand : GatewayCallCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(GatewayDeviceIdCompleter))]
    public uint[] DeviceId { get; set; } = Array.Empty<uint>();

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyCollection]
    [ArgumentCompleter(typeof(GatewayDeviceIdCompleter))]
    public uint[] Rs485SlaveDeviceId { get; set; } = Array.Empty<uint>();

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyCollection]
    [ArgumentCompleter(typeof(GatewayDeviceIdCompleter))]
    public uint[] WiegandSlaveDeviceId { get; set; } = Array.Empty<uint>();

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var session = ResolveGateway();
        var parents = KeepManaged(session, DeviceId);
        var slaves = parents.Select(id => new GatewaySlaveDevice { DeviceId = id, Rs485SlaveDeviceId = Rs485SlaveDeviceId, WiegandSlaveDeviceId = WiegandSlaveDeviceId }).ToArray();
        if (slaves.Length == 0 || !ShouldProcess(string.Join(", ", parents), "Set slave devices")) return;
        WriteVerbose($"SetSlaveDevice({string.Join("; ", slaves.Select(s => s.ToString()))}).");
        Call(token => session.SetSlaveDevicesAsync(slaves, token, CallTimeout), parents.ToArray());
        if (PassThru) foreach (var slave in slaves) WriteObject(slave);
    }
}
