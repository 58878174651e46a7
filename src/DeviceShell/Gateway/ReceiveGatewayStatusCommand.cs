using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>
/// Streams status changes from the session's SubscribeStatus stream as they arrive. Gap markers (IsGap)
/// always pass the -DeviceId filter: they say changes may have been missed while the stream was down.
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "GatewayStatus", HelpUri = HelpLinks.CmdletPages + "Receive-GatewayStatus.md")]
[OutputType(typeof(GatewayStatusChange))]
public sealed class ReceiveGatewayStatusCommand : ReceiveCmdlet
{
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(GatewayDeviceIdCompleter))]
    public uint[]? DeviceId { get; set; }

    protected override void ProcessRecord()
    {
        var session = ResolveSession<GatewaySession>("Gateway", "Connect-Gateway");
        Receive(session, session.StatusChanges, change => DeviceId is null || change.IsGap || DeviceId.Contains(change.DeviceId));
    }
}
