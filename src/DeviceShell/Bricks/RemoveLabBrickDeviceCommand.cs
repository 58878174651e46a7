using System.Management.Automation;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Lab;

namespace DeviceShell.Commands;

/// <summary>Unplugs a simulated device from the lab's Brick Daemon simulator; connected clients get an enumerate DISCONNECTED callback.</summary>
[Cmdlet(VerbsCommon.Remove, "LabBrickDevice", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Remove-LabBrickDevice.md")]
[OutputType(typeof(BrickDevice))]
public sealed class RemoveLabBrickDeviceCommand : DeviceCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(BrickUidCompleter))]
    public string[] Uid { get; set; } = Array.Empty<string>();

    [Parameter]
    public DeviceLab? Lab { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var lab = LabBrickControl.Resolve(this, Lab);
        if (lab is null) return;
        foreach (string uid in Uid)
        {
            if (!ShouldProcess(uid, $"Unplug from {lab}")) continue;
            TryRun(() =>
            {
                Await(token => lab.Brick.RemoveDeviceAsync(uid, token));
                WriteVerbose($"Unplugged {uid}.");
                if (PassThru) WriteObject(new BrickDevice(uid, "", '\0', new Version(0, 0, 0), new Version(0, 0, 0), 0, BrickEnumerationType.Disconnected));
            }, uid);
        }
    }
}
