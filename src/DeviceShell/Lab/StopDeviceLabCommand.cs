using System.Management.Automation;
using DeviceShell.Engine.Lab;

namespace DeviceShell.Commands;

/// <summary>Stops labs started with Start-DeviceLab: the one given, else every running one.</summary>
[Cmdlet(VerbsLifecycle.Stop, "DeviceLab", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Stop-DeviceLab.md")]
[OutputType(typeof(DeviceLab))]
public sealed class StopDeviceLabCommand : DeviceCmdlet
{
    /// <summary>One lab (several come one by one from the pipeline); without it, every running lab.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    public DeviceLab? Lab { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var lab in Lab is null ? DeviceLab.Running.ToArray() : new[] { Lab })
        {
            if (!ShouldProcess(lab.ToString(), "Stop")) continue;
            Await(_ => lab.StopAsync(TimeSpan.FromSeconds(10)));
            if (PassThru) WriteObject(lab);
        }
    }
}
