using System.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace DeviceShell.Engine.Webifi;

/// <summary>How a session talks to the relay after the credentials step.</summary>
public enum WebifiTransport
{
    /// <summary>A WebSocket to the relay, with keep-alives and reconnects (the default).</summary>
    WebSocket,
    /// <summary>HTTP long polling: uploads as requests, downloads held open by the relay (see <see cref="WebifiConnectOptions.DownloadTimeout"/>).</summary>
    LongPolling,
}

/// <summary>What a Webifi session's one event buffer holds, in arrival order: received data and status changes.</summary>
public abstract class WebifiEvent : EventArgs
{
}

/// <summary>One received piece of data (docs/design/webifi.md §4.2).</summary>
public sealed class WebifiMessage : WebifiEvent
{
    /// <summary>Creates a received message.</summary>
    /// <param name="bytes">The payload as it came over the wire.</param>
    /// <param name="dataType">The sender's data type; empty when it gave none.</param>
    /// <param name="fromSessionId">The relay's session id of the sender.</param>
    /// <param name="receivedAt">When it arrived (local time).</param>
    internal WebifiMessage(byte[] bytes, string dataType, int fromSessionId, DateTime receivedAt)
    {
        Bytes = bytes;
        DataType = dataType;
        FromSessionId = fromSessionId;
        ReceivedAt = receivedAt;
    }

    /// <summary>The payload as UTF-8 text (how DeviceShell sends strings).</summary>
    public string Data => Encoding.UTF8.GetString(Bytes);

    /// <summary>The payload exactly as it came over the wire.</summary>
    public byte[] Bytes { get; }

    /// <summary>The data type the sender gave (free text, e.g. "Temperature"); empty when it gave none.</summary>
    public string DataType { get; }

    /// <summary>The relay's session id of the sender; send to it with -ToSessionId to answer.</summary>
    public int FromSessionId { get; }

    /// <summary>When the session received it (local time).</summary>
    public DateTime ReceivedAt { get; }

    /// <summary>Sender, data type and the payload as text, e.g. "17 [Temperature] 23.5".</summary>
    public override string ToString() => $"{FromSessionId} [{DataType}] {Data}";
}

/// <summary>A device that answered a discovery request (data type "Discovery Response").</summary>
public sealed class WebifiDevice
{
    /// <summary>Records one discovery answer.</summary>
    /// <param name="name">The name the device answered with.</param>
    /// <param name="sessionId">Its relay session id.</param>
    /// <param name="respondedAt">When the answer arrived (local time).</param>
    internal WebifiDevice(string name, int sessionId, DateTime respondedAt)
    {
        Name = name;
        SessionId = sessionId;
        RespondedAt = respondedAt;
    }

    /// <summary>The name the device answered with (its -Name).</summary>
    public string Name { get; }

    /// <summary>The device's relay session id; send to it with -ToSessionId.</summary>
    public int SessionId { get; }

    /// <summary>When its answer arrived (local time).</summary>
    public DateTime RespondedAt { get; }

    /// <summary>Name and session id, e.g. "Pump (17)".</summary>
    public override string ToString() => $"{Name} ({SessionId})";
}

/// <summary>An error code the session met in the background (not as the answer to one send).</summary>
public sealed class WebifiError : EventArgs
{
    /// <summary>Records one background error.</summary>
    /// <param name="code">The Webifi error code (<see cref="WebifiErrorCode"/>).</param>
    /// <param name="text">Its description.</param>
    /// <param name="context">What the session was doing.</param>
    /// <param name="at">When it happened (local time).</param>
    internal WebifiError(int code, string text, string context, DateTime at)
    {
        Code = code;
        Text = text;
        Context = context;
        At = at;
    }

    /// <summary>The Webifi error code (see <see cref="WebifiErrorCode"/>).</summary>
    public int Code { get; }

