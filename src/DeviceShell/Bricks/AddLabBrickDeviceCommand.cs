using System.Management.Automation;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Lab;

namespace DeviceShell.Commands;

/// <summary>Plugs a simulated device into the Brick Daemon simulator of a running lab; connected clients get an enumerate CONNECTED callback.</summary>
[Cmdlet(VerbsCommon.Add, "LabBrickDevice", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Add-LabBrickDevice.md")]
[OutputType(typeof(BrickDevice))]
public sealed class AddLabBrickDeviceCommand : DeviceCmdlet
{
    /// <summary>The new devices' UIDs; several plug several devices of the same kind.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Uid { get; set; } = Array.Empty<string>();

    /// <summary>
    /// What kind of device it is, by identifier or name (Get-BrickDeviceType lists them, and its output binds here by its
    /// Identifier); the simulator answers every function of the catalogued types.
    /// </summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("Identifier")]
    [ArgumentCompleter(typeof(BrickDeviceTypeCompleter))]
    [BrickDeviceIdentifierTransformation]
    [ValidateRange(1, 65535)]
    public int DeviceIdentifier { get; set; }

    /// <summary>The Brick it sits on; default: the lab's bottom Master Brick.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(BrickUidCompleter))]
    public string? ConnectedUid { get; set; }

    /// <summary>Port 'a'..'h' (Bricklets) or '0'..'8' (Bricks); default: the first free Bricklet port.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidatePattern("^[a-z0-9]$")]
    public string? Position { get; set; }

    /// <summary>
    /// Lets the device take over a UID that is plugged in already (in the old device's place unless -ConnectedUid or
    /// -Position say otherwise): calls made for the old device type end with BrickDeviceReplaced.
    /// </summary>
    [Parameter]
    public SwitchParameter Replace { get; set; }

    [Parameter]
    public DeviceLab? Lab { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (string uid in Uid) Plug(uid);
    }

    private void Plug(string uid)
    {
        if (!TryRun(() => BrickUid.Parse(uid), uid)) return;
        var lab = LabBrickControl.Resolve(this, Lab);
        if (lab is null || !ShouldProcess(uid, $"{(Replace ? "Replace the device with" : "Plug")} a {BrickDeviceCatalog.DisplayName(DeviceIdentifier)} {(Replace ? "in" : "into")} {lab}")) return;
        var device = new AddBrickDevice(uid, DeviceIdentifier, ConnectedUid, Position?[0], Replace.IsPresent);
        TryRun(() =>
        {
            var plugged = Await(token => lab.Brick.AddDeviceAsync(device, token));
            WriteVerbose($"Plugged {uid} into the lab's Brick Daemon.");
            if (PassThru)
            {
                WriteObject(new BrickDevice(uid, plugged.ConnectedUid, plugged.Position,
                    new Version(1, 0, 0), new Version(2, 0, 0), DeviceIdentifier, BrickEnumerationType.Connected));
            }
        }, uid);
    }
}

/// <summary>Finds the lab whose Brick simulator a Lab cmdlet drives.</summary>
internal static class LabBrickControl
{
    public static DeviceLab? Resolve(DeviceCmdlet cmdlet, DeviceLab? given)
    {
        var lab = given ?? DeviceLab.Running.LastOrDefault(l => l[BrickLabClient.Name] is not null);
        if (lab is null)
        {
            cmdlet.WriteError(ErrorRecords.From(new Engine.Sessions.DeviceException(Engine.Sessions.DeviceErrorKind.NotFound, "LabNotFound",
                "No running lab has a Brick Daemon simulator. Start one with Start-DeviceLab -Brick, or pass -Lab.")));
        }
        return lab;
    }
}
