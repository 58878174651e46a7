using System.Net.WebSockets;
using System.Text.Unicode;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Webifi;

/// <summary>
/// The WebSocket transport (webifi.md §3.2) on the BCL <see cref="ClientWebSocket"/>. Every message ends in
/// <c>~t=1</c>; the relay answers each one (a, n, s, k, c) in order, so replies are matched first-in first-out.
/// Data is pipelined: a batch goes out back to back and then its <c>rt=s</c> answers are awaited. Frames are
/// text, as the official clients send them, unless a payload is not valid UTF-8 (then binary).
/// </summary>
internal sealed class WebSocketLink : WebifiLink
{
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Queue<(string ResponseType, TaskCompletionSource<int> Reply)> _waiting = new();
    private Task? _reader;
    private Task? _keepAlive;
    private long _lastActivityTicks = DateTime.UtcNow.Ticks;

    public WebSocketLink(WebifiCredentials credentials, WebifiConnectOptions options, WebifiCounters counters, Action<int, string, byte[]> deliver, Action<int, string> report)
        : base(credentials, options, counters, deliver, report)
    {
        // The official clients send no pings; keep-alive is the protocol's own ~t=1.
        _socket.Options.KeepAliveInterval = TimeSpan.Zero;
        if (options.UseEncryption) _socket.Options.RemoteCertificateValidationCallback = WebifiLogin.CertificateCheck(options.TrustedCertificate);
    }

    public override async Task<int> OpenAsync(IReadOnlyList<string> networks, CancellationToken cancellationToken)
    {
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            limit.CancelAfter(Options.ReplyTimeout);
            try
            {
                await _socket.ConnectAsync(Credentials.WebSocket, limit.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new DeviceException(DeviceErrorKind.Connection, "WebifiConnectionFailed",
                    $"Could not open the Webifi WebSocket {Credentials.WebSocket} (error 20): {ex.Message}", Credentials.WebSocket, ex);
            }
        }
        _reader = Task.Run(ReadLoopAsync);
        var auth = new List<byte>();
        TildeCodec.AppendField(auth, "id", Credentials.DeviceId);
        int code = await RequestAsync("a", auth, cancellationToken).ConfigureAwait(false);
        if (code != WebifiErrorCode.Success)
            throw new DeviceException(DeviceErrorKind.Connection, "WebifiSessionExpired", $"The relay refused the device id on the WebSocket (error {code}).");
        _keepAlive = Task.Run(KeepAliveLoopAsync);
        return await SetNetworksAsync(networks, cancellationToken).ConfigureAwait(false);
    }

    public override Task<int> SetNetworksAsync(IReadOnlyList<string> networks, CancellationToken cancellationToken)
    {
        var message = new List<byte>();
        TildeCodec.AppendField(message, "nc", "1");
        foreach (string network in networks) TildeCodec.AppendField(message, "ns", network);
        return RequestAsync("n", message, cancellationToken);
    }

