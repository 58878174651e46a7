using System.Buffers.Binary;

namespace DeviceShell.Engine.Bricks;

/// <summary>Why a device announced itself in an enumerate callback (docs/design/bricks-tfp.md §5).</summary>
public enum BrickEnumerationType
{
    /// <summary>Answer to an enumerate request.</summary>
    Available = 0,
    /// <summary>The device just came up (it may have lost its configuration).</summary>
    Connected = 1,
    /// <summary>The device went away; only the UID is meaningful.</summary>
    Disconnected = 2,
}

/// <summary>Connection state as the official IP Connection reports it.</summary>
public enum BrickConnectionState
{
    /// <summary>No link, and none is being sought.</summary>
    Disconnected = 0,
    /// <summary>The link is up.</summary>
    Connected = 1,
    /// <summary>Auto-reconnect is trying to get the connection back.</summary>
    Pending = 2,
}

/// <summary>Why a Connected event was raised (the bindings' CONNECT_REASON_*).</summary>
public enum BrickConnectReason
{
    /// <summary>The user connected.</summary>
    Request = 0,
    /// <summary>Auto-reconnect got the lost link back.</summary>
    AutoReconnect = 1,
}

/// <summary>Why a Disconnected event was raised (the bindings' DISCONNECT_REASON_*).</summary>
public enum BrickDisconnectReason
{
    /// <summary>The user disconnected or closed the session.</summary>
    Request = 0,
    /// <summary>The link failed: a read or write error, or a write stalled because the daemon stopped reading.</summary>
    Error = 1,
    /// <summary>The daemon closed the connection.</summary>
    Shutdown = 2,
}

/// <summary>What a <see cref="BrickEvent"/> reports.</summary>
public enum BrickEventKind
{
    /// <summary>An enumerate callback: a device announced itself (<see cref="BrickEvent.Device"/>).</summary>
    Enumerate,
    /// <summary>The session's link came up (<see cref="BrickEvent.Reason"/> says why).</summary>
    Connected,
    /// <summary>The session's link went down (<see cref="BrickEvent.Reason"/> says why).</summary>
    Disconnected,
    /// <summary>A callback a device sent on its own (<see cref="BrickEvent.Name"/> and values when the device type is known).</summary>
    Callback,
}

/// <summary>A device as an enumerate callback or get_identity describes it.</summary>
public sealed class BrickDevice
{
    /// <summary>Describes one device.</summary>
    /// <param name="uid">The device's base58 UID.</param>
    /// <param name="connectedUid">The UID of the device it is connected to (see <see cref="ConnectedUid"/>).</param>
    /// <param name="position">Where it sits (see <see cref="Position"/>).</param>
    /// <param name="hardwareVersion">Hardware version, major.minor.revision.</param>
    /// <param name="firmwareVersion">Firmware version, major.minor.revision.</param>
    /// <param name="deviceIdentifier">The device identifier of its type in <see cref="BrickDeviceCatalog"/>.</param>
    /// <param name="enumerationType">Why it announced itself; null for a get_identity answer.</param>
    public BrickDevice(string uid, string connectedUid, char position, Version hardwareVersion, Version firmwareVersion, int deviceIdentifier, BrickEnumerationType? enumerationType)
    {
        Uid = uid;
        ConnectedUid = connectedUid;
        Position = position;
        HardwareVersion = hardwareVersion;
        FirmwareVersion = firmwareVersion;
        DeviceIdentifier = deviceIdentifier;
        EnumerationType = enumerationType;
    }

    /// <summary>The device's base58 UID, e.g. "Z7K".</summary>
    public string Uid { get; }

    /// <summary>The Brick a Bricklet sits on, the bottom Master of a stack, or "0" for the bottom Master itself.</summary>
    public string ConnectedUid { get; }

    /// <summary>'0'..'8' for Bricks in a stack, 'a'..'h' (or 'z') for Bricklet ports, 'i' for a HAT.</summary>
    public char Position { get; }

    /// <summary>Hardware version, major.minor.revision.</summary>
    public Version HardwareVersion { get; }

    /// <summary>Firmware version, major.minor.revision.</summary>
    public Version FirmwareVersion { get; }

    /// <summary>The device identifier of its type (e.g. 2113); <see cref="BrickDeviceCatalog.Find(int)"/> gives the type.</summary>
    public int DeviceIdentifier { get; }

