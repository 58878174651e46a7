using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>
/// SetAcceptFilter. -AllowAll admits every device (-AllowAll:$false admits none, the gateway's default);
/// -DeviceId replaces the list, with -Add / -Remove it edits the current list (read-modify-write, as the
/// tutorial's accept menu does). Pipeline input (Get-GatewayPendingDevice) is collected and sent once.
/// Set-AcceptFilter, its first name, is kept as an alias.
/// </summary>
[Cmdlet(VerbsCommon.Set, "GatewayAcceptFilter", SupportsShouldProcess = true, DefaultParameterSetName = "DeviceId", HelpUri = HelpLinks.CmdletPages + "Set-GatewayAcceptFilter.md")]
[Alias("Set-AcceptFilter")]
[OutputType(typeof(GatewayAcceptFilter))]
public sealed class SetGatewayAcceptFilterCommand : GatewayCallCmdlet
{
    private readonly List<uint> _ids = new();

    [Parameter(Mandatory = true, ParameterSetName = "AllowAll")]
    public SwitchParameter AllowAll { get; set; }

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "DeviceId", ValueFromPipelineByPropertyName = true)]
    [AllowEmptyCollection]
    [ArgumentCompleter(typeof(GatewayDeviceIdCompleter))]
    public uint[] DeviceId { get; set; } = Array.Empty<uint>();

    [Parameter(ParameterSetName = "DeviceId")]
    public SwitchParameter Add { get; set; }

    [Parameter(ParameterSetName = "DeviceId")]
    public SwitchParameter Remove { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => _ids.AddRange(DeviceId);

    protected override void EndProcessing()
    {
        if (Add && Remove)
            ThrowFailure(new ArgumentException("Give -Add or -Remove, not both."), _ids.ToArray());
        var session = ResolveGateway();
        GatewayAcceptFilter filter;
        string action;
        if (ParameterSetName == "AllowAll")
        {
            filter = new GatewayAcceptFilter { AllowAll = AllowAll };
            action = AllowAll ? "Allow all devices" : "Allow no device";
        }
        else if (Add || Remove)
        {
            // Only the device ids change: the filter's IP addresses and subnet masks stay as they are.
            var current = Call(token => session.GetAcceptFilterAsync(token, CallTimeout));
            var ids = Add ? current.DeviceId.Union(_ids) : current.DeviceId.Except(_ids);
            filter = new GatewayAcceptFilter { DeviceId = ids.ToArray(), IPAddress = current.IPAddress, SubnetMask = current.SubnetMask };
            action = (Add ? "Add " : "Remove ") + string.Join(", ", _ids);
        }
        else
        {
            filter = new GatewayAcceptFilter { DeviceId = _ids.Distinct().ToArray() };
            action = "Allow only " + (_ids.Count == 0 ? "no device" : string.Join(", ", _ids));
        }
        if (!ShouldProcess($"accept filter of {session.Endpoint}", action)) return;
        WriteVerbose($"SetAcceptFilter(allowAll = {filter.AllowAll}, deviceIDs = [{string.Join(", ", filter.DeviceId)}]).");
        Call(token => session.SetAcceptFilterAsync(filter, token, CallTimeout));
        if (PassThru) WriteObject(Call(token => session.GetAcceptFilterAsync(token, CallTimeout)));
    }
}