    /// <summary>The code's description from the relay's table, else the fallback text.</summary>
    public string Text { get; }

    /// <summary>What the session was doing: login, networks, download, ...</summary>
    public string Context { get; }

    /// <summary>When the session met it (local time).</summary>
    public DateTime At { get; }

    /// <summary>Code, context and text, e.g. "Webifi error 5 during networks: Not all of the listen-to networks were set ...".</summary>
    public override string ToString() => $"Webifi error {Code} during {Context}: {Text}";
}

/// <summary>What a <see cref="WebifiStatusChange"/> reports.</summary>
public enum WebifiStatusKind
{
    /// <summary>Logged in and the transport is up (first login or after a reconnect).</summary>
    Connected,

    /// <summary>The link broke; the session is logging in again.</summary>
    Reconnecting,

    /// <summary>The session gave up (a refused re-login) or was disconnected.</summary>
    Disconnected,

    /// <summary>An error code met in the background (networks not set, download errors, a refused re-login).</summary>
    Error,
}

/// <summary>A connection-status change or a background error of a Webifi session (Receive-WebifiStatus, StatusChanged).</summary>
public sealed class WebifiStatusChange : WebifiEvent
{
    /// <summary>Records one status change.</summary>
    /// <param name="kind">What changed.</param>
    /// <param name="error">For <see cref="WebifiStatusKind.Error"/>: the error; else null.</param>
    /// <param name="at">When it happened (local time).</param>
    internal WebifiStatusChange(WebifiStatusKind kind, WebifiError? error, DateTime at)
    {
        Kind = kind;
        Error = error;
        At = at;
    }

    /// <summary>What the change reports.</summary>
    public WebifiStatusKind Kind { get; }

    /// <summary>For <see cref="WebifiStatusKind.Error"/>: the code, its text and what the session was doing.</summary>
    public WebifiError? Error { get; }

    /// <summary>The error code for <see cref="WebifiStatusKind.Error"/>; null otherwise.</summary>
    public int? Code => Error?.Code;

    /// <summary>When it happened (local time).</summary>
    public DateTime At { get; }

    /// <summary>The kind, or the error's text for an error.</summary>
    public override string ToString() => Error is null ? Kind.ToString() : Error.ToString();
}

/// <summary>What to send and to whom; no networks and no session ids means the sender's default networks.</summary>
/// <param name="Data">The payload bytes.</param>
/// <param name="DataType">Free text the receiver sees as DataType; empty for none.</param>
/// <param name="ToNetworks">The networks to send to.</param>
/// <param name="ToSessionIds">The relay session ids to send to.</param>
public sealed record WebifiOutgoing(byte[] Data, string DataType, IReadOnlyList<string> ToNetworks, IReadOnlyList<int> ToSessionIds)
{
    /// <summary>A text message: <paramref name="data"/> is sent as UTF-8.</summary>
    /// <param name="data">The text to send.</param>
    /// <param name="dataType">Free text the receiver sees as DataType; empty for none.</param>
    /// <param name="toNetworks">The networks to send to; null for none.</param>
    /// <param name="toSessionIds">The relay session ids to send to; null for none. With no networks either, the sender's default networks receive it.</param>
    public static WebifiOutgoing Text(string data, string dataType = "", IReadOnlyList<string>? toNetworks = null, IReadOnlyList<int>? toSessionIds = null) =>
        new(Encoding.UTF8.GetBytes(data), dataType, toNetworks ?? Array.Empty<string>(), toSessionIds ?? Array.Empty<int>());

    /// <summary>Appends the message group: <c>~n</c>×k, <c>~s</c>×m, <c>~dt</c> (when set), <c>~u</c> (when given), <c>~d</c> last.</summary>
    internal void AppendTo(List<byte> output, WebifiMessageId? id)
    {
        foreach (string network in ToNetworks) if (network.Length > 0) TildeCodec.AppendField(output, "n", network);
        foreach (int sessionId in ToSessionIds) TildeCodec.AppendField(output, "s", sessionId);
        if (DataType.Length > 0) TildeCodec.AppendField(output, "dt", DataType);
        if (id is { } messageId) TildeCodec.AppendField(output, "u", messageId.ToString());
        TildeCodec.AppendField(output, "d", Data);
    }
}

