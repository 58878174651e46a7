using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>SetConnectionModeMulti: the devices must be connected; each failed device becomes its own error record.</summary>
[Cmdlet(VerbsCommon.Set, "GatewayConnectionMode", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Set-GatewayConnectionMode.md")]
[OutputType(typeof(GatewayDevice))]
public sealed class SetGatewayConnectionModeCommand : GatewayBatchCmdlet
{
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateSet("ServerToDevice", "DeviceToServer")]
    public string Mode { get; set; } = "ServerToDevice";

    protected override string Action => $"Set connection mode {Mode}";

    protected override void Apply(GatewaySession session, IReadOnlyList<uint> deviceIds)
    {
        var mode = Enum.Parse<GatewayConnectionMode>(Mode, ignoreCase: true);
        WriteVerbose($"SetConnectionModeMulti({string.Join(", ", deviceIds)}, {mode}).");
        WriteDeviceErrors(Call(token => session.SetConnectionModeAsync(deviceIds.ToArray(), mode, token, CallTimeout), deviceIds.ToArray()));
    }
}
