using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Gateway;

/// <summary>How to reach a device gateway, whom to trust, and how the session behaves once connected.</summary>
public sealed record GatewayConnectOptions
{
    /// <summary>The defaults (options are immutable, so one instance serves everyone).</summary>
    public static GatewayConnectOptions Default { get; } = new();

    /// <summary>The gateway's host name or IP address (default "localhost"); the TLS certificate must name it.</summary>
    public string HostName { get; init; } = "localhost";

    /// <summary>The gateway's gRPC port (G-SDK's default is 4000).</summary>
    public int Port { get; init; } = 4000;

    /// <summary>The gateway's root CA file (PEM or DER): the only certificate the channel trusts.</summary>
    public string CaCertificateFile { get; init; } = "";

    /// <summary>Deadline of each call (SearchDevice adds its own search time; a device Connect takes at least 30 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many status changes the gateway may queue for the session's status stream (SubscribeStatus queueSize).</summary>
    public int StatusQueueSize { get; init; } = 1024;

    /// <summary>
    /// The largest message accepted from the gateway: a device list of 10,000 devices is about 0.5 MiB, and a hostile
    /// or broken gateway must not make the session buffer tens of MiB per message.
    /// </summary>
    public int MaxReceiveMessageSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Idle time before an HTTP/2 ping, and (up to 20 s) how long the gateway has to answer it. gRPC servers on their
    /// default policy (C-core and grpc-go alike) permit one ping per 5 minutes while they send nothing and end the
    /// connection with too_many_pings after two early ones, so a quiet status stream would be cut every ~20 s by pings
    /// any more frequent; the half-minute above 5 minutes absorbs timer jitter. Set it lower only for gateways configured
    /// to permit it. A gateway host that vanishes is noticed by TCP keep-alive within about 45 s whatever it is.
    /// </summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(330);

    /// <summary>How many status changes wait for a consumer before the oldest is dropped.</summary>
    public int EventCapacity { get; init; } = 10_000;

    /// <summary>How many bytes of status changes wait for a consumer before the oldest is dropped.</summary>
    public long EventMaxBytes { get; init; } = EventBuffer<GatewayStatusChange>.DefaultMaxBytes;
}
