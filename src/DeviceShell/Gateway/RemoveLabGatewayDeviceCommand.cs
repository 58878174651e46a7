using System.Management.Automation;
using DeviceShell.Engine.Lab;

namespace DeviceShell.Commands;

/// <summary>
/// Takes devices off the simulated gateway's subnet (the undo of Add-LabGatewayDevice): a connected device drops
/// (a status change), an async connection keeps retrying until the device is added again.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "LabGatewayDevice", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Remove-LabGatewayDevice.md")]
[OutputType(typeof(DeviceLab))]
public sealed class RemoveLabGatewayDeviceCommand : DeviceCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(GatewayDeviceIdCompleter))]
    public uint[] DeviceId { get; set; } = Array.Empty<uint>();

    /// <summary>The lab to change (default: the newest running one with a gateway simulator).</summary>
    [Parameter]
    public DeviceLab? Lab { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var lab = LabGatewayControl.Resolve(this, Lab);
        foreach (uint id in DeviceId)
        {
            if (!ShouldProcess(id.ToString(System.Globalization.CultureInfo.InvariantCulture), "Remove simulated gateway device")) continue;
            TryRun(() => Await(token => lab.Gateway.RemoveDeviceAsync(id, token)), id);
        }
        if (PassThru) WriteObject(lab);
    }
}
