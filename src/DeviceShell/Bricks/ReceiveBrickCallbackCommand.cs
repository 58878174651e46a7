using System.Management.Automation;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>Streams callbacks, enumerate callbacks and connection events of a Brick session as they arrive.</summary>
[Cmdlet(VerbsCommunications.Receive, "BrickCallback", HelpUri = HelpLinks.CmdletPages + "Receive-BrickCallback.md")]
[OutputType(typeof(BrickEvent))]
public sealed class ReceiveBrickCallbackCommand : ReceiveCmdlet
{
    /// <summary>Only events of these devices (connection events have no UID and are then left out).</summary>
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(BrickUidCompleter))]
    public string[]? Uid { get; set; }

    /// <summary>Only callbacks of this function; 0 (the default, never a real function id) means any.</summary>
    [Parameter]
    public byte FunctionId { get; set; }

    [Parameter]
    [ValidateSet("Enumerate", "Connected", "Disconnected", "Callback", IgnoreCase = true)]
    public string[]? Kind { get; set; }

    protected override void EndProcessing()
    {
        var session = ResolveSession<BrickSession>("Brick", "Connect-Brick");
        Receive(session, session.Events, Matches);
    }

    private bool Matches(BrickEvent item) =>
        (Uid is null || Uid.Contains(item.Uid, StringComparer.Ordinal))
        && (FunctionId == 0 || FunctionId == item.FunctionId)
        && (Kind is null || Kind.Contains(item.Kind.ToString(), StringComparer.OrdinalIgnoreCase));
}