/// <summary>A queued message with the number it keeps when it has to be sent again on the same link.</summary>
internal readonly record struct NumberedOutgoing(WebifiOutgoing Message, WebifiMessageId Id)
{
    /// <summary>The number goes on the wire only to a relay that answered the DeviceShell capability at login.</summary>
    public void AppendTo(List<byte> output, WebifiCredentials credentials) => Message.AppendTo(output, credentials.Dialect == WebifiDialect.DeviceShell ? Id : null);
}

/// <summary>How a session talks to its relay (docs/design/decisions.md §19).</summary>
public enum WebifiDialect
{
    /// <summary>
    /// As the official libraries do (docs/design/webifi.md §3): one message per WebSocket frame or upload, the next only after
    /// the relay answered the previous one, no message ids. Used with every relay that has not said it knows more.
    /// </summary>
    Official,

    /// <summary>
    /// The relay answered the DeviceShell capability at login (<c>~mi=1</c>, as the Lab relay does): several messages
    /// per frame or upload, many in flight, each numbered for exactly-once delivery (<see cref="WebifiMessageId"/>).
    /// </summary>
    DeviceShell,
}

/// <summary>Everything Connect-Webifi passes to <see cref="WebifiSession.ConnectAsync"/>.</summary>
public sealed record WebifiConnectOptions
{
    /// <summary>The official Webifi credentials server, http://connect.webifi.me/ (the default <see cref="Server"/>).</summary>
    public static readonly Uri PublicServer = new("http://connect.webifi.me/");

    /// <summary>The credentials server; the WebSocket and long-polling addresses come from its answer.</summary>
    public Uri Server { get; init; } = PublicServer;

    /// <summary>The connect name (the account) to log in with; required.</summary>
    public required string ConnectName { get; init; }

    /// <summary>Kept as a SecureString; it is turned into text only to build the credentials request body.</summary>
    public required SecureString ConnectPassword { get; init; }

    /// <summary>The listen-to networks to join after login; empty for none (the session still receives what is sent to its session id).</summary>
    public IReadOnlyList<string> Networks { get; init; } = Array.Empty<string>();

    /// <summary>The name a discoverable session answers discovery requests with.</summary>
    public string Name { get; init; } = "DeviceShell";

    /// <summary>Whether the session answers discovery requests (default true); changeable later with <see cref="WebifiSession.SetDiscoverable"/>.</summary>
    public bool Discoverable { get; init; } = true;

    /// <summary>WebSocket (default) or long polling.</summary>
    public WebifiTransport Transport { get; init; } = WebifiTransport.WebSocket;

    /// <summary>HTTPS for the credentials, then WSS or HTTPS to the <c>dn</c> host names of the answer.</summary>
    public bool UseEncryption { get; init; }

    /// <summary>
    /// The most the session offers: DeviceShell (the default) asks for the DeviceShell capability at login and uses it
    /// when the relay answers; Official never asks, so even a DeviceShell relay is spoken to as the official libraries do.
    /// </summary>
    public WebifiDialect Dialect { get; init; } = WebifiDialect.DeviceShell;

    /// <summary>TLS for every request: asked for with <see cref="UseEncryption"/>, or implied by an <c>https://</c> server.</summary>
    public bool Encrypted => UseEncryption || Server.Scheme == Uri.UriSchemeHttps;

    /// <summary>
    /// When set, the only trusted root: the relay's certificate must chain to it (a self-hosted relay's self-signed
    /// certificate or private CA) and the system store is not consulted. When null, the system store decides.
    /// </summary>
    public X509Certificate2? TrustedCertificate { get; init; }

