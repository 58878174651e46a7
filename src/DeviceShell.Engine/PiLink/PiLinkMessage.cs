namespace DeviceShell.Engine.PiLink;

/// <summary>
/// The states tcpcom reports through its <c>stateChanged(state, msg)</c> callback (docs/design/pilink-tcpcom.md §3.1, §4.1),
/// plus <see cref="MessageTooLarge"/>, a DeviceShell addition for the size limit tcpcom does not have.
/// </summary>
public enum PiLinkState
{
    // Server states.
    /// <summary>Server: the port could not be bound (tcpcom's PORT_IN_USE); the text is the port.</summary>
    PortInUse,
    /// <summary>Server: listening for a client; the text is the port.</summary>
    Listening,
    /// <summary>A client connected (server: the text is its IP address) or the connection is up (client: "host:port").</summary>
    Connected,
    /// <summary>A message arrived; the text is the message.</summary>
    Message,
    /// <summary>Server: the server stopped; it takes no more clients.</summary>
    Terminated,

    // Client states (CONNECTED and MESSAGE are shared with the server).
    /// <summary>Client: trying to connect; the text is "host:port".</summary>
    Connecting,
    /// <summary>Client: the connection attempt failed; the text is "host:port".</summary>
    ConnectionFailed,
    /// <summary>Client: the server already has a client and closed this connection.</summary>
    ServerOccupied,
    /// <summary>The link was closed, by either side.</summary>
    Disconnected,

    /// <summary>A peer sent more than the maximum message size without a terminator; the bytes were dropped and the link goes on.</summary>
    MessageTooLarge,
}

/// <summary>One received message or state change of a Pi link, as a <c>Receive-PiLinkMessage</c> item.</summary>
public sealed class PiLinkMessage : EventArgs
{
    /// <summary>Records one message or state change.</summary>
    /// <param name="state">What happened.</param>
    /// <param name="text">The message, or the state change's text.</param>
    /// <param name="peer">The other side, or null.</param>
    /// <param name="at">When it happened (local time).</param>
    internal PiLinkMessage(PiLinkState state, string text, string? peer, DateTime at)
    {
        State = state;
        Text = text;
        Peer = peer;
        At = at;
    }

    /// <summary>What happened: <see cref="PiLinkState.Message"/> for a message, another state for a state change.</summary>
    public PiLinkState State { get; }

    /// <summary>tcpcom's spelling of <see cref="State"/>, e.g. <c>SERVER_OCCUPIED</c>, for scripts ported from Python.</summary>
    public string StateName => NameOf(State);

    /// <summary>The message text, or tcpcom's <c>msg</c> of a state change (port, client IP, "ip:port" or empty).</summary>
    public string Text { get; }

    /// <summary>The other side: the client's IP address on a server, "host:port" on a client; null when there is none.</summary>
    public string? Peer { get; }

    /// <summary>When the endpoint received it (local time).</summary>
    public DateTime At { get; }

    /// <summary>What the item holds in memory, as the endpoint's queue counts it against its byte bound.</summary>
    internal int Size => ItemOverheadBytes + (Text.Length + (Peer?.Length ?? 0)) * sizeof(char);

    /// <summary>The item and its strings' headers, rounded up.</summary>
    private const int ItemOverheadBytes = 128;

    /// <summary>tcpcom's name of a state (PORT_IN_USE, CONNECTION_FAILED, ...).</summary>
    internal static string NameOf(PiLinkState state) => state switch
    {
        PiLinkState.PortInUse => "PORT_IN_USE",
        PiLinkState.ConnectionFailed => "CONNECTION_FAILED",
        PiLinkState.ServerOccupied => "SERVER_OCCUPIED",
        PiLinkState.MessageTooLarge => "MESSAGE_TOO_LARGE",
        _ => state.ToString().ToUpperInvariant(),
    };

    /// <summary>tcpcom's state name and the text, e.g. "MESSAGE(go)".</summary>
    public override string ToString() => $"{StateName}({Text})";
}
