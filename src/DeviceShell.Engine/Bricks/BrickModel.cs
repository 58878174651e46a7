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
    Disconnected = 0,
    Connected = 1,
    /// <summary>Auto-reconnect is trying to get the connection back.</summary>
    Pending = 2,
}

public enum BrickConnectReason
{
    Request = 0,
    AutoReconnect = 1,
}

public enum BrickDisconnectReason
{
    Request = 0,
    Error = 1,
    Shutdown = 2,
}

public enum BrickEventKind
{
    Enumerate,
    Connected,
    Disconnected,
    Callback,
}

/// <summary>A device as an enumerate callback or get_identity describes it.</summary>
public sealed class BrickDevice
{
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

    public string Uid { get; }

    /// <summary>The Brick a Bricklet sits on, the bottom Master of a stack, or "0" for the bottom Master itself.</summary>
    public string ConnectedUid { get; }

    /// <summary>'0'..'8' for Bricks in a stack, 'a'..'h' (or 'z') for Bricklet ports, 'i' for a HAT.</summary>
    public char Position { get; }

    public Version HardwareVersion { get; }

    public Version FirmwareVersion { get; }

    public int DeviceIdentifier { get; }

    public string DeviceName => BrickDeviceCatalog.DisplayName(DeviceIdentifier);

    /// <summary>Null for get_identity answers.</summary>
    public BrickEnumerationType? EnumerationType { get; }

    /// <summary>The session that saw the device, so <c>Get-BrickEnumeration -Session $s | Get-BrickIdentity</c> stays on that session.</summary>
    public BrickSession? Session { get; init; }

    /// <summary>The 25 identity bytes shared by get_identity responses and enumerate callbacks.</summary>
    public const int IdentityLength = 25;

    public static BrickDevice FromPayload(ReadOnlySpan<byte> payload, BrickSession? session = null)
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

    public override string ToString() => $"{DeviceName} {Uid}";
}

/// <summary>The answer to one request (Invoke-BrickFunction).</summary>
public sealed class BrickResponse
{
    public BrickResponse(string uid, byte functionId, byte errorCode, byte[] payload)
    {
        Uid = uid;
        FunctionId = functionId;
        ErrorCode = errorCode;
        Payload = payload;
    }

    public string Uid { get; }

    public byte FunctionId { get; }

    /// <summary>0 OK, 1 invalid parameter, 2 function not supported, 3 unknown.</summary>
    public byte ErrorCode { get; }

    public byte[] Payload { get; }

    public string PayloadHex => Convert.ToHexString(Payload);

    public override string ToString() => $"{Uid} fid {FunctionId}: {PayloadHex}";
}

/// <summary>A callback, an enumerate callback or a connection change, in the order the session saw them.</summary>
public sealed class BrickEvent : EventArgs
{
    /// <summary>What an event costs in memory besides its payload (the object, its lazy decoder, the UID text), for the buffer's byte bound.</summary>
    public const int Overhead = 256;

    public BrickEvent(BrickSession? session, BrickEventKind kind, string? uid, byte functionId, byte[] payload, BrickDevice? device, string? reason)
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

    public int SessionId => Session?.Id ?? 0;

    public BrickEventKind Kind { get; }

    /// <summary>The device the callback came from; null for connection events.</summary>
    public string? Uid { get; }

    public byte FunctionId { get; }

    public byte[] Payload { get; }

    /// <summary>For enumerate callbacks: the device that announced itself.</summary>
    public BrickDevice? Device { get; }

    /// <summary>For connection events: Request, AutoReconnect, Error or Shutdown.</summary>
    public string? Reason { get; }

    public DateTime ReceivedAt { get; }

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
    public BrickNode(BrickDevice device, int depth, IReadOnlyList<BrickNode> children)
    {
        Device = device;
        Depth = depth;
        Children = children;
    }

    public BrickDevice Device { get; }

    public int Depth { get; }

    public IReadOnlyList<BrickNode> Children { get; }

    public string Uid => Device.Uid;

    public char Position => Device.Position;

    public string DeviceName => Device.DeviceName;

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

    public override string ToString() => Tree;
}

/// <summary>One value read through a typed device wrapper (Get-BrickTemperature).</summary>
public sealed class BrickReading
{
    public BrickReading(string uid, string deviceName, string quantity, double value, string unit)
    {
        Uid = uid;
        DeviceName = deviceName;
        Quantity = quantity;
        Value = value;
        Unit = unit;
        At = DateTime.Now;
    }

    public string Uid { get; }

    public string DeviceName { get; }

    public string Quantity { get; }

    public double Value { get; }

    public string Unit { get; }

    public DateTime At { get; }

    public override string ToString() => $"{Uid} {Quantity} {Value} {Unit}";
}
