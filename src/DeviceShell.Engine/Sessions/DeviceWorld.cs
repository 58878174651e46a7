namespace DeviceShell.Engine.Sessions;

/// <summary>The four device worlds DeviceShell speaks to. A session belongs to exactly one.</summary>
public enum DeviceWorld
{
    /// <summary>Tinkerforge Bricks and Bricklets behind a Brick Daemon or a Master Brick's Ethernet/WIFI extension (TFP over TCP).</summary>
    Brick,
    /// <summary>A Suprema device gateway reached over G-SDK gRPC with TLS.</summary>
    Gateway,
    /// <summary>The Webifi relay network (WebSocket or long polling through a relay server).</summary>
    Webifi,
    /// <summary>The tcpcom-style Pi link: a line-based TCP connection between a Raspberry Pi and a client.</summary>
    PiLink,
}

/// <summary>Life cycle of a session as the user sees it.</summary>
public enum DeviceSessionState
{
    /// <summary>Opening the connection (and authenticating, where the world does); not yet usable.</summary>
    Connecting,
    /// <summary>The connection is up and requests can be sent.</summary>
    Connected,
    /// <summary>The link dropped and the session is trying to get it back on its own.</summary>
    Reconnecting,
    /// <summary>Not connected; a world may still reconnect when asked to.</summary>
    Disconnected,
    /// <summary>Closed by the user and removed from the registry; it cannot be used again.</summary>
    Closed,
}
