namespace DeviceShell.Engine.Sessions;

/// <summary>The four device worlds DeviceShell speaks to. A session belongs to exactly one.</summary>
public enum DeviceWorld
{
    Brick,
    Gateway,
    Webifi,
    PiLink,
}

/// <summary>Life cycle of a session as the user sees it.</summary>
public enum DeviceSessionState
{
    Connecting,
    Connected,
    /// <summary>The link dropped and the session is trying to get it back on its own.</summary>
    Reconnecting,
    /// <summary>Not connected; a world may still reconnect when asked to.</summary>
    Disconnected,
    /// <summary>Closed by the user and removed from the registry; it cannot be used again.</summary>
    Closed,
}
