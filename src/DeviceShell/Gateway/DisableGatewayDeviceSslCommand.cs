using System.Management.Automation;

namespace DeviceShell.Commands;

/// <summary>DisableSSLMulti: the devices must be connected; each failed device becomes its own error record.</summary>
[Cmdlet(VerbsLifecycle.Disable, "GatewayDeviceSsl", SupportsShouldProcess = true)]
[OutputType(typeof(void))]
public sealed class DisableGatewayDeviceSslCommand : GatewaySslCommand
{
    protected override bool Enabled => false;
}
