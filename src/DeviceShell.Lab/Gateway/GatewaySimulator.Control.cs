using System.Globalization;
using System.Text.Json.Nodes;
using DeviceType = Gsdk.Device.Type;

namespace DeviceShell.Lab.Gateway;

/// <summary>The Lab control channel of the gateway: add-device, remove-device, and replay-report (null without a replay).</summary>
public sealed partial class GatewaySimulator
{
    public Task<JsonNode?> ControlAsync(string command, JsonObject arguments, CancellationToken cancellationToken)
    {
        if (command == "replay-report") return Task.FromResult<JsonNode?>(_replay?.Report());
        uint id = arguments["deviceId"]?.GetValue<uint>() ?? throw new ArgumentException("deviceId is required.");
        switch (command)
        {
            case "add-device":
                string typeName = arguments["type"]?.GetValue<string>() ?? "BIOENTRY_W2";
                var type = ParseType(typeName);
                string ip = arguments["ipAddress"]?.GetValue<string>() ?? throw new ArgumentException("ipAddress is required.");
                if (!System.Net.IPAddress.TryParse(ip, out _)) throw new ArgumentException($"'{ip}' is not an IP address.");
                var device = AddDevice(id, type, ip, arguments["port"]?.GetValue<int>() ?? 51211, arguments["deviceToServer"]?.GetValue<bool>() ?? false);
                return Task.FromResult<JsonNode?>(new JsonObject { ["deviceId"] = device.Id, ["type"] = ProtoName(device.Type), ["ipAddress"] = device.IPAddress });
            case "remove-device":
                RemoveDevice(id);
                return Task.FromResult<JsonNode?>(null);
            default:
                throw new ArgumentException($"Unknown gateway command '{command}' (known: add-device, remove-device, replay-report).");
        }
    }

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
