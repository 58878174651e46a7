using System.Text.Json.Nodes;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Lab;

namespace DeviceShell.Lab.Bricks;

/// <summary>
/// The Lab control commands of the Brick Daemon simulator (the records in DeviceShell.Engine.Lab's LabCommands.cs).
/// </summary>
public sealed partial class BrickDaemonSimulator
{
    void ILabControllable.AddCommands(LabCommandTable commands) => commands
        .On((AddBrickDevice command) => Plug(command))
        .On((RemoveBrickDevice command) =>
        {
            if (!RemoveDevice(ValidUid(command.Uid))) throw new ArgumentException($"There is no device with UID {command.Uid}.");
        })
        .On((ListBrickDevices _) => (IReadOnlyList<LabBrickDevice>)Devices.Select(Describe).ToList())
        .On((PressBrickButton command) => PressButton(command.Uid, command.Pressed))
        .On((SetBrickInput command) => SetInput(command.Uid, command.Name, InputValue(command.Value)))
        .On((SilenceBrickDevice command) => (Find(command.Uid) ?? throw new ArgumentException("There is no such device.")).Silent = command.Silent)
        .On((FloodBrickDevice command) => Flood(ValidUid(command.Uid), command.Count, command.FunctionId ?? FloodFunctionId));

    public LabReplayReport? ReplayReport() => _replay?.Report();

    /// <summary>Plugs the device in where the command says, else where the replaced device was, else the bottom Master Brick's first free port.</summary>
    private LabBrickDevice Plug(AddBrickDevice command)
    {
        string uid = ValidUid(command.Uid);
        var replaced = command.Replace ? Find(uid) : null;
        string connectedUid = command.ConnectedUid ?? replaced?.ConnectedUid ?? Devices.FirstOrDefault(d => d.ConnectedUid == "0")?.Uid ?? "0";
        char position = command.Position ?? replaced?.Position ?? FreePosition(connectedUid);
        var device = SimulatedDevices.Create(command.DeviceIdentifier, uid, connectedUid, position);
        AddDevice(device, command.Replace);
        return Describe(device);
    }

    /// <summary>A UID checked; a bad one is an ArgumentException, which the Lab host reports as a refused command.</summary>
    private static string ValidUid(string uid) =>
        BrickUid.TryParse(uid, out _) ? uid : throw new ArgumentException($"'{uid}' is not a valid base58 UID.");

    /// <summary>A JSON input value as the catalogue's packer takes it: numbers, booleans, text (constant names) or arrays of them.</summary>
    private static object? InputValue(JsonNode? node) => node switch
    {
        null => throw new ArgumentException("set-input needs 'value'."),
        JsonArray array => array.Select(InputValue).ToArray(),
        JsonValue value when value.TryGetValue(out bool flag) => flag,
        JsonValue value when value.TryGetValue(out string? text) => text,
        _ => node.GetValue<double>(),
    };

    private static LabBrickDevice Describe(SimulatedBrickDevice device) =>
        new(device.Uid, device.ConnectedUid, device.Position, device.DeviceIdentifier, BrickDeviceCatalog.DisplayName(device.DeviceIdentifier));
}
