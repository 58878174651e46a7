using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>GetAcceptFilter: which device-to-server devices the gateway admits. Get-AcceptFilter, its first name, is kept as an alias.</summary>
[Cmdlet(VerbsCommon.Get, "GatewayAcceptFilter", HelpUri = HelpLinks.CmdletPages + "Get-GatewayAcceptFilter.md")]
[Alias("Get-AcceptFilter")]
[OutputType(typeof(GatewayAcceptFilter))]
public sealed class GetGatewayAcceptFilterCommand : GatewayCallCmdlet
{
    protected override void ProcessRecord()
    {
        var session = ResolveGateway();
        WriteVerbose("GetAcceptFilter.");
        WriteObject(Call(token => session.GetAcceptFilterAsync(token, CallTimeout)));
    }
}
