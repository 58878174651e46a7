using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>GetAcceptFilter: which device-to-server devices the gateway admits.</summary>
[Cmdlet(VerbsCommon.Get, "AcceptFilter", HelpUri = HelpLinks.CmdletPages + "Get-AcceptFilter.md")]
[OutputType(typeof(GatewayAcceptFilter))]
public sealed class GetAcceptFilterCommand : GatewayCmdlet
{
    protected override void ProcessRecord()
    {
        var session = ResolveGateway();
        WriteVerbose("GetAcceptFilter.");
        WriteObject(Call(token => session.GetAcceptFilterAsync(token)));
    }
}
