namespace DeviceShell.Engine.PiLink;

/// <summary>
/// The states tcpcom reports through its <c>stateChanged(state, msg)</c> callback (docs/design/pilink-tcpcom.md §3.1, §4.1),
/// plus <see cref="MessageTooLarge"/>, a DeviceShell addition for the size limit tcpcom does not have.
/// </summary>
public enum PiLinkState
{
    // Server states.
    PortInUse,
    Listening,
    Connected,
    Message,
    Terminated,

    // Client states (CONNECTED and MESSAGE are shared with the server).
    Connecting,
    ConnectionFailed,
    ServerOccupied,
    Disconnected,

    /// <summary>A peer sent more than the maximum message size without a terminator; the bytes were dropped and the link goes on.</summary>
    MessageTooLarge,
}

/// <summary>One received message or state change of a Pi link, as a <c>Receive-PiLinkMessage</c> item.</summary>
public sealed class PiLinkMessage : EventArgs
{
    public PiLinkMessage(PiLinkState state, string text, string? peer, DateTime at)
    {
        State = state;
        Text = text;
        Peer = peer;
        At = at;
    }

    public PiLinkState State { get; }

    /// <summary>tcpcom's spelling of <see cref="State"/>, e.g. <c>SERVER_OCCUPIED</c>, for scripts ported from Python.</summary>
    public string StateName => NameOf(State);

    /// <summary>The message text, or tcpcom's <c>msg</c> of a state change (port, client IP, "ip:port" or empty).</summary>
    public string Text { get; }

    /// <summary>The other side: the client's IP address on a server, "host:port" on a client; null when there is none.</summary>
    public string? Peer { get; }

    public DateTime At { get; }

    /// <summary>What the item holds in memory, as the endpoint's queue counts it against its byte bound.</summary>
    internal int Size => ItemOverheadBytes + (Text.Length + (Peer?.Length ?? 0)) * sizeof(char);

    /// <summary>The item and its strings' headers, rounded up.</summary>
    private const int ItemOverheadBytes = 128;

    public static string NameOf(PiLinkState state) => state switch
    {
        PiLinkState.PortInUse => "PORT_IN_USE",
        PiLinkState.ConnectionFailed => "CONNECTION_FAILED",
        PiLinkState.ServerOccupied => "SERVER_OCCUPIED",
        PiLinkState.MessageTooLarge => "MESSAGE_TOO_LARGE",
        _ => state.ToString().ToUpperInvariant(),
    };

    public override string ToString() => $"{StateName}({Text})";
}