    /// <summary>The type's display name, or "Unknown Device [n]" for an identifier the catalogue does not know.</summary>
    public string DeviceName => BrickDeviceCatalog.DisplayName(DeviceIdentifier);

    /// <summary>Null for get_identity answers.</summary>
    public BrickEnumerationType? EnumerationType { get; }

    /// <summary>The session that saw the device, so <c>Get-BrickEnumeration -Session $s | Get-BrickIdentity</c> stays on that session.</summary>
    public BrickSession? Session { get; init; }

    /// <summary>The 25 identity bytes shared by get_identity responses and enumerate callbacks.</summary>
    public const int IdentityLength = 25;

    /// <summary>Reads the 25-byte identity (or the 26-byte enumerate callback payload, which adds the enumeration type).</summary>
    internal static BrickDevice FromPayload(ReadOnlySpan<byte> payload, BrickSession? session = null)
    {
        BrickEnumerationType? type = payload.Length > IdentityLength ? (BrickEnumerationType)payload[IdentityLength] : null;
        return new BrickDevice(
            BrickUid.ReadField(payload[..8]),
            BrickUid.ReadField(payload[8..16]),
            (char)payload[16],
            new Version(payload[17], payload[18], payload[19]),
            new Version(payload[20], payload[21], payload[22]),
            BinaryPrimitives.ReadUInt16LittleEndian(payload[23..]),
            type) { Session = session };
    }

    /// <summary>The identity payload; with <paramref name="type"/> the 26-byte enumerate callback payload.</summary>
    public byte[] ToPayload(BrickEnumerationType? type)
    {
        var payload = new byte[type is null ? IdentityLength : IdentityLength + 1];
        BrickUid.WriteField(payload.AsSpan(0, 8), Uid);
        BrickUid.WriteField(payload.AsSpan(8, 8), ConnectedUid);
        payload[16] = (byte)Position;
        WriteVersion(payload.AsSpan(17), HardwareVersion);
        WriteVersion(payload.AsSpan(20), FirmwareVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(23), (ushort)DeviceIdentifier);
        if (type is not null) payload[IdentityLength] = (byte)type.Value;
        return payload;
    }

    private static void WriteVersion(Span<byte> target, Version version)
    {
        target[0] = (byte)version.Major;
        target[1] = (byte)version.Minor;
        target[2] = (byte)Math.Max(0, version.Build);
    }

    /// <summary>The device name and UID, e.g. "Temperature Bricklet 2.0 Z7K".</summary>
    public override string ToString() => $"{DeviceName} {Uid}";
}

/// <summary>The answer to one request (Invoke-BrickFunction).</summary>
public sealed class BrickResponse
{
    /// <summary>Wraps one response.</summary>
    /// <param name="uid">The UID the request went to.</param>
    /// <param name="functionId">The function id of the request.</param>
    /// <param name="errorCode">The error code of the response header (see <see cref="ErrorCode"/>).</param>
    /// <param name="payload">The response payload, unparsed.</param>
    public BrickResponse(string uid, byte functionId, byte errorCode, byte[] payload)
    {
        Uid = uid;
        FunctionId = functionId;
        ErrorCode = errorCode;
        Payload = payload;
    }

    /// <summary>The UID the request went to.</summary>
    public string Uid { get; }

    /// <summary>The function id of the request.</summary>
    public byte FunctionId { get; }

    /// <summary>0 OK, 1 invalid parameter, 2 function not supported, 3 unknown.</summary>
    public byte ErrorCode { get; }

    /// <summary>The response payload as it came over the wire (little-endian, unparsed).</summary>
    public byte[] Payload { get; }

    /// <summary><see cref="Payload"/> as upper-case hex, for display.</summary>
    public string PayloadHex => Convert.ToHexString(Payload);

    /// <summary>UID, function id and payload hex, e.g. "Z7K fid 1: 2909".</summary>
    public override string ToString() => $"{Uid} fid {FunctionId}: {PayloadHex}";
}

/// <summary>A callback, an enumerate callback or a connection change, in the order the session saw them.</summary>
public sealed class BrickEvent : EventArgs
{
    /// <summary>What an event costs in memory besides its payload (the object, its lazy decoder, the UID text), for the buffer's byte bound.</summary>
    public const int Overhead = 256;

