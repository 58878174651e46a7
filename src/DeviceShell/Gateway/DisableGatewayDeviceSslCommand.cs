using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>DisableSSLMulti: the devices must be connected; each failed device becomes its own error record.</summary>
[Cmdlet(VerbsLifecycle.Disable, "GatewayDeviceSsl", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Disable-GatewayDeviceSsl.md")]
[OutputType(typeof(GatewayDevice))]
public sealed class DisableGatewayDeviceSslCommand : GatewayBatchCmdlet
{
    protected override string Action => "Disable SSL";

    protected override void Apply(GatewaySession session, IReadOnlyList<uint> deviceIds) => SetSsl(session, deviceIds, false);
}
