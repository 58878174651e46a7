using System.Management.Automation;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.PiLink.Gpio;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Reads the button input once (pressed = Low on an input with pull-up), for scripts that push the state themselves
/// (the tutorial's role-swapped client). A line held by a button server of this process is read through that server,
/// since the kernel lets only one request hold a line.
/// </summary>
[Cmdlet(VerbsCommon.Get, "PiButtonState", HelpUri = HelpLinks.CmdletPages + "Get-PiButtonState.md")]
[OutputType(typeof(PiButtonState))]
public sealed class GetPiButtonStateCommand : PiButtonLineCmdlet
{
    [Parameter]
    public SwitchParameter Simulated { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var held = SessionRegistry.Shared.List(DeviceWorld.PiLink).OfType<PiLinkServer>()
                .Select(s => s.Button)
                .LastOrDefault(b => b is not null && b.Chip == Chip && b.Pin == Pin && b.Source.IsSimulated == Simulated);
            if (held is not null)
            {
                WriteVerbose($"Reading {held.Source.Description} through the button server that holds it.");
                WriteObject(held.Read());
                return;
            }
            using var button = PiButton.Open(Chip, Pin, Simulated);
            WriteVerbose($"Reading {button.Source.Description}.");
            WriteObject(button.Read());
        }
        catch (DeviceException ex)
        {
            ThrowFailure(ex);
        }
    }
}
