using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>Connect (synchronous): the gateway connects to each address now and reports the device; failures are per address.</summary>
[Cmdlet(VerbsCommunications.Connect, "GatewayDevice", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Connect-GatewayDevice.md")]
[OutputType(typeof(GatewayDevice))]
public sealed class ConnectGatewayDeviceCommand : GatewayCallCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] IPAddress { get; set; } = Array.Empty<string>();

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = 51211;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter UseSsl { get; set; }

    protected override void ProcessRecord()
    {
        var session = ResolveGateway();
        foreach (string address in IPAddress)
        {
            string target = $"{address}:{Port}";
            if (!ShouldProcess(target, "Connect the gateway to the device")) continue;
            WriteVerbose($"Connect({target}, useSSL = {UseSsl.IsPresent}).");
            TryRun(() =>
            {
                uint id = Await(token => session.ConnectDeviceAsync(address, Port, UseSsl, token, CallTimeout));
                var device = Await(token => session.GetDevicesAsync(token, CallTimeout)).FirstOrDefault(d => d.DeviceId == id);
                if (device is not null) WriteObject(device);
            }, target);
        }
    }
}
