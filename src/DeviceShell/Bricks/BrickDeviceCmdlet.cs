using System.Management.Automation;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>
/// Base of the Brick cmdlets that act on devices named by UID: one -Uid parameter (several UIDs, or one per
/// pipeline object from Get-BrickEnumeration), each parsed and handled on its own so one bad UID spoils nothing else.
/// </summary>
public abstract class BrickDeviceCmdlet : BrickCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(BrickUidCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Uid { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        var session = ResolveBrickSession();
        foreach (string text in Uid)
        {
            if (ParseUid(text) is uint uid) ProcessDevice(session, text, uid);
        }
    }

    /// <summary>Handles one device; <paramref name="text"/> is the UID as given, <paramref name="uid"/> its number.</summary>
    protected abstract void ProcessDevice(BrickSession session, string text, uint uid);
}
