using System.Net.WebSockets;
using DeviceShell.Engine.Webifi;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// One client on <c>/api/WebSocket</c> (docs/design/webifi.md §3.2). Client frames (text or binary) are cut into messages at
/// the <c>~t=1</c> field; each message gets exactly one reply, in order: <c>rt=a</c> (auth), <c>rt=n</c> (networks),
/// <c>rt=s</c> (one per data message, after the data has been routed), <c>rt=k</c> (keep-alive), <c>rt=c</c> (close).
/// Received data goes out as <c>rt=r</c> frames written by a writer task from the session's mailbox. Every
/// frame the relay sends is binary, as the Python 3 library needs.
/// </summary>
internal sealed class RelayWebSocket
{
    private readonly WebSocket _socket;
    private readonly IRelayRouter _router;
    private readonly WebifiRelayOptions _options;
    private readonly TildeFramer _framer;
    private readonly ILogger _log;
    private readonly CancellationToken _abort;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly SemaphoreSlim _processing = new(1, 1);
    /// <summary>Answers to the messages of the current read, sent together (under <see cref="_processing"/>).</summary>
    private readonly List<byte> _replies = new();
    private bool _endSessionAfterReplies;
    private readonly CancellationTokenSource _drain = new();
    private RelaySession? _session;
    private Task? _writer;
    private bool _stopping;

    /// <summary>How much received data one step gathers from frames already here (see <see cref="RunAsync"/>).</summary>
    private const int GatherBytes = 64 * 1024;

    public RelayWebSocket(WebSocket socket, IRelayRouter router, WebifiRelayOptions options, ILogger log, CancellationToken abort)
    {
        _socket = socket;
        _router = router;
        _options = options;
        // Until the socket has authenticated, a message may only be small (docs/design/decisions.md §12.3).
        _framer = new TildeFramer(options.MaxUnauthenticatedBytes);
        _log = log;
        _abort = abort;
    }

    /// <summary>
    /// Reads and answers messages until the socket closes. A socket that has not authenticated within
    /// <see cref="WebifiRelayOptions.AuthenticationTimeout"/> is closed (PolicyViolation) and aborted a moment later.
    /// </summary>
    public async Task RunAsync()
    {
        var buffer = new byte[16 * 1024];
        using var deadline = new CancellationTokenSource(_options.AuthenticationTimeout);
        using var onDeadline = deadline.Token.Register(() =>
        {
            if (Volatile.Read(ref _session) is null) _ = CloseUnauthenticatedAsync();
        });
        // A receive started while the frames before it are handled; awaited first thing on the next turn.
        Task<WebSocketReceiveResult>? ahead = null;
        try
        {
            while (true)
            {
                var result = await (ahead ?? _socket.ReceiveAsync(buffer, _abort)).ConfigureAwait(false);
                ahead = null;
                if (result.MessageType == WebSocketMessageType.Close) break;
                try
                {
                    _framer.Append(buffer.AsSpan(0, result.Count));
                    // Frames already here join this step: one routing call (with Redis, one script call) for all of
                    // them, so a busy sender's steps grow with its backlog instead of staying one frame each. A
                    // close or failure already here waits for the next turn, after the data before it.
                    while (_framer.Pending < GatherBytes
                        && (ahead = _socket.ReceiveAsync(buffer, _abort)).IsCompletedSuccessfully
                        && ahead.Result.MessageType != WebSocketMessageType.Close)
                    {
                        _framer.Append(buffer.AsSpan(0, ahead.Result.Count));
                        ahead = null;
                    }
                }
                catch (InvalidDataException ex)
                {
                    _log.LogWarning("Closing a WebSocket of session {Session}: {Reason}", _session?.Id, ex.Message);
                    await SendAsync(Reply("s", WebifiErrorCode.ProtocolError)).ConfigureAwait(false);
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, "message too large", _abort).ConfigureAwait(false);
                    break;
                }
                if (!await HandleReceivedAsync().ConfigureAwait(false)) break;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            _log.LogDebug("WebSocket of session {Session} ended: {Reason}", _session?.Id, ex.Message);
        }
        finally
        {
            // A receive left pending fails as the socket closes: observed here, nothing waits for it.
            _ = ahead?.ContinueWith(static receive => receive.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            _drain.Cancel();
            if (_writer is not null) await _writer.ConfigureAwait(false);
            _session?.DetachWebSocket();
            await CloseQuietlyAsync().ConfigureAwait(false);
        }
    }

    /// <summary>First step of a relay stop: finish the message in hand, then take no more (the client resends what was not acknowledged).</summary>
    public async Task StopReadingAsync()
    {
        await _processing.WaitAsync().ConfigureAwait(false);
        _stopping = true;
        _processing.Release();
    }

    /// <summary>Second step: write out what the mailbox holds, then close the socket (bounded by <paramref name="timeout"/>).</summary>
    public async Task FlushAndCloseAsync(TimeSpan timeout)
    {
        _drain.Cancel();
        try
        {
            if (_writer is not null) await _writer.WaitAsync(timeout).ConfigureAwait(false);
            if (_session is not null) await _router.SettleAsync(_session).WaitAsync(timeout).ConfigureAwait(false);
            await _sendLock.WaitAsync(timeout).ConfigureAwait(false);
            await _socket.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "relay stopping", CancellationToken.None).WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or WebSocketException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // Also a connection Kestrel has completed meanwhile (the client went away as the relay stopped).
            _socket.Abort();
        }
    }

