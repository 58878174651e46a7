using System.Management.Automation;
using DeviceShell.Engine.Lab;

namespace DeviceShell.Commands;

/// <summary>
/// Puts devices on the simulated gateway's subnet of a lab started with Start-DeviceLab -Gateway (or brings a
/// removed one back, so its async connection reconnects). -DeviceId and -IPAddress pair up by position.
/// </summary>
[Cmdlet(VerbsCommon.Add, "LabGatewayDevice", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Add-LabGatewayDevice.md")]
[OutputType(typeof(DeviceLab))]
public sealed class AddLabGatewayDeviceCommand : DeviceCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(GatewayDeviceIdCompleter))]
    public uint[] DeviceId { get; set; } = Array.Empty<uint>();

    /// <summary>The device model: the G-SDK name (BIOENTRY_W2), DeviceShell's name (BioentryW2) or the number.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Type { get; set; } = "BIOENTRY_W2";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] IPAddress { get; set; } = Array.Empty<string>();

    [Parameter]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = 51211;

    /// <summary>The device connects to the gateway itself; it lands in the pending list until the accept filter admits it.</summary>
    [Parameter]
    public SwitchParameter DeviceToServer { get; set; }

    /// <summary>The lab to change (default: the newest running one).</summary>
    [Parameter]
    public DeviceLab? Lab { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var lab = LabGatewayControl.Resolve(this, Lab);
        IReadOnlyList<(uint DeviceId, string IPAddress)> devices = Array.Empty<(uint, string)>();
        if (!TryRun(() => devices = DeviceAddressPairs.Pair(DeviceId, IPAddress), DeviceId)) return;
        foreach (var (id, address) in devices)
        {
            if (!ShouldProcess($"{id} ({Type}, {address})", "Add simulated gateway device")) continue;
            var device = new AddGatewayDevice(id, address, Type, Port, DeviceToServer.IsPresent);
            TryRun(() => Await(token => lab.Gateway.AddDeviceAsync(device, token)), id);
        }
        if (PassThru) WriteObject(lab);
    }
}

/// <summary>Finds the lab whose gateway simulator a Lab cmdlet drives; stops the command when there is none.</summary>
internal static class LabGatewayControl
{
    public static DeviceLab Resolve(DeviceCmdlet cmdlet, DeviceLab? given)
    {
        var lab = given ?? DeviceLab.Running.LastOrDefault(l => l[GatewayLabClient.Name] is not null);
        if (lab is null)
        {
            cmdlet.ThrowTerminatingError(ErrorRecords.From(new Engine.Sessions.DeviceException(Engine.Sessions.DeviceErrorKind.NotFound, "LabNotFound",
                "No running lab has a gateway simulator. Start one with Start-DeviceLab -Gateway, or pass -Lab.")));
        }
        return lab!;
    }
}
