using System.Management.Automation;
using System.Text.Json.Nodes;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.PiLink.Gpio;

namespace DeviceShell.Commands;

/// <summary>
/// Presses or releases a simulated button: the simulated line (-Chip, -Pin) read by Start-PiButtonServer -Simulated and
/// Get-PiButtonState -Simulated in this process, and also the button of a lab's pibutton simulator (-Lab, default the
/// newest running lab that has one). Omitted or -Pressed:$false releases.
/// </summary>
[Cmdlet(VerbsCommon.Set, "PiButtonState", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Set-PiButtonState.md")]
[OutputType(typeof(PiButtonState))]
public sealed class SetPiButtonStateCommand : PiButtonLineCmdlet
{
    [Parameter]
    public SwitchParameter Pressed { get; set; }

    [Parameter]
    public DeviceLab? Lab { get; set; }

    [Parameter]
    [ValidateRange(0.1, 600)]
    public double? TimeoutSec { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        string action = Pressed ? "Press" : "Release";
        var line = SimulatedPinSource.Line(Chip, Pin);
        if (ShouldProcess(line.Description, action))
        {
            line.Pressed = Pressed;
            WriteVerbose($"{action}d {line.Description}.");
        }
        var lab = Lab ?? DeviceLab.Running.LastOrDefault(l => l["pibutton"] is not null);
        if (lab is not null && ShouldProcess($"pibutton simulator of {lab}", action))
        {
            TryRun(() => Await(token => lab.ControlAsync("pibutton", "set", new JsonObject { ["pressed"] = Pressed.IsPresent }, TimeSpan.FromSeconds(TimeoutSec ?? 10), token)), lab);
            WriteVerbose($"{action}d the lab's button ({lab}).");
        }
        if (PassThru) WriteObject(new PiButton(line, Chip, Pin).Read());
    }
}
