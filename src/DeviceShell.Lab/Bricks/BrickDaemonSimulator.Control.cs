using System.Text.Json.Nodes;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Lab.Bricks;

/// <summary>
/// The Lab control commands of the Brick Daemon simulator.
/// </summary>
public sealed partial class BrickDaemonSimulator
{
    /// <summary>Lab commands: add-device {uid, deviceIdentifier, connectedUid?, position?, replace?}, remove-device {uid}, list-devices, press-button {uid, pressed}, set-input {uid, name, value}, silence-device {uid, silent}, flood {uid, count, functionId?}, replay-report (what the replay saw, null without a replay).</summary>
    public Task<JsonNode?> ControlAsync(string command, JsonObject arguments, CancellationToken cancellationToken)
    {
        JsonNode? result;
        switch (command)
        {
            case "add-device":
                string uid = RequiredUid(arguments);
                int identifier = arguments["deviceIdentifier"]?.GetValue<int>() ?? throw new ArgumentException("add-device needs deviceIdentifier.");
                bool replace = arguments["replace"]?.GetValue<bool>() ?? false;
                var replaced = replace ? Find(uid) : null;
                string connectedUid = arguments["connectedUid"]?.GetValue<string>() ?? replaced?.ConnectedUid ?? Devices.FirstOrDefault(d => d.ConnectedUid == "0")?.Uid ?? "0";
                string positionText = arguments["position"]?.GetValue<string>() ?? replaced?.Position.ToString() ?? FreePosition(connectedUid).ToString();
                if (positionText.Length != 1) throw new ArgumentException("position is one character ('a'..'h' for Bricklets, '0'..'8' for Bricks).");
                var device = SimulatedDevices.Create(identifier, uid, connectedUid, positionText[0]);
                AddDevice(device, replace);
                result = Describe(device);
                break;
            case "remove-device":
                string removed = RequiredUid(arguments);
                if (!RemoveDevice(removed)) throw new ArgumentException($"There is no device with UID {removed}.");
                result = new JsonObject { ["uid"] = removed };
                break;
            case "list-devices":
                result = new JsonArray(Devices.Select(Describe).ToArray<JsonNode?>());
                break;
            case "press-button":
                PressButton(RequiredString(arguments, "uid"), arguments["pressed"]?.GetValue<bool>() ?? true);
                result = null;
                break;
            case "set-input":
                SetInput(RequiredString(arguments, "uid"), RequiredString(arguments, "name"), InputValue(arguments["value"]));
                result = null;
                break;
            case "flood":
                string floodUid = RequiredUid(arguments);
                int floodCount = arguments["count"]?.GetValue<int>() ?? throw new ArgumentException("flood needs 'count'.");
                Flood(floodUid, floodCount, arguments["functionId"]?.GetValue<byte>() ?? FloodFunctionId);
                result = new JsonObject { ["uid"] = floodUid, ["count"] = floodCount };
                break;
            case "silence-device":
                var silenced = Find(RequiredString(arguments, "uid")) ?? throw new ArgumentException("There is no such device.");
                silenced.Silent = arguments["silent"]?.GetValue<bool>() ?? true;
                result = null;
                break;
            case "replay-report":
                result = _replay?.Report();
                break;
            default:
                throw new ArgumentException($"Unknown command '{command}'. Known: add-device, remove-device, list-devices, press-button, set-input, silence-device, flood, replay-report.");
        }
        return Task.FromResult(result);
    }

    /// <summary>The "uid" argument, checked; a bad one is an ArgumentException, which the Lab host reports as a refused command.</summary>
    private static string RequiredUid(JsonObject arguments)
    {
        string uid = RequiredString(arguments, "uid");
        return BrickUid.TryParse(uid, out _) ? uid : throw new ArgumentException($"'{uid}' is not a valid base58 UID.");
    }

    /// <summary>A JSON input value as the catalogue's packer takes it: numbers, booleans, text (constant names) or arrays of them.</summary>
    private static object? InputValue(JsonNode? node) => node switch
    {
        null => throw new ArgumentException("set-input needs 'value'."),
        JsonArray array => array.Select(InputValue).ToArray(),
        JsonValue value when value.TryGetValue(out bool flag) => flag,
        JsonValue value when value.TryGetValue(out string? text) => text,
        _ => node.GetValue<double>(),
    };

    private static string RequiredString(JsonObject arguments, string name) =>
        arguments[name]?.GetValue<string>() ?? throw new ArgumentException($"The command needs '{name}'.");

    private static JsonObject Describe(SimulatedBrickDevice device) => new()
    {
        ["uid"] = device.Uid,
        ["connectedUid"] = device.ConnectedUid,
        ["position"] = device.Position.ToString(),
        ["deviceIdentifier"] = device.DeviceIdentifier,
        ["deviceName"] = BrickDeviceCatalog.DisplayName(device.DeviceIdentifier),
    };
}
