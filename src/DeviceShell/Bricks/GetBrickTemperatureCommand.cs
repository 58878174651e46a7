using System.Management.Automation;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Reads the temperature of a device that measures one: Temperature Bricklet (1.0 and 2.0), Humidity Bricklet 2.0,
/// or a Master Brick's chip. The device type comes from get_identity first; any other device is WrongDeviceType.
/// </summary>
[Cmdlet(VerbsCommon.Get, "BrickTemperature", HelpUri = HelpLinks.CmdletPages + "Get-BrickTemperature.md")]
[OutputType(typeof(BrickReading))]
public sealed class GetBrickTemperatureCommand : BrickDeviceCmdlet
{
    protected override void ProcessDevice(BrickSession session, string text, uint uid) => TryRun(() =>
    {
        var identity = Await(token => session.GetIdentityAsync(uid, token));
        if (BrickDeviceClient.Create(session, text, identity.DeviceIdentifier) is not IBrickThermometer thermometer)
            throw BrickErrors.Create(DeviceErrorKind.InvalidArgument, "WrongDeviceType",
                $"UID {text} belongs to a {identity.DeviceName}, which has no temperature this command can read.", text);
        double celsius = Await(token => thermometer.GetTemperatureAsync(token));
        WriteObject(new BrickReading(text, identity.DeviceName, "Temperature", celsius, "°C"));
    }, text);
}
