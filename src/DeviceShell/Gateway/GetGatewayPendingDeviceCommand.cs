using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>GetPendingList: device-to-server devices that tried to connect but are not in the accept filter.</summary>
[Cmdlet(VerbsCommon.Get, "GatewayPendingDevice", HelpUri = HelpLinks.CmdletPages + "Get-GatewayPendingDevice.md")]
[OutputType(typeof(GatewayPendingDevice))]
public sealed class GetGatewayPendingDeviceCommand : GatewayCallCmdlet
{
    protected override void ProcessRecord()
    {
        var session = ResolveGateway();
        WriteVerbose("GetPendingList.");
        foreach (var device in Call(token => session.GetPendingDevicesAsync(token, CallTimeout))) WriteObject(device);
    }
}
