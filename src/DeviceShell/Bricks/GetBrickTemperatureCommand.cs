using System.Management.Automation;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Reads the temperature of a device that measures one: Temperature Bricklet (1.0 and 2.0), Humidity Bricklet 2.0,
/// or a Master Brick's chip. The device type is learned once per session (enumeration or get_identity); any other device is WrongDeviceType.
/// </summary>
[Cmdlet(VerbsCommon.Get, "BrickTemperature", HelpUri = HelpLinks.CmdletPages + "Get-BrickTemperature.md")]
[OutputType(typeof(BrickReading))]
public sealed class GetBrickTemperatureCommand : BrickDeviceCmdlet
{
    protected override void ProcessDevice(BrickSession session, string text, uint uid) => TryRun(() =>
    {
        int identifier = Await(token => session.GetDeviceIdentifierAsync(uid, token));
        string deviceName = BrickDeviceCatalog.DisplayName(identifier);
        if (BrickDeviceClient.Create(session, text, identifier) is not IBrickThermometer thermometer)
            throw BrickErrors.Create(DeviceErrorKind.InvalidArgument, "WrongDeviceType",
                $"UID {text} belongs to a {deviceName}, which has no temperature this command can read.", text);
        double celsius = Await(token => thermometer.GetTemperatureAsync(token));
        WriteObject(new BrickReading(text, deviceName, "Temperature", celsius, "°C"));
    }, text);
}
