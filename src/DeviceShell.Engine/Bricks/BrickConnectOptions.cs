namespace DeviceShell.Engine.Bricks;

/// <summary>How to reach a Brick Daemon and how the session behaves once connected.</summary>
public sealed record BrickConnectOptions
{
    public string HostName { get; init; } = "localhost";

    public int Port { get; init; } = 4223;

    /// <summary>The daemon's authentication secret (ASCII only); null when authentication is disabled.</summary>
    public string? Secret { get; init; }

    /// <summary>How long a request waits for its response (the bindings' default is 2.5 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2.5);

    /// <summary>How long one TCP connect attempt may take per address.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

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
