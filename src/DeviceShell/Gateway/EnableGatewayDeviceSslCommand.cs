using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>EnableSSLMulti: the devices must be connected; each failed device becomes its own error record.</summary>
[Cmdlet(VerbsLifecycle.Enable, "GatewayDeviceSsl", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Enable-GatewayDeviceSsl.md")]
[OutputType(typeof(GatewayDevice))]
public sealed class EnableGatewayDeviceSslCommand : GatewayBatchCmdlet
{
    protected override string Action => "Enable SSL";

    protected override void Apply(GatewaySession session, IReadOnlyList<uint> deviceIds) => SetSsl(session, deviceIds, true);
}
