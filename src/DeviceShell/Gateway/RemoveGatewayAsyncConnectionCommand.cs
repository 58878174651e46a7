using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>DeleteAsyncConnection: the gateway stops managing the devices (disconnecting them first).</summary>
[Cmdlet(VerbsCommon.Remove, "GatewayAsyncConnection", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Remove-GatewayAsyncConnection.md")]
[OutputType(typeof(GatewayDevice))]
public sealed class RemoveGatewayAsyncConnectionCommand : GatewayBatchCmdlet
{
    protected override string Action => "Remove async connection";

    protected override void Apply(GatewaySession session, IReadOnlyList<uint> deviceIds)
    {
        WriteVerbose($"DeleteAsyncConnection({string.Join(", ", deviceIds)}).");
        Call(token => session.DeleteAsyncConnectionsAsync(deviceIds, token, CallTimeout), deviceIds.ToArray());
    }
}