    /// <summary>How long the relay holds a long-polling download (10 to 1800 s, like the Python library).</summary>
    public TimeSpan DownloadTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Time without a message from the relay after which a WebSocket keep-alive is sent. When nothing at all arrives for
    /// this plus <see cref="ReplyTimeout"/>, the WebSocket is taken for dead and reconnected.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for the relay's answer to a request before the link counts as broken.</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest payload accepted for sending (the Lab relay's default limit).</summary>
    public int MaxPayloadBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// The largest answer body read from a Webifi server (credentials, upload, download) and the largest WebSocket
    /// message received; a longer one is a protocol error, so a server that streams without end cannot grow the
    /// client's memory. A relay batches up to about one maximum payload per answer, and escaping at most doubles it.
    /// </summary>
    public int MaxAnswerBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>
    /// Bytes of received data the session holds for its readers (Receive-WebifiData, events); past it the oldest are
    /// dropped and counted in DroppedEvents. A peer sending large messages to a session nobody reads cannot grow it further.
    /// </summary>
    public long MaxEventBytes { get; init; } = Sessions.EventBuffer<WebifiEvent>.DefaultMaxBytes;

    /// <summary>
    /// Longest pause between two attempts after the relay ended or refused one: a new WebSocket, an upload sent again,
    /// a new login. They start at 100 ms and double (with jitter) until the relay accepts something again.
    /// </summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often in a row the relay may end the connection right after the same message (before answering it) until
    /// the session takes that as a refusal and fails the queued sends (WebifiSendRefused) instead of retrying forever.
    /// </summary>
    public int MaxRefusals { get; init; } = 5;
}

/// <summary>What Send-WebifiData -PassThru writes: one acknowledged send.</summary>
public sealed class WebifiSendReceipt
{
    /// <summary>Records an acknowledged send.</summary>
    /// <param name="message">What was sent.</param>
    /// <param name="fromSessionId">The sender's relay session id at the time.</param>
    /// <param name="acknowledgedAt">When the relay acknowledged it (local time).</param>
    public WebifiSendReceipt(WebifiOutgoing message, int fromSessionId, DateTime acknowledgedAt)
    {
        Data = Encoding.UTF8.GetString(message.Data);
        DataType = message.DataType;
        ToNetwork = message.ToNetworks.ToArray();
        ToSessionId = message.ToSessionIds.ToArray();
        FromSessionId = fromSessionId;
        AcknowledgedAt = acknowledgedAt;
    }

    /// <summary>The payload as UTF-8 text.</summary>
    public string Data { get; }

    /// <summary>The data type sent; empty for none.</summary>
    public string DataType { get; }

    /// <summary>Empty together with <see cref="ToSessionId"/>: the sender's default networks.</summary>
    public string[] ToNetwork { get; }

    /// <summary>The relay session ids the message went to; empty when none were given.</summary>
    public int[] ToSessionId { get; }

    /// <summary>The sender's relay session id when the relay acknowledged the send.</summary>
    public int FromSessionId { get; }

    /// <summary>When the relay acknowledged it (local time).</summary>
    public DateTime AcknowledgedAt { get; }

    /// <summary>The payload as text.</summary>
    public override string ToString() => Data;
}

/// <summary>An error code with its description (Get-WebifiErrorText).</summary>
public sealed class WebifiErrorDescription
{
    /// <summary>Pairs a code with its description.</summary>
    /// <param name="code">The Webifi error code.</param>
    /// <param name="text">Its description.</param>
    public WebifiErrorDescription(int code, string text)
    {
        Code = code;
        Text = text;
    }

    /// <summary>The Webifi error code.</summary>
    public int Code { get; }

    /// <summary>Its description, from the relay's table or our own.</summary>
    public string Text { get; }

    /// <summary>The description.</summary>
    public override string ToString() => Text;
}
