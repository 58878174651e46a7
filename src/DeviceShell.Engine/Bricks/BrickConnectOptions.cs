namespace DeviceShell.Engine.Bricks;

/// <summary>How to reach a Brick Daemon and how the session behaves once connected.</summary>
public sealed record BrickConnectOptions
{
    /// <summary>The host name or IP address of the Brick Daemon or Master Extension (default "localhost"); every address it resolves to is tried in turn.</summary>
    public string HostName { get; init; } = "localhost";

    /// <summary>The TCP port (default 4223, the Brick Daemon's).</summary>
    public int Port { get; init; } = 4223;

    /// <summary>The daemon's authentication secret (ASCII only); null when authentication is disabled.</summary>
    public string? Secret { get; init; }

    /// <summary>How long a request waits for its response (the bindings' default is 2.5 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2.5);

    /// <summary>How long one TCP connect attempt may take per address.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether the session reconnects on its own after the link drops (default true, as in the bindings); see <see cref="ReconnectInterval"/>.</summary>
    public bool AutoReconnect { get; init; } = true;

    /// <summary>Pause between reconnect attempts (the bindings use 100 ms).</summary>
    public TimeSpan ReconnectInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A disconnect probe is sent when nothing went over the link for this long (bindings: 5 s).</summary>
    public TimeSpan DisconnectProbeInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How many callbacks and connection events wait for a consumer before the oldest is dropped.</summary>
    public int EventCapacity { get; init; } = 10_000;

    /// <summary>
    /// How many bytes of callbacks and connection events wait before the oldest is dropped: each counts its payload plus
    /// <see cref="BrickEvent.Overhead"/>. 10,000 small callbacks take about 2.7 MiB, so the count bound comes first by default.
    /// </summary>
    public long EventMaxBytes { get; init; } = Sessions.EventBuffer<BrickEvent>.DefaultMaxBytes;
}