    /// <summary>Creates an event the session posts to its event buffer.</summary>
    /// <param name="session">The session that received it (null only in tests).</param>
    /// <param name="kind">What the event reports.</param>
    /// <param name="uid">The device's UID; null for connection events.</param>
    /// <param name="functionId">The callback's function id; 0 for other events.</param>
    /// <param name="payload">The callback's payload; empty for connection events.</param>
    /// <param name="device">The announced device, for enumerate callbacks.</param>
    /// <param name="reason">For connection events: why (a connect or disconnect reason's name).</param>
    internal BrickEvent(BrickSession? session, BrickEventKind kind, string? uid, byte functionId, byte[] payload, BrickDevice? device, string? reason)
    {
        Session = session;
        Kind = kind;
        Uid = uid;
        FunctionId = functionId;
        Payload = payload;
        Device = device;
        Reason = reason;
        ReceivedAt = DateTime.Now;
        _decoded = new Lazy<BrickDecodedCallback?>(() => Session?.DecodeCallback(this));
    }

    /// <summary>
    /// A high-level callback reassembled from the chunks of its low-level callback (the chunks' payloads one after
    /// another are its <see cref="Payload"/>); its values are already decoded.
    /// </summary>
    internal BrickEvent(BrickSession session, string uid, BrickDecodedCallback whole, byte[] chunkPayloads)
        : this(session, BrickEventKind.Callback, uid, whole.Callback.Id, chunkPayloads, null, null)
    {
        _decoded = new Lazy<BrickDecodedCallback?>(whole);
    }

    /// <summary>Decoded on first use, so a callback that arrived before its device type was learned still decodes once it is.</summary>
    private readonly Lazy<BrickDecodedCallback?> _decoded;

    /// <summary>The session the event came from (binds to -Session down the pipeline).</summary>
    public BrickSession? Session { get; }

    /// <summary>The <see cref="Sessions.DeviceSession.Id"/> of the session it came from; 0 when it has none.</summary>
    public int SessionId => Session?.Id ?? 0;

    /// <summary>What the event reports: a callback, an enumerate callback or a connection change.</summary>
    public BrickEventKind Kind { get; }

    /// <summary>The device the callback came from; null for connection events.</summary>
    public string? Uid { get; }

    /// <summary>The callback's function id (0 for connection events).</summary>
    public byte FunctionId { get; }

    /// <summary>The callback's payload as it came over the wire; empty for connection events.</summary>
    public byte[] Payload { get; }

    /// <summary>For enumerate callbacks: the device that announced itself.</summary>
    public BrickDevice? Device { get; }

    /// <summary>For connection events: Request, AutoReconnect, Error or Shutdown.</summary>
    public string? Reason { get; }

    /// <summary>When the session received it (local time).</summary>
    public DateTime ReceivedAt { get; }

    /// <summary><see cref="Payload"/> as upper-case hex, for display.</summary>
    public string PayloadHex => Convert.ToHexString(Payload);

    /// <summary>For callbacks of a device type the session knows: the callback's name in the catalogue (Temperature, ButtonStateChanged).</summary>
    public string? Name => _decoded.Value?.Callback.Name;

    /// <summary>
    /// For callbacks of a device type the session knows: the named values in the unit a person reads, as a dictionary
    /// PowerShell reads with dots (<c>$_.Values.Temperature</c> is 23.45 °C); constants by name where the catalogue has
    /// one. Null otherwise; Payload stays raw.
    /// </summary>
    public System.Collections.Specialized.OrderedDictionary? Values =>
        _decoded.Value is { } decoded ? BrickUnits.Readable(decoded.Callback.Values, decoded.Values).ToDictionary(decoded.Callback.Values) : null;

    /// <summary>The named values as the integers the bindings deliver (<c>$_.RawValues.Temperature</c> is 2345).</summary>
    public System.Collections.Specialized.OrderedDictionary? RawValues => _decoded.Value?.Values.ToDictionary(_decoded.Value.Callback.Values);

    /// <summary>The callback's name, UID and values when decoded, else its function id and payload hex; the kind and reason for other events.</summary>
    public override string ToString() => Kind switch
    {
        BrickEventKind.Callback when Name is not null => $"{Name} {Uid}: {_decoded.Value!.Values}",
        BrickEventKind.Callback => $"Callback {Uid} fid {FunctionId}: {PayloadHex}",
        BrickEventKind.Enumerate => $"Enumerate {Device?.EnumerationType} {Device}",
        _ => $"{Kind} ({Reason})",
    };
}

