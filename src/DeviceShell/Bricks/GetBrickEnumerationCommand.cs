using System.Management.Automation;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>Broadcasts enumerate and writes every device that answers (one object per UID).</summary>
[Cmdlet(VerbsCommon.Get, "BrickEnumeration", HelpUri = HelpLinks.CmdletPages + "Get-BrickEnumeration.md")]
[OutputType(typeof(BrickDevice))]
public sealed class GetBrickEnumerationCommand : BrickCmdlet
{
    /// <summary>The longest time to collect answers; it ends sooner once answers came and then stopped for a quarter second.</summary>
    [Parameter(Position = 0)]
    [Alias("WaitSec")]
    [ValidateRange(0.05, 3600)]
    public double? TimeoutSec { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var device in Enumerate(ResolveBrickSession(), TimeoutSec ?? 1)) WriteObject(device);
    }
}
