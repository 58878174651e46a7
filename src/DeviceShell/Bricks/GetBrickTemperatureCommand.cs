using System.Management.Automation;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Reads the temperature of a device that measures one: Temperature Bricklet (1.0 and 2.0), Humidity Bricklet 2.0,
/// or a Master Brick's chip. The device type comes from get_identity first; any other device is WrongDeviceType.
/// </summary>
[Cmdlet(VerbsCommon.Get, "BrickTemperature")]
[OutputType(typeof(BrickReading))]
public sealed class GetBrickTemperatureCommand : BrickCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(BrickUidCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Uid { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        var session = ResolveBrickSession();
        foreach (string uid in Uid)
        {
            if (ParseUid(uid) is not uint value) continue;
            TryRun(() =>
            {
                var identity = Await(token => session.GetIdentityAsync(value, token));
                if (BrickDeviceClient.Create(session, uid, identity.DeviceIdentifier) is not IBrickThermometer thermometer)
                    throw new DeviceException(DeviceErrorKind.InvalidArgument, "WrongDeviceType",
                        $"UID {uid} belongs to a {identity.DeviceName}, which has no temperature this command can read.", uid);
                double celsius = Await(token => thermometer.GetTemperatureAsync(token));
                WriteObject(new BrickReading(uid, identity.DeviceName, "Temperature", celsius, "°C"));
            }, uid);
        }
    }
}
