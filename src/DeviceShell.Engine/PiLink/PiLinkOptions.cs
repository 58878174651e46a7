using System.Net;

namespace DeviceShell.Engine.PiLink;

/// <summary>Settings of a Pi link endpoint. The defaults talk to an unmodified tcpcom peer.</summary>
public sealed record PiLinkOptions
{
    /// <summary>tcpcom's port, 22000.</summary>
    public const int DefaultPort = 22000;

    /// <summary>The defaults (options are immutable, so one instance serves everyone).</summary>
    public static PiLinkOptions Default { get; } = new();

    /// <summary>The byte that ends every message; tcpcom uses NUL. A server may use '\n' for line-oriented clients (tcpcom's endOfBlock).</summary>
    public byte Terminator { get; init; }

    /// <summary>The largest message accepted or sent, in UTF-8 bytes without the terminator (tcpcom has no limit).</summary>
    public int MaxMessageBytes { get; init; } = 1024 * 1024;

    /// <summary>Client: how long the TCP connect may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Client: after the TCP connect, how long to watch for the server closing the socket at once (its one-client
    /// rule) before reporting CONNECTED. Null (the default) sizes the window from the measured TCP handshake, see
    /// <see cref="PiLinkSession.ProbeWindowFor"/>: tcpcom waits a fixed 2 s, but a refusal takes one network round trip
    /// plus the server's accept, which is milliseconds on loopback and a LAN.
    /// </summary>
    public TimeSpan? OccupiedWait { get; init; }

    /// <summary>Server: disconnect a client that sent nothing for this long (tcpcom's setTimeout); null = never.</summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>Server: the local address to listen on; tcpcom listens on every IPv4 interface.</summary>
    public IPAddress BindAddress { get; init; } = IPAddress.Any;

    /// <summary>How many received items wait for a consumer before the oldest is dropped.</summary>
    public int QueueCapacity { get; init; } = 10_000;

    /// <summary>
    /// How many bytes of received items (text as .NET holds it, two bytes a character, plus the item) wait for a
    /// consumer before the oldest is dropped: a peer sending large messages to an endpoint nobody reads cannot grow it
    /// past this (docs/design/decisions.md §12.1). The newest message is always kept, so a bound below 2 × <see cref="MaxMessageBytes"/>
    /// still delivers the largest message.
    /// </summary>
    public long QueueMaxBytes { get; init; } = Sessions.EventBuffer<PiLinkMessage>.DefaultMaxBytes;
}
