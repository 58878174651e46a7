using System.Net.WebSockets;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Webifi;

/// <summary>
/// A WebSocket that refuses to receive a message longer than a limit. Websocket.Client collects every message whole
/// before handing it on, so without this a relay sending one endless message would grow the client's memory without
/// bound. Past the limit the socket is aborted and the callback is told why, before the library sees the receive fail.
/// </summary>
internal sealed class SizeLimitedWebSocket : WebSocket
{
    private readonly WebSocket _inner;
    private readonly int _maxMessageBytes;
    /// <summary>Broken when a message goes past the limit (the link itself, not a delegate an idle session would keep).</summary>
    private readonly WebifiLink _link;
    private long _messageBytes;

    public SizeLimitedWebSocket(WebSocket inner, int maxMessageBytes, WebifiLink link)
    {
        _inner = inner;
        _maxMessageBytes = maxMessageBytes;
        _link = link;
    }

    public override WebSocketCloseStatus? CloseStatus => _inner.CloseStatus;

    public override string? CloseStatusDescription => _inner.CloseStatusDescription;

    public override WebSocketState State => _inner.State;

    public override string? SubProtocol => _inner.SubProtocol;

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await _inner.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
        Count(result.Count, result.EndOfMessage);
        return result;
    }

    public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await _inner.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
        Count(result.Count, result.EndOfMessage);
        return result;
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        _inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        _inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        _inner.CloseAsync(closeStatus, statusDescription, cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        _inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

    public override void Abort() => _inner.Abort();

    public override void Dispose() => _inner.Dispose();

    private void Count(int received, bool endOfMessage)
    {
        _messageBytes += received;
        if (_messageBytes > _maxMessageBytes)
        {
            _inner.Abort();
            _link.Break(new DeviceException(DeviceErrorKind.Protocol, "WebifiAnswerTooLarge",
                $"The relay sent a WebSocket message longer than {_maxMessageBytes} bytes (error 7); it was not read to the end."));
            throw new WebSocketException(WebSocketError.Faulted, $"A message longer than {_maxMessageBytes} bytes.");
        }
        if (endOfMessage) _messageBytes = 0;
    }
}
