using System.Management.Automation;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.PiLink.Gpio;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Presses or releases a simulated button: the simulated line (-Chip, -Pin) when a Start-PiButtonServer -Simulated of
/// this process reads it, and the button of a lab's pibutton simulator (-Lab; without -Lab, -Chip and -Pin the newest
/// running lab that has one). Nothing to press is an error, not a phantom line. Omitted or -Pressed:$false releases.
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
        bool press = Pressed.IsPresent;
        string action = press ? "Press" : "Release";
        string done = press ? "Pressed" : "Released";
        var bound = MyInvocation.BoundParameters;
        bool lineNamed = bound.ContainsKey(nameof(Pin)) || bound.ContainsKey(nameof(Chip));
        var lab = Lab ?? (lineNamed ? null : DeviceLab.Running.LastOrDefault(l => l[PiButtonLabClient.Name] is not null));
        // Only a line that a simulated button server of this process reads is pressed here: any other line belongs to
        // no button, and the caller would believe one changed.
        bool lineServed = SessionRegistry.Shared.List(DeviceWorld.PiLink).OfType<PiLinkServer>()
            .Any(s => s.Button is { Source.IsSimulated: true } b && b.Chip == Chip && b.Pin == Pin);
        if (!lineServed && (lineNamed || lab is null))
        {
            string labHint = lab is null && !lineNamed ? " and no running lab has a pibutton simulator" : "";
            WriteFailure(new DeviceException(DeviceErrorKind.NotFound, "PiButtonNotFound",
                $"No simulated button server of this process reads chip {Chip} line {Pin}{labHint}. " +
                $"Start one with Start-PiButtonServer -Simulated -Chip {Chip} -Pin {Pin}, or name a lab with -Lab.",
                $"chip {Chip} line {Pin}"));
            return;
        }
        var line = lineServed ? SimulatedPinSource.Line(Chip, Pin) : null;
        if (line is not null && ShouldProcess(line.Description, action))
        {
            line.Pressed = press;
            WriteVerbose($"{done} {line.Description}.");
        }
        if (lab is not null && ShouldProcess($"pibutton simulator of {lab}", action)
            && TryRun(() => Await(token => lab.PiButton.SetAsync(press, TimeoutSec is double seconds ? TimeSpan.FromSeconds(seconds) : null, token)), lab))
        {
            WriteVerbose($"{done} the lab's button ({lab}).");
        }
        if (PassThru && line is not null) WriteObject(new PiButton(line, Chip, Pin).Read());
    }
}