    /// <summary>
    /// Answers every complete message received so far, in order, and sends the answers together in one frame (the
    /// clients cut what they receive at <c>~t=1</c>, docs/design/webifi.md §3.2, so frame boundaries do not matter to them): a client
    /// sending many messages per frame gets its acknowledgements at the same pace. Consecutive data messages are routed
    /// together in one step (with Redis: one script call, not one round trip per message); any other message is
    /// handled after the data before it has been routed, so a change of networks applies from where it was sent. The
    /// answers go out before a stop can begin, so nothing routed stays unacknowledged. False when the client closed the session.
    /// </summary>
    private async Task<bool> HandleReceivedAsync()
    {
        await _processing.WaitAsync(_abort).ConfigureAwait(false);
        try
        {
            bool goOn = true;
            var data = new List<IReadOnlyList<RelayDataGroup>>();
            while (goOn && _framer.TryTake(out byte[] message))
            {
                if (_stopping) continue; // not acknowledged: the client sends it again to the next relay
                var fields = Decode(message);
                if (fields is not null && IsData(fields) && _session is not null && _router.IsLive(_session))
                {
                    _session.Touch();
                    data.Add(RelayDataGroup.Parse(fields));
                    continue;
                }
                await RouteAsync(data).ConfigureAwait(false);
                goOn = await HandleAsync(fields).ConfigureAwait(false);
            }
            await RouteAsync(data).ConfigureAwait(false);
            if (_replies.Count > 0)
            {
                await SendAsync(_replies).ConfigureAwait(false);
                _replies.Clear();
            }
            if (_endSessionAfterReplies && _session is not null) _router.Remove(_session);
            return goOn;
        }
        finally
        {
            _processing.Release();
        }
    }

