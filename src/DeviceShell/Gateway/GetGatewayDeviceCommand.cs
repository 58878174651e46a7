using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>GetDeviceList: the devices the gateway manages, optionally only some ids or only async connections.</summary>
[Cmdlet(VerbsCommon.Get, "GatewayDevice", HelpUri = HelpLinks.CmdletPages + "Get-GatewayDevice.md")]
[OutputType(typeof(GatewayDevice))]
public sealed class GetGatewayDeviceCommand : GatewayCallCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(GatewayDeviceIdCompleter))]
    public uint[]? DeviceId { get; set; }

    /// <summary>Only devices added with Add-GatewayAsyncConnection (AutoReconnect), as the tutorial's async menu lists them.</summary>
    [Parameter]
    public SwitchParameter AsyncOnly { get; set; }

    protected override void ProcessRecord()
    {
        var session = ResolveGateway();
        WriteVerbose("GetDeviceList.");
        var devices = Call(token => session.GetDevicesAsync(token, CallTimeout));
        foreach (var device in devices.Where(d => (DeviceId is null || DeviceId.Contains(d.DeviceId)) && (!AsyncOnly || d.AutoReconnect)))
            WriteObject(device);
        foreach (uint missing in DeviceId?.Where(id => devices.All(d => d.DeviceId != id)) ?? Enumerable.Empty<uint>())
            WriteFailure(GatewayErrors.DeviceNotManaged(missing));
    }
}
