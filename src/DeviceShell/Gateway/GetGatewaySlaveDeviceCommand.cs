using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>GetSlaveDevice: the RS-485 / Wiegand slaves registered for connected parent devices.</summary>
[Cmdlet(VerbsCommon.Get, "GatewaySlaveDevice", HelpUri = HelpLinks.CmdletPages + "Get-GatewaySlaveDevice.md")]
[OutputType(typeof(GatewaySlaveDevice))]
public sealed class GetGatewaySlaveDeviceCommand : GatewayCallCmdlet
{
    protected override void ProcessRecord()
    {
        var session = ResolveGateway();
        WriteVerbose("GetSlaveDevice.");
        foreach (var slave in Call(token => session.GetSlaveDevicesAsync(token, CallTimeout))) WriteObject(slave);
    }
}
