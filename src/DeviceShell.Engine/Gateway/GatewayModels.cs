using DeviceShell.Engine.Sessions;
using Grpc.Core;

namespace DeviceShell.Engine.Gateway;

/// <summary>Connection status of a managed device (gsdk.connect.Status).</summary>
public enum GatewayDeviceStatus
{
    /// <summary>Not connected.</summary>
    Disconnected = 0x00,
    /// <summary>Connected over plain TCP.</summary>
    TcpConnected = 0x01,
    /// <summary>Connected over TLS.</summary>
    TlsConnected = 0x02,
    /// <summary>The gateway is trying to connect (an async connection waiting for its next attempt).</summary>
    TryToConnect = 0x04,
    /// <summary>The TCP connection could not be opened.</summary>
    TcpCannotConnect = 0x100,
    /// <summary>The device refused a plain TCP connection (it requires TLS, or does not admit this gateway).</summary>
    TcpNotAllowed = 0x101,
    /// <summary>The TLS connection could not be established.</summary>
    TlsCannotConnect = 0x200,
    /// <summary>The device refused a TLS connection.</summary>
    TlsNotAllowed = 0x201,
}

/// <summary>Who opens the connection: the gateway (ServerToDevice, the default) or the device.</summary>
public enum GatewayConnectionMode
{
    /// <summary>The gateway connects to the device (the default).</summary>
    ServerToDevice = 0,
    /// <summary>The device connects to the gateway, which admits it through its accept filter.</summary>
    DeviceToServer = 1,
}

/// <summary>A device the gateway manages (GetDeviceList).</summary>
public sealed class GatewayDevice
{
    /// <summary>The device's id (its serial number), which every other call takes.</summary>
    public uint DeviceId { get; init; }
    /// <summary>The device's model.</summary>
    public GatewayDeviceType Type { get; init; }
    /// <summary>Who opens the connection.</summary>
    public GatewayConnectionMode ConnectionMode { get; init; }
    /// <summary>The device's IP address as the gateway knows it.</summary>
    public string IPAddress { get; init; } = string.Empty;
    /// <summary>The device's TCP port (51211 by default).</summary>
    public int Port { get; init; }
    /// <summary>The connection status when the list was read; <see cref="GatewaySession.StatusChanged"/> reports later changes.</summary>
    public GatewayDeviceStatus Status { get; init; }
    /// <summary>True for async connections (AddAsyncConnection): the gateway reconnects them on its own.</summary>
    public bool AutoReconnect { get; init; }
    /// <summary>True when the connection uses TLS.</summary>
    public bool UseSsl { get; init; }

    /// <summary>Id, address and status, e.g. "540092011 (192.168.0.110, TlsConnected)".</summary>
    public override string ToString() => $"{DeviceId} ({IPAddress}, {Status})";
}

/// <summary>A device found on the gateway's subnet (SearchDevice). Pipes into Add-GatewayAsyncConnection.</summary>
public sealed class GatewaySearchResult
{
    /// <summary>The device's id (its serial number).</summary>
    public uint DeviceId { get; init; }
    /// <summary>The device's model.</summary>
    public GatewayDeviceType Type { get; init; }
    /// <summary>True when the device takes its address from DHCP.</summary>
    public bool UseDhcp { get; init; }
    /// <summary>Who opens the connection.</summary>
    public GatewayConnectionMode ConnectionMode { get; init; }
    /// <summary>The device's IP address.</summary>
    public string IPAddress { get; init; } = string.Empty;
    /// <summary>The device's TCP port.</summary>
    public int Port { get; init; }
    /// <summary>True when the device expects TLS.</summary>
    public bool UseSsl { get; init; }
    /// <summary>The server a device-to-server device connects to (empty otherwise).</summary>
    public string ServerAddress { get; init; } = string.Empty;

    /// <summary>Id, model, address and port, e.g. "540092011 (BiostationA2, 192.168.0.110:51211)".</summary>
    public override string ToString() => $"{DeviceId} ({Type}, {IPAddress}:{Port})";
}

/// <summary>A device-to-server device that tried to connect but is not admitted by the accept filter.</summary>
public sealed class GatewayPendingDevice
{
    /// <summary>The device's id (its serial number).</summary>
    public uint DeviceId { get; init; }
    /// <summary>The device's model.</summary>
    public GatewayDeviceType Type { get; init; }
    /// <summary>The address the device connected from.</summary>
    public string IPAddress { get; init; } = string.Empty;
    /// <summary>When it last tried to connect (the gateway sends Unix seconds).</summary>
    public DateTime LastTry { get; init; }

    /// <summary>Id and address, e.g. "540092011 (192.168.0.110)".</summary>
    public override string ToString() => $"{DeviceId} ({IPAddress})";
}

