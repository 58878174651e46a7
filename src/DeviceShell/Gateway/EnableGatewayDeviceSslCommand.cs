using System.Management.Automation;

namespace DeviceShell.Commands;

/// <summary>EnableSSLMulti: the devices must be connected; each failed device becomes its own error record.</summary>
[Cmdlet(VerbsLifecycle.Enable, "GatewayDeviceSsl", SupportsShouldProcess = true)]
[OutputType(typeof(void))]
public sealed class EnableGatewayDeviceSslCommand : GatewaySslCommand
{
    protected override bool Enabled => true;
}
