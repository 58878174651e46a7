using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace DeviceShell.Engine.Lab;

/// <summary>
/// A command of the Lab control channel (docs/design/decisions.md §22.2): the record is the command's arguments, its
/// <see cref="CommandName"/> the name on the wire, <typeparamref name="TResult"/> what the simulator answers. Both
/// sides use these records: DeviceLab serialises them onto the Lab host's stdin, the host's dispatcher deserialises
/// them and calls the simulator's handler.
/// </summary>
internal interface ILabCommand<TResult>
{
    static abstract string CommandName { get; }
}

/// <summary>The answer of a command that changes something and reports nothing back.</summary>
internal sealed record LabCommandDone
{
    public static readonly LabCommandDone Value = new();
}

/// <summary>What a replaying simulator saw so far; null from a simulator that serves no recording.</summary>
internal sealed record ReplayReportCommand : ILabCommand<LabReplayReport?>
{
    public static string CommandName => "replay-report";
}

/// <summary>
/// Plugs a device into the Brick Daemon simulator. Without <paramref name="ConnectedUid"/> and
/// <paramref name="Position"/> it goes onto the bottom Master Brick's first free port, or, with
/// <paramref name="Replace"/>, into the place of the device that has the UID now.
/// </summary>
internal sealed record AddBrickDevice(
    [property: JsonRequired] string Uid,
    [property: JsonRequired] int DeviceIdentifier,
    string? ConnectedUid = null,
    char? Position = null,
    bool Replace = false) : ILabCommand<LabBrickDevice>
{
    public static string CommandName => "add-device";
}

internal sealed record RemoveBrickDevice([property: JsonRequired] string Uid) : ILabCommand<LabCommandDone>
{
    public static string CommandName => "remove-device";
}

internal sealed record ListBrickDevices : ILabCommand<IReadOnlyList<LabBrickDevice>>
{
    public static string CommandName => "list-devices";
}

internal sealed record PressBrickButton([property: JsonRequired] string Uid, bool Pressed = true) : ILabCommand<LabCommandDone>
{
    public static string CommandName => "press-button";
}

/// <summary>Sets a reading or input by the name the device's getters use; the value is a number, boolean, text or an array of them.</summary>
internal sealed record SetBrickInput([property: JsonRequired] string Uid, [property: JsonRequired] string Name, [property: JsonRequired] JsonNode? Value) : ILabCommand<LabCommandDone>
{
    public static string CommandName => "set-input";
}

/// <summary>A silent device answers no request (a device that hangs).</summary>
internal sealed record SilenceBrickDevice([property: JsonRequired] string Uid, bool Silent = true) : ILabCommand<LabCommandDone>
{
    public static string CommandName => "silence-device";
}

/// <summary>Sends <paramref name="Count"/> callbacks of one device as fast as the link takes them.</summary>
internal sealed record FloodBrickDevice([property: JsonRequired] string Uid, [property: JsonRequired] int Count, byte? FunctionId = null) : ILabCommand<LabCommandDone>
{
    public static string CommandName => "flood";
}

/// <summary>A device of the Brick Daemon simulator.</summary>
internal sealed record LabBrickDevice(string Uid, string ConnectedUid, char Position, int DeviceIdentifier, string DeviceName);

/// <summary>Puts a device on the gateway simulator's subnet; <paramref name="Type"/> is the proto name, the C# name or the number.</summary>
internal sealed record AddGatewayDevice(
    [property: JsonRequired] uint DeviceId,
    [property: JsonRequired] string IPAddress,
    string Type = "BIOENTRY_W2",
    int Port = 51211,
    bool DeviceToServer = false) : ILabCommand<LabGatewayDevice>
{
    public static string CommandName => "add-device";
}

internal sealed record RemoveGatewayDevice([property: JsonRequired] uint DeviceId) : ILabCommand<LabCommandDone>
{
    public static string CommandName => "remove-device";
}

/// <summary>A device on the gateway simulator's subnet; <paramref name="Type"/> is its proto name.</summary>
internal sealed record LabGatewayDevice(uint DeviceId, string Type, string IPAddress);

internal sealed record PressPiButton : ILabCommand<LabPiButtonState>
{
    public static string CommandName => "press";
}

internal sealed record ReleasePiButton : ILabCommand<LabPiButtonState>
{
    public static string CommandName => "release";
}

internal sealed record SetPiButton([property: JsonRequired] bool Pressed) : ILabCommand<LabPiButtonState>
{
    public static string CommandName => "set";
}

internal sealed record GetPiButtonState : ILabCommand<LabPiButtonState>
{
    public static string CommandName => "state";
}

/// <summary>The Pi button simulator's button after a command.</summary>
internal sealed record LabPiButtonState(bool Pressed, int Pin);

internal sealed record ListWebifiSessions : ILabCommand<IReadOnlyList<LabWebifiSession>>
{
    public static string CommandName => "sessions";
}

/// <summary>Ends every session as an expiry would (their clients get error 12 and log in again); answers how many.</summary>
internal sealed record ExpireWebifiSessions : ILabCommand<int>
{
    public static string CommandName => "expire-sessions";
}

/// <summary>A session logged in to the Webifi relay.</summary>
internal sealed record LabWebifiSession(int SessionId, string ConnectName, IReadOnlyList<string> Networks, int Queued, long Dropped);

/// <summary>
/// The control channel's JSON: camelCase names, enums by name, as the lines on the Lab host's stdin and stdout have
/// always been written. Generated at build time, so neither side reflects over the records.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(LabCommandDone))]
[JsonSerializable(typeof(ReplayReportCommand))]
[JsonSerializable(typeof(LabReplayReport))]
[JsonSerializable(typeof(AddBrickDevice))]
[JsonSerializable(typeof(RemoveBrickDevice))]
[JsonSerializable(typeof(ListBrickDevices))]
[JsonSerializable(typeof(PressBrickButton))]
[JsonSerializable(typeof(SetBrickInput))]
[JsonSerializable(typeof(SilenceBrickDevice))]
[JsonSerializable(typeof(FloodBrickDevice))]
[JsonSerializable(typeof(LabBrickDevice))]
[JsonSerializable(typeof(IReadOnlyList<LabBrickDevice>))]
[JsonSerializable(typeof(AddGatewayDevice))]
[JsonSerializable(typeof(RemoveGatewayDevice))]
[JsonSerializable(typeof(LabGatewayDevice))]
[JsonSerializable(typeof(PressPiButton))]
[JsonSerializable(typeof(ReleasePiButton))]
[JsonSerializable(typeof(SetPiButton))]
[JsonSerializable(typeof(GetPiButtonState))]
[JsonSerializable(typeof(LabPiButtonState))]
[JsonSerializable(typeof(ListWebifiSessions))]
[JsonSerializable(typeof(ExpireWebifiSessions))]
[JsonSerializable(typeof(LabWebifiSession))]
[JsonSerializable(typeof(IReadOnlyList<LabWebifiSession>))]
[JsonSerializable(typeof(int))]
internal sealed partial class LabCommandJson : JsonSerializerContext
{
    /// <summary>The generated contract of <typeparamref name="T"/>; every command and result type is listed above.</summary>
    public static System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> Contract<T>() =>
        (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)(Default.GetTypeInfo(typeof(T))
            ?? throw new InvalidOperationException($"{typeof(T).Name} is not a Lab control type; list it on LabCommandJson."));
}