/// <summary>Which device-to-server devices the gateway admits. Empty and not AllowAll = none (the gateway's default).</summary>
public sealed class GatewayAcceptFilter
{
    /// <summary>True to admit every device-to-server device; the lists are then ignored.</summary>
    public bool AllowAll { get; init; }
    /// <summary>The devices admitted, by id.</summary>
    public IReadOnlyList<uint> DeviceId { get; init; } = Array.Empty<uint>();
    /// <summary>Stored and returned by the gateway but documented as not yet supported.</summary>
    public IReadOnlyList<string> IPAddress { get; init; } = Array.Empty<string>();
    /// <summary>The subnet masks paired with <see cref="IPAddress"/>; stored like it but not yet applied by the gateway.</summary>
    public IReadOnlyList<string> SubnetMask { get; init; } = Array.Empty<string>();

    /// <summary>"AllowAll", "None" or the admitted device ids.</summary>
    public override string ToString() => AllowAll ? "AllowAll" : DeviceId.Count == 0 ? "None" : string.Join(", ", DeviceId);
}

/// <summary>
/// One entry of the status stream. <see cref="IsGap"/> marks the place where the stream dropped and was
/// subscribed again: changes in between may be missing (DeviceId 0, Status null), so re-read Get-GatewayDevice.
/// </summary>
public sealed class GatewayStatusChange : EventArgs
{
    /// <summary>The device whose status changed; 0 for a gap marker.</summary>
    public uint DeviceId { get; init; }
    /// <summary>The new status; null for a gap marker.</summary>
    public GatewayDeviceStatus? Status { get; init; }
    /// <summary>When the gateway saw the change (local time, whole seconds); for a gap marker, when the stream was subscribed again.</summary>
    public DateTime Timestamp { get; init; }
    /// <summary>True for a gap marker: the status stream dropped and changes in between may be missing.</summary>
    public bool IsGap { get; init; }
    /// <summary>For a gap marker: why the stream dropped; null for a status change.</summary>
    public string? Message { get; init; }

    /// <summary>"id status at time" for a change, "gap: why" for a gap marker.</summary>
    public override string ToString() => IsGap ? $"gap: {Message}" : $"{DeviceId} {Status} at {Timestamp:u}";
}

/// <summary>One device's failure in a Multi call (unpacked from the grpc-status-details-bin trailer).</summary>
public sealed class GatewayDeviceError
{
    /// <summary>Records one device's failure.</summary>
    /// <param name="deviceId">The device that failed.</param>
    /// <param name="code">The gRPC status code of its failure.</param>
    /// <param name="message">The gateway's message for it.</param>
    internal GatewayDeviceError(uint deviceId, StatusCode code, string message)
    {
        DeviceId = deviceId;
        Code = code;
        Message = message;
    }

    /// <summary>The device that failed.</summary>
    public uint DeviceId { get; }
    /// <summary>The gRPC status code of its failure (NotFound: the gateway does not manage the device).</summary>
    public StatusCode Code { get; }
    /// <summary>The gateway's message for it.</summary>
    public string Message { get; }

    /// <summary>
    /// The failure as the engine's exception, for one error record per device. The gateway's own messages often name the
    /// device already; it is named once.
    /// </summary>
    public DeviceException ToException() => Code == StatusCode.NotFound
        ? GatewayErrors.DeviceNotManaged(DeviceId)
        : GatewayErrors.ForStatus(Code, $"{(Message.StartsWith($"Device {DeviceId}", StringComparison.Ordinal) ? Message : $"Device {DeviceId}: {Message}")} ({GatewayErrors.Describe(Code)})", DeviceId);

    /// <summary>Id, status code and message, e.g. "7: FailedPrecondition Device 7 is not connected.".</summary>
    public override string ToString() => $"{DeviceId}: {Code} {Message}";
}

/// <summary>The RS-485 and Wiegand slaves of one parent device.</summary>
public sealed class GatewaySlaveDevice
{
    /// <summary>The parent device's id.</summary>
    public uint DeviceId { get; init; }
    /// <summary>The ids of the devices connected to the parent over RS-485.</summary>
    public IReadOnlyList<uint> Rs485SlaveDeviceId { get; init; } = Array.Empty<uint>();
    /// <summary>The ids of the devices connected to the parent over Wiegand.</summary>
    public IReadOnlyList<uint> WiegandSlaveDeviceId { get; init; } = Array.Empty<uint>();

    /// <summary>The parent's id and both slave lists.</summary>
    public override string ToString() => $"{DeviceId}: RS-485 [{string.Join(", ", Rs485SlaveDeviceId)}], Wiegand [{string.Join(", ", WiegandSlaveDeviceId)}]";
}

/// <summary>A device to register with AddAsyncConnection.</summary>
/// <param name="DeviceId">The device's id (its serial number).</param>
/// <param name="IPAddress">The device's IP address.</param>
/// <param name="Port">The device's TCP port (51211 by default).</param>
/// <param name="UseSsl">True to connect over TLS.</param>
public sealed record GatewayAsyncConnection(uint DeviceId, string IPAddress, int Port = 51211, bool UseSsl = false);
