using System.Management.Automation;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// What a replaying Lab (Start-DeviceLab -Replay) served so far, one object per recording: how far the client followed
/// it, the requests it did not cover and where the client left the recorded order. Without -Lab the newest running lab.
/// </summary>
[Cmdlet(VerbsCommon.Get, "LabReplayReport", HelpUri = HelpLinks.CmdletPages + "Get-LabReplayReport.md")]
[OutputType(typeof(LabReplayReport))]
public sealed class GetLabReplayReportCommand : DeviceCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true)]
    public DeviceLab? Lab { get; set; }

    [Parameter]
    [ValidateRange(0.1, 600)]
    public double? TimeoutSec { get; set; }

    protected override void ProcessRecord()
    {
        var lab = Lab ?? DeviceLab.Running.LastOrDefault(l => !l.HasExited);
        if (lab is null)
        {
            ThrowFailure(new DeviceException(DeviceErrorKind.NotFound, "LabNotRunning", "No lab is running. Start one with Start-DeviceLab -Replay."));
            return;
        }
        try
        {
            foreach (var report in Await(token => LabReplay.GetReportsAsync(lab, TimeoutSec is double seconds ? TimeSpan.FromSeconds(seconds) : null, token))) WriteObject(report);
        }
        catch (DeviceException ex)
        {
            WriteFailure(ex, lab);
        }
    }
}