    private static List<TildeField>? Decode(byte[] message)
    {
        try
        {
            return TildeCodec.Decode(message);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool IsData(List<TildeField> fields) => fields.Count > 0 && fields[0].Key is "n" or "s" or "dt" or "u" or "d";

    /// <summary>Routes the data messages gathered so far and queues their answers; none when the relay is stopping (unacknowledged, the client sends them again later).</summary>
    private async Task RouteAsync(List<IReadOnlyList<RelayDataGroup>> data)
    {
        if (data.Count == 0) return;
        if (await _router.RouteAllAsync(_session!, data).ConfigureAwait(false) is { } codes)
        {
            foreach (int code in codes) AddReply("s", code);
        }
        data.Clear();
    }

    /// <summary>Handles one message other than routable data (null: bad tilde encoding) and queues its answer; false after a close.</summary>
    private async ValueTask<bool> HandleAsync(List<TildeField>? fields)
    {
        if (fields is null)
        {
            AddReply("s", WebifiErrorCode.ProtocolError);
            return true;
        }
        if (fields.Count == 0)
        {
            AddReply("k", null);
            return true;
        }
        _session?.Touch();
        switch (fields[0].Key)
        {
            case "id":
                AddReply("a", await AuthenticateAsync(fields[0].Text).ConfigureAwait(false));
                return true;
            case "nc":
                int networks = _session is null || !_router.IsLive(_session) ? WebifiErrorCode.SessionExpired : await _router.SetNetworksAsync(_session, fields.FindAll("ns")).ConfigureAwait(false);
                AddReply("n", networks);
                return true;
            case "c":
                AddReply("c", WebifiErrorCode.Success);
                // Ended after rt=c has gone out: ending the session closes its socket.
                _endSessionAfterReplies = fields[0].Text == "t";
                return false;
            case "n" or "s" or "dt" or "u" or "d":
                AddReply("s", WebifiErrorCode.SessionExpired); // data without a live session: routable data does not come here
                return true;
            default:
                AddReply("s", WebifiErrorCode.ProtocolError);
                return true;
        }
    }

    private async ValueTask<int> AuthenticateAsync(string deviceId)
    {
        var session = await _router.FindAsync(deviceId).ConfigureAwait(false);
        if (session is null) return WebifiErrorCode.SessionExpired;
        if (session != _session)
        {
            _session?.DetachWebSocket();
            Volatile.Write(ref _session, session);
            _framer.MaxMessageBytes = _options.MaxEncodedBytes;
            session.AttachWebSocket();
            // An expired session's socket is closed, so its client notices and logs in again.
            session.Ended.Register(() => _ = CloseAsync(WebSocketCloseStatus.PolicyViolation, "session expired"));
            _writer ??= Task.Run(WriteLoopAsync);
        }
        return WebifiErrorCode.Success;
    }

    /// <summary>Writes the mailbox as <c>rt=r</c> frames (several messages per frame) until drained at a stop or close.</summary>
    private async Task WriteLoopAsync()
    {
        try
        {
            while (true)
            {
                var session = _session!;
                try
                {
                    await session.WaitForMailAsync(_drain.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Draining: send what is left, then stop.
                }
                var batch = session.TakeBatch(64 * 1024);
                if (batch.Count == 0)
                {
                    if (_drain.IsCancellationRequested) return;
                    continue;
                }
                var frame = new List<byte>();
                TildeCodec.AppendField(frame, "rt", "r");
                foreach (var delivery in batch) delivery.AppendTo(frame, session.MessageIds);
                frame.AddRange(TildeCodec.Terminator);
                await SendAsync(frame).ConfigureAwait(false);
                _router.Delivered(session, batch);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            _log.LogDebug("Writer of session {Session} ended: {Reason}", _session?.Id, ex.Message);
        }
    }

    private static List<byte> Reply(string responseType, int? code)
    {
        var reply = new List<byte>(16);
        AppendReply(reply, responseType, code);
        return reply;
    }

    private void AddReply(string responseType, int? code) => AppendReply(_replies, responseType, code);

    private static void AppendReply(List<byte> output, string responseType, int? code)
    {
        TildeCodec.AppendField(output, "rt", responseType);
        if (code is int value) TildeCodec.AppendField(output, "e", value);
        output.AddRange(TildeCodec.Terminator);
    }

    private async Task SendAsync(List<byte> frame)
    {
        await _sendLock.WaitAsync(_abort).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(frame.ToArray(), WebSocketMessageType.Binary, true, _abort).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        try
        {
            await _sendLock.WaitAsync(_abort).ConfigureAwait(false);
            try
            {
                await _socket.CloseOutputAsync(status, reason, _abort).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            _socket.Abort();
        }
    }

    private async Task CloseUnauthenticatedAsync()
    {
        _log.LogDebug("Closing a WebSocket that did not authenticate within {Seconds} s", _options.AuthenticationTimeout.TotalSeconds);
        await CloseAsync(WebSocketCloseStatus.PolicyViolation, "not authenticated in time").ConfigureAwait(false);
        // A peer that does not answer the close must not keep the connection either.
        await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        if (_socket.State != WebSocketState.Closed) _socket.Abort();
    }

    private async Task CloseQuietlyAsync()
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, limit.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                _socket.Abort();
            }
        }
    }
}
