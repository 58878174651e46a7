using DeviceShell.Engine.Sessions;
using Grpc.Core;

namespace DeviceShell.Engine.Gateway;

/// <summary>Connection status of a managed device (gsdk.connect.Status).</summary>
public enum GatewayDeviceStatus
{
    Disconnected = 0x00,
    TcpConnected = 0x01,
    TlsConnected = 0x02,
    TryToConnect = 0x04,
    TcpCannotConnect = 0x100,
    TcpNotAllowed = 0x101,
    TlsCannotConnect = 0x200,
    TlsNotAllowed = 0x201,
}

/// <summary>Who opens the connection: the gateway (ServerToDevice, the default) or the device.</summary>
public enum GatewayConnectionMode
{
    ServerToDevice = 0,
    DeviceToServer = 1,
}

/// <summary>A device the gateway manages (GetDeviceList).</summary>
public sealed class GatewayDevice
{
    public uint DeviceId { get; init; }
    public GatewayDeviceType Type { get; init; }
    public GatewayConnectionMode ConnectionMode { get; init; }
    public string IPAddress { get; init; } = string.Empty;
    public int Port { get; init; }
    public GatewayDeviceStatus Status { get; init; }
    /// <summary>True for async connections (AddAsyncConnection): the gateway reconnects them on its own.</summary>
    public bool AutoReconnect { get; init; }
    public bool UseSsl { get; init; }

    public override string ToString() => $"{DeviceId} ({IPAddress}, {Status})";
}

/// <summary>A device found on the gateway's subnet (SearchDevice). Pipes into Add-GatewayAsyncConnection.</summary>
public sealed class GatewaySearchResult
{
    public uint DeviceId { get; init; }
    public GatewayDeviceType Type { get; init; }
    public bool UseDhcp { get; init; }
    public GatewayConnectionMode ConnectionMode { get; init; }
    public string IPAddress { get; init; } = string.Empty;
    public int Port { get; init; }
    public bool UseSsl { get; init; }
    /// <summary>The server a device-to-server device connects to (empty otherwise).</summary>
    public string ServerAddress { get; init; } = string.Empty;

    public override string ToString() => $"{DeviceId} ({Type}, {IPAddress}:{Port})";
}

/// <summary>A device-to-server device that tried to connect but is not admitted by the accept filter.</summary>
public sealed class GatewayPendingDevice
{
    public uint DeviceId { get; init; }
    public GatewayDeviceType Type { get; init; }
    public string IPAddress { get; init; } = string.Empty;
    /// <summary>When it last tried to connect (the gateway sends Unix seconds).</summary>
    public DateTime LastTry { get; init; }

    public override string ToString() => $"{DeviceId} ({IPAddress})";
}

/// <summary>Which device-to-server devices the gateway admits. Empty and not AllowAll = none (the gateway's default).</summary>
public sealed class GatewayAcceptFilter
{
    public bool AllowAll { get; init; }
    public IReadOnlyList<uint> DeviceId { get; init; } = Array.Empty<uint>();
    /// <summary>Stored and returned by the gateway but documented as not yet supported.</summary>
    public IReadOnlyList<string> IPAddress { get; init; } = Array.Empty<string>();
    public IReadOnlyList<string> SubnetMask { get; init; } = Array.Empty<string>();

    public override string ToString() => AllowAll ? "AllowAll" : DeviceId.Count == 0 ? "None" : string.Join(", ", DeviceId);
}

/// <summary>
/// One entry of the status stream. <see cref="IsGap"/> marks the place where the stream dropped and was
/// subscribed again: changes in between may be missing (DeviceId 0, Status null), so re-read Get-GatewayDevice.
/// </summary>
public sealed class GatewayStatusChange : EventArgs
{
    public uint DeviceId { get; init; }
    public GatewayDeviceStatus? Status { get; init; }
    public DateTime Timestamp { get; init; }
    public bool IsGap { get; init; }
    public string? Message { get; init; }

    public override string ToString() => IsGap ? $"gap: {Message}" : $"{DeviceId} {Status} at {Timestamp:u}";
}

/// <summary>One device's failure in a Multi call (unpacked from the grpc-status-details-bin trailer).</summary>
public sealed class GatewayDeviceError
{
    public GatewayDeviceError(uint deviceId, StatusCode code, string message)
    {
        DeviceId = deviceId;
        Code = code;
        Message = message;
    }

    public uint DeviceId { get; }
    public StatusCode Code { get; }
    public string Message { get; }

    /// <summary>
    /// The failure as the engine's exception, for one error record per device. The gateway's own messages often name the
    /// device already; it is named once.
    /// </summary>
    public DeviceException ToException() => Code == StatusCode.NotFound
        ? GatewayErrors.DeviceNotManaged(DeviceId)
        : GatewayErrors.ForStatus(Code, $"{(Message.StartsWith($"Device {DeviceId}", StringComparison.Ordinal) ? Message : $"Device {DeviceId}: {Message}")} ({GatewayErrors.Describe(Code)})", DeviceId);

    public override string ToString() => $"{DeviceId}: {Code} {Message}";
}

/// <summary>The RS-485 and Wiegand slaves of one parent device.</summary>
public sealed class GatewaySlaveDevice
{
    public uint DeviceId { get; init; }
    public IReadOnlyList<uint> Rs485SlaveDeviceId { get; init; } = Array.Empty<uint>();
    public IReadOnlyList<uint> WiegandSlaveDeviceId { get; init; } = Array.Empty<uint>();

    public override string ToString() => $"{DeviceId}: RS-485 [{string.Join(", ", Rs485SlaveDeviceId)}], Wiegand [{string.Join(", ", WiegandSlaveDeviceId)}]";
}

/// <summary>A device to register with AddAsyncConnection.</summary>
public sealed record GatewayAsyncConnection(uint DeviceId, string IPAddress, int Port = 51211, bool UseSsl = false);
