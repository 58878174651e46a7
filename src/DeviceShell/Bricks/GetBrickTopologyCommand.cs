using System.Management.Automation;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>Enumerates and writes the devices as a tree: stacks under the daemon, Bricklets under their Brick, by position.</summary>
[Cmdlet(VerbsCommon.Get, "BrickTopology", HelpUri = HelpLinks.CmdletPages + "Get-BrickTopology.md")]
[OutputType(typeof(BrickNode))]
public sealed class GetBrickTopologyCommand : BrickCmdlet
{
    [Parameter(Position = 0)]
    [Alias("WaitSec")]
    [ValidateRange(0.05, 3600)]
    public double? TimeoutSec { get; set; }

    protected override void ProcessRecord()
    {
        var roots = BrickNode.Build(Enumerate(ResolveBrickSession(), TimeoutSec ?? 1));
        // Every node in tree order, so the default view prints an indented tree; each keeps its Children.
        foreach (var node in BrickNode.Flatten(roots)) WriteObject(node);
    }
}
