using System.Management.Automation;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Reads the temperature of a device that measures one, through the catalogue: the device's GetTemperature in
/// °C (Temperature Bricklets, Humidity Bricklet 2.0, PTC, …), or for a Brick its chip's temperature (a Master
/// Brick's GetChipTemperature). The device type is learned once per session; any other device is WrongDeviceType.
/// </summary>
[Cmdlet(VerbsCommon.Get, "BrickTemperature", HelpUri = HelpLinks.CmdletPages + "Get-BrickTemperature.md")]
[OutputType(typeof(BrickReading))]
public sealed class GetBrickTemperatureCommand : BrickDeviceCmdlet
{
    private const string Celsius = "Degree Celsius";

    protected override void ProcessDevice(BrickSession session, string text, uint uid) => TryRun(() =>
    {
        var type = Await(token => session.GetDeviceTypeAsync(uid, token));
        var getter = new[] { "GetTemperature", type.Category == "Brick" ? "GetChipTemperature" : null }
            .Select(name => name is null ? null : type.Function(name))
            .FirstOrDefault(f => f is { Parameters.Count: 0, Returns: [{ Unit: Celsius }] })
            ?? throw BrickErrors.Create(DeviceErrorKind.InvalidArgument, "WrongDeviceType",
                $"UID {text} belongs to a {type.Name}, which has no temperature this command can read.", text);
        var values = BrickUnits.Readable(getter.Returns, Await(token => session.InvokeAsync(uid, getter, null, null, token)));
        double celsius = Convert.ToDouble(values.Values.Single(), System.Globalization.CultureInfo.InvariantCulture);
        WriteObject(new BrickReading(text, type.Name, "Temperature", celsius, "°C"));
    }, text);
}