/// <summary>A device placed in its stack: Bricks under the daemon, Bricklets under their Brick (Get-BrickTopology).</summary>
public sealed class BrickNode
{
    /// <summary>Places one device in the tree (built by <see cref="Build"/>).</summary>
    /// <param name="device">The device.</param>
    /// <param name="depth">0 for a root, one more per level below.</param>
    /// <param name="children">The devices connected to it.</param>
    internal BrickNode(BrickDevice device, int depth, IReadOnlyList<BrickNode> children)
    {
        Device = device;
        Depth = depth;
        Children = children;
    }

    /// <summary>The device at this place of the tree.</summary>
    public BrickDevice Device { get; }

    /// <summary>How deep the node sits: 0 for a root (a bottom Brick or an orphan Bricklet), one more per level.</summary>
    public int Depth { get; }

    /// <summary>The devices connected to this one, by position.</summary>
    public IReadOnlyList<BrickNode> Children { get; }

    /// <summary>The device's UID.</summary>
    public string Uid => Device.Uid;

    /// <summary>The device's position on its parent (see <see cref="BrickDevice.Position"/>).</summary>
    public char Position => Device.Position;

    /// <summary>The device's type name.</summary>
    public string DeviceName => Device.DeviceName;

    /// <summary>The device's firmware version.</summary>
    public Version FirmwareVersion => Device.FirmwareVersion;

    /// <summary>The indented label of the tree view.</summary>
    public string Tree => new string(' ', Depth * 2) + (Depth == 0 ? "" : "└─ ") + $"[{Position}] {DeviceName}";

    /// <summary>Builds the stacks from an enumeration: roots are devices whose parent is not in the list.</summary>
    public static IReadOnlyList<BrickNode> Build(IReadOnlyList<BrickDevice> devices)
    {
        var known = devices.Select(d => d.Uid).ToHashSet(StringComparer.Ordinal);
        var byParent = devices.ToLookup(d => known.Contains(d.ConnectedUid) && d.ConnectedUid != d.Uid ? d.ConnectedUid : "");
        return Children("", 0);

        IReadOnlyList<BrickNode> Children(string parent, int depth) =>
            byParent[parent].OrderBy(d => d.Position).ThenBy(d => d.Uid, StringComparer.Ordinal)
                .Select(d => new BrickNode(d, depth, depth > 16 ? Array.Empty<BrickNode>() : Children(d.Uid, depth + 1))).ToArray();
    }

    /// <summary>The tree in display order (each node before its children).</summary>
    public static IEnumerable<BrickNode> Flatten(IEnumerable<BrickNode> roots) =>
        roots.SelectMany(node => new[] { node }.Concat(Flatten(node.Children)));

    /// <summary>The indented label of the tree view (<see cref="Tree"/>).</summary>
    public override string ToString() => Tree;
}

/// <summary>One value read through a typed device wrapper (Get-BrickTemperature).</summary>
public sealed class BrickReading
{
    /// <summary>Records one reading, stamped with the current local time.</summary>
    /// <param name="uid">The device's UID.</param>
    /// <param name="deviceName">The device's type name.</param>
    /// <param name="quantity">What was measured, e.g. "Temperature".</param>
    /// <param name="value">The value in <paramref name="unit"/>.</param>
    /// <param name="unit">The unit, e.g. "°C".</param>
    public BrickReading(string uid, string deviceName, string quantity, double value, string unit)
    {
        Uid = uid;
        DeviceName = deviceName;
        Quantity = quantity;
        Value = value;
        Unit = unit;
        At = DateTime.Now;
    }

    /// <summary>The UID of the device read.</summary>
    public string Uid { get; }

    /// <summary>The device's type name.</summary>
    public string DeviceName { get; }

    /// <summary>What was measured, e.g. "Temperature" or "Humidity".</summary>
    public string Quantity { get; }

    /// <summary>The value in <see cref="Unit"/>, already scaled from the raw wire value.</summary>
    public double Value { get; }

    /// <summary>The unit of <see cref="Value"/>.</summary>
    public string Unit { get; }

    /// <summary>When the value was read (local time).</summary>
    public DateTime At { get; }

    /// <summary>UID, quantity, value and unit, e.g. "Z7K Temperature 23.45 °C".</summary>
    public override string ToString() => $"{Uid} {Quantity} {Value} {Unit}";
}