    public override async Task<int[]> SendAsync(IReadOnlyList<WebifiOutgoing> batch, CancellationToken cancellationToken)
    {
        var replies = new List<Task<int>>(batch.Count);
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var outgoing in batch)
            {
                var frame = new List<byte>();
                outgoing.AppendTo(frame);
                replies.Add(await SendFrameLockedAsync("s", frame).ConfigureAwait(false));
                Counters.NextUpload();
            }
        }
        finally
        {
            _sendLock.Release();
        }
        try
        {
            return await AwaitRepliesAsync(Task.WhenAll(replies), cancellationToken).ConfigureAwait(false);
        }
        catch (DeviceException) when (replies[0].IsCompletedSuccessfully)
        {
            // The link broke part way: what was acknowledged counts, the rest is sent again after the reconnect.
            return replies.TakeWhile(r => r.IsCompletedSuccessfully).Select(r => r.Result).ToArray();
        }
    }

    public override async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (IsBroken) return;
        var close = new List<byte>();
        TildeCodec.AppendField(close, "c", "t");
        try
        {
            await RequestAsync("c", close, cancellationToken).ConfigureAwait(false);
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DeviceException or WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Best effort: the relay lets an unclosed session expire.
        }
    }

    /// <summary>Sends one message and waits for its reply of type <paramref name="responseType"/>.</summary>
    private async Task<int> RequestAsync(string responseType, List<byte> message, CancellationToken cancellationToken)
    {
        Task<int> reply;
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            reply = await SendFrameLockedAsync(responseType, message).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
        return await AwaitRepliesAsync(reply, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> AwaitRepliesAsync<T>(Task<T> replies, CancellationToken cancellationToken)
    {
        try
        {
            return await replies.WaitAsync(Options.ReplyTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var lost = Lost($"no answer within {Options.ReplyTimeout.TotalSeconds:0.#} s");
            Break(lost);
            throw lost;
        }
    }

    /// <summary>Registers the reply waiter and sends, both under the send lock so waiters are in wire order.</summary>
    private async Task<Task<int>> SendFrameLockedAsync(string responseType, List<byte> message)
    {
        if (IsBroken) throw BreakReason;
        message.AddRange(TildeCodec.Terminator);
        byte[] frame = message.ToArray();
        var reply = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiting) { _waiting.Enqueue((responseType, reply)); }
        var type = Utf8.IsValid(frame) ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
        try
        {
            await _socket.SendAsync(frame, type, true, BrokenToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            var lost = Lost(ex.Message, ex);
            Break(lost);
            throw lost;
        }
        Interlocked.Exchange(ref _lastActivityTicks, DateTime.UtcNow.Ticks);
        return reply.Task;
    }

    private async Task ReadLoopAsync()
    {
        var framer = new TildeFramer(2 * Options.MaxPayloadBytes + 4096);
        var buffer = new byte[64 * 1024];
        Exception reason;
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, BrokenToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    reason = Lost($"the relay closed the WebSocket ({result.CloseStatus} {result.CloseStatusDescription})");
                    break;
                }
                framer.Append(buffer.AsSpan(0, result.Count));
                while (framer.TryTake(out byte[] message)) Handle(TildeCodec.Decode(message));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException or InvalidDataException)
        {
            reason = Lost(ex.Message, ex);
        }
        catch (FormatException ex)
        {
            reason = new DeviceException(DeviceErrorKind.Protocol, "WebifiProtocolError", $"The relay sent a malformed message (error 7): {ex.Message}", null, ex);
        }
        Break(reason);
        lock (_waiting)
        {
            while (_waiting.Count > 0) _waiting.Dequeue().Reply.TrySetException(reason);
        }
    }

    private void Handle(List<TildeField> fields)
    {
        string? responseType = fields.Find("rt");
        if (responseType == "r")
        {
            DeliverGroups(fields);
            return;
        }
        if (responseType is null) return;
        (string ResponseType, TaskCompletionSource<int> Reply) waiter;
        lock (_waiting)
        {
            if (_waiting.Count == 0 || _waiting.Peek().ResponseType != responseType)
                throw new FormatException($"an unexpected answer rt={responseType}");
            waiter = _waiting.Dequeue();
        }
        Interlocked.Exchange(ref _lastActivityTicks, DateTime.UtcNow.Ticks);
        waiter.Reply.TrySetResult(fields.FindInt("e") ?? WebifiErrorCode.Success);
    }

    /// <summary>After <see cref="WebifiConnectOptions.KeepAliveInterval"/> without activity sends <c>~t=1</c>; no <c>rt=k</c> in time breaks the link.</summary>
    private async Task KeepAliveLoopAsync()
    {
        var interval = Options.KeepAliveInterval;
        try
        {
            while (!IsBroken)
            {
                var idle = DateTime.UtcNow - new DateTime(Interlocked.Read(ref _lastActivityTicks), DateTimeKind.Utc);
                if (idle < interval)
                {
                    await Task.Delay(interval - idle, BrokenToken).ConfigureAwait(false);
                    continue;
                }
                await RequestAsync("k", new List<byte>(), BrokenToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or DeviceException or ObjectDisposedException)
        {
            // The link is broken (the request itself breaks it when the relay does not answer).
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync().ConfigureAwait(false);
        _socket.Abort();
        if (_reader is not null) await _reader.ConfigureAwait(false);
        if (_keepAlive is not null) await _keepAlive.ConfigureAwait(false);
        _socket.Dispose();
    }
}
