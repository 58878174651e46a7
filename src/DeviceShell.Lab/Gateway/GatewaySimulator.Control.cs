using System.Globalization;
using DeviceShell.Engine.Lab;
using DeviceType = Gsdk.Device.Type;

namespace DeviceShell.Lab.Gateway;

/// <summary>The Lab control channel of the gateway: add-device, remove-device, and replay-report (null without a replay).</summary>
public sealed partial class GatewaySimulator
{
    void ILabControllable.AddCommands(LabCommandTable commands) => commands
        .On((AddGatewayDevice command) =>
        {
            var type = ParseType(command.Type);
            if (!System.Net.IPAddress.TryParse(command.IPAddress, out _)) throw new ArgumentException($"'{command.IPAddress}' is not an IP address.");
            var device = AddDevice(command.DeviceId, type, command.IPAddress, command.Port, command.DeviceToServer);
            return new LabGatewayDevice(device.Id, ProtoName(device.Type), device.IPAddress);
        })
        .On((RemoveGatewayDevice command) => RemoveDevice(command.DeviceId));

    public LabReplayReport? ReplayReport() => _replay?.Report();

    /// <summary>The name the gateway's schema gives a type (BIOENTRY_W2), as the Python example prints it.</summary>
    private static string ProtoName(DeviceType type) =>
        typeof(DeviceType).GetField(type.ToString())?.GetCustomAttributes(typeof(Google.Protobuf.Reflection.OriginalNameAttribute), false)
            .OfType<Google.Protobuf.Reflection.OriginalNameAttribute>().FirstOrDefault()?.Name ?? ((int)type).ToString(CultureInfo.InvariantCulture);

    /// <summary>Accepts the proto name (BIOENTRY_W2), the C# name (BioentryW2) or the number.</summary>
    private static DeviceType ParseType(string name)
    {
        if (int.TryParse(name, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number)) return (DeviceType)number;
        var field = typeof(DeviceType).GetFields().FirstOrDefault(f =>
            f.GetCustomAttributes(typeof(Google.Protobuf.Reflection.OriginalNameAttribute), false).OfType<Google.Protobuf.Reflection.OriginalNameAttribute>()
                .Any(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase)) || string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
        return field is not null ? (DeviceType)field.GetValue(null)! : throw new ArgumentException($"Unknown device type '{name}'.");
    }
}
