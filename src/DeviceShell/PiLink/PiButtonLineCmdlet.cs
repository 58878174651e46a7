using System.Management.Automation;
using DeviceShell.Engine.PiLink.Gpio;

namespace DeviceShell.Commands;

/// <summary>Base of the cmdlets that name a button's GPIO line: -Pin (line offset) and -Chip (N of /dev/gpiochipN).</summary>
public abstract class PiButtonLineCmdlet : DeviceCmdlet
{
    /// <summary>The line offset on the chip (BCM numbering on a Raspberry Pi; the tutorial's BOARD pin 24 is 8).</summary>
    [Parameter]
    [ValidateRange(0, 1023)]
    public int Pin { get; set; } = PiButton.DefaultPin;

    /// <summary>N in /dev/gpiochipN.</summary>
    [Parameter]
    [ValidateRange(0, 255)]
    public int Chip { get; set; }
}
