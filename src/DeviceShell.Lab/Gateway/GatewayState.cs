using System.Threading.Channels;
using StatusCode = Grpc.Core.StatusCode;
using Gsdk.Connect;
using DeviceType = Gsdk.Device.Type;

namespace DeviceShell.Lab.Gateway;

/// <summary>A device on the simulated subnet (what SearchDevice finds).</summary>
internal sealed class SimulatedDevice
{
    public SimulatedDevice(uint id, DeviceType type, string ipAddress, int port = 51211, bool deviceToServer = false)
    {
        Id = id;
        Type = type;
        IPAddress = ipAddress;
        Port = port;
        Mode = deviceToServer ? ConnectionMode.DeviceToServer : ConnectionMode.ServerToDevice;
    }

    public uint Id { get; }

    public DeviceType Type { get; }

    public string IPAddress { get; }

    public int Port { get; }

    public ConnectionMode Mode { get; internal set; }

    public bool SslEnabled { get; internal set; }

    /// <summary>False while the device is "unplugged": it neither answers searches nor accepts connections.</summary>
    public bool Present { get; internal set; } = true;
}

/// <summary>How a device came under management; it decides what happens when its connection drops.</summary>
internal enum ManagedKind
{
    /// <summary>Connect: the caller manages it; dropped from the list when it disconnects.</summary>
    Sync,
    /// <summary>AddAsyncConnection: the gateway reconnects it on its own.</summary>
    Async,
    /// <summary>A device-to-server device admitted by the accept filter.</summary>
    Incoming,
}

internal sealed class ManagedDevice
{
    /// <summary>The subnet device; an async connection added before its device appeared holds a placeholder until then.</summary>
    public required SimulatedDevice Device { get; set; }

    public required ManagedKind Kind { get; init; }

    public required string IPAddress { get; init; }

    public required int Port { get; init; }

    public required bool UseSsl { get; init; }

    public Status Status { get; set; } = Status.Disconnected;

    public bool Connected => Status is Status.TcpConnected or Status.TlsConnected;

    public DeviceInfo ToInfo() => new()
    {
        DeviceID = Device.Id,
        Type = Device.Type,
        ConnectionMode = Kind == ManagedKind.Incoming ? ConnectionMode.DeviceToServer : ConnectionMode.ServerToDevice,
        IPAddr = IPAddress,
        Port = Port,
        Status = Status,
        AutoReconnect = Kind == ManagedKind.Async,
        UseSSL = UseSsl,
    };
}

/// <summary>
/// One SubscribeStatus stream. Its queue holds at most queueSize changes; when the client reads too
/// slowly, new changes are discarded and counted (the gateway's documented behaviour for its event queues).
/// </summary>
internal sealed class StatusSubscriber
{
    private long _dropped;

    public StatusSubscriber(int queueSize)
    {
        Queue = Channel.CreateBounded<StatusChange>(
            new BoundedChannelOptions(queueSize) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    public Channel<StatusChange> Queue { get; }

    public long Dropped => Interlocked.Read(ref _dropped);
}

/// <summary>A per-device failure of a Multi call.</summary>
internal sealed record DeviceFailure(uint DeviceId, StatusCode Code, string Message);
