namespace DeviceShell.Engine.PiLink;

/// <summary>Where a Pi link client connects and the settings of its link.</summary>
public sealed record PiLinkConnectOptions
{
    /// <summary>The server's host name or IP address (default "localhost").</summary>
    public string HostName { get; init; } = "localhost";

    /// <summary>The server's port; tcpcom's default is 22000.</summary>
    public int Port { get; init; } = PiLinkOptions.DefaultPort;

    /// <summary>The link's settings: terminator, message and queue limits, connect timeout (10 s), the occupied-server watch.</summary>
    public PiLinkOptions Link { get; init; } = PiLinkOptions.Default;
}
