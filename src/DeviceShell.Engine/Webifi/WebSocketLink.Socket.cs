using System.Net.WebSockets;
using DeviceShell.Engine.Sessions;
using Websocket.Client;

namespace DeviceShell.Engine.Webifi;

/// <summary>
/// The socket side of the WebSocket link: what the library reports (frames, drops, reconnects), the keep-alive, and
/// the connection factory that opens each socket.
/// </summary>
internal sealed partial class WebSocketLink
{
    void IObserver<ResponseMessage>.OnNext(ResponseMessage value) => OnMessage(value);

    void IObserver<DisconnectionInfo>.OnNext(DisconnectionInfo value) => OnDisconnected(value);

    void IObserver<ReconnectionInfo>.OnNext(ReconnectionInfo value) => OnReconnected(value);

    void IObserver<ResponseMessage>.OnError(Exception error) { }

    void IObserver<DisconnectionInfo>.OnError(Exception error) { }

    void IObserver<ReconnectionInfo>.OnError(Exception error) { }

    void IObserver<ResponseMessage>.OnCompleted() { }

    void IObserver<DisconnectionInfo>.OnCompleted() { }

    void IObserver<ReconnectionInfo>.OnCompleted() { }

    private void OnMessage(ResponseMessage message)
    {
        Interlocked.Exchange(ref _lastReceivedTicks, DateTime.UtcNow.Ticks);
        try
        {
            _framer.Append(message.Binary);
            while (_framer.TryTake(out byte[] received)) Handle(TildeCodec.Decode(received));
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException)
        {
            Break(new DeviceException(DeviceErrorKind.Protocol, "WebifiProtocolError", $"The relay sent a malformed message (error 7): {ex.Message}", null, ex));
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
        // The relay answered data or a keep-alive: it accepts what this session sends.
        if (responseType is "s" or "k") Backoff.Reset();
        (string ResponseType, TaskCompletionSource<int> Reply) waiter;
        lock (_waiting)
        {
            if (_waiting.Count == 0 || _waiting.Peek().ResponseType != responseType)
                throw new FormatException($"an unexpected answer rt={responseType}");
            waiter = _waiting.Dequeue();
        }
        waiter.Reply.TrySetResult(fields.FindInt("e") ?? WebifiErrorCode.Success);
    }

    /// <summary>
    /// The socket is gone (the library reconnects next): nothing more can be answered on it, so every waiter fails,
    /// with what ended the socket (the relay's close code and reason when it sent them), and sends wait for the next
    /// authentication.
    /// </summary>
    private void OnDisconnected(DisconnectionInfo info)
    {
        if (info.Type is DisconnectionType.Exit or DisconnectionType.ByUser) return;
        string why = info.CloseStatus is WebSocketCloseStatus status
            ? $"the relay closed the WebSocket with code {(int)status} ({info.CloseStatusDescription})"
            : info.Exception is { } ex ? $"the WebSocket failed: {ex.Message}" : "the WebSocket dropped";
        _lastDrop = why;
        FailWaiters(Interrupted(), reopenGate: true);
        // Until OpenAsync succeeded the session is not connected, and a failure there is reported by OpenAsync.
        if (_opened && !_closing && !IsBroken) Owner.ChangeState(DeviceSessionState.Reconnecting);
    }

    private void OnReconnected(ReconnectionInfo info)
    {
        lock (_waiting)
        {
            _socketOpen = true;
            _socketNumber++;
        }
        // The first socket is authenticated by OpenAsync; later ones here. Not inline: the library holds its lock.
        if (info.Type != ReconnectionType.Initial) _ = Task.Run(ResumeAsync);
    }

    private async Task ResumeAsync()
    {
        try
        {
            int code = await AuthenticateAsync(_networks, BrokenToken).ConfigureAwait(false);
            if (code != WebifiErrorCode.NetworksSet) Owner.Report(code, "networks");
            if (!_closing && !IsBroken) Owner.ChangeState(DeviceSessionState.Connected);
        }
        catch (DeviceException ex) when (ex.ErrorId == "WebifiSessionExpired")
        {
            // The relay forgot the device id (it restarted, or the session expired): the session logs in anew.
            Break(ex);
        }
        catch (Exception ex) when (ex is DeviceException or OperationCanceledException)
        {
            // Dropped again (the next reconnect resumes) or broken (nothing to resume).
        }
    }

    protected override void OnBroken()
    {
        _client.IsReconnectionEnabled = false;
        FailWaiters(BreakReason, reopenGate: false);
    }

    private void FailWaiters(Exception reason, bool reopenGate)
    {
        List<TaskCompletionSource<int>> failed;
        lock (_waiting)
        {
            _socketOpen = false;
            if (reopenGate && _authenticated.Task.IsCompleted) _authenticated = NewGate();
            failed = _waiting.Select(w => w.Reply).ToList();
            _waiting.Clear();
            // A message cut by the drop must not prefix the first one on the next socket.
            _framer = NewFramer();
        }
        foreach (var reply in failed) reply.TrySetException(reason);
    }

    /// <summary>
    /// After <see cref="WebifiConnectOptions.KeepAliveInterval"/> with nothing received sends <c>~t=1</c>, else waits out
    /// the rest. A one-shot timer re-armed each time rather than a waiting loop: an idle session keeps a timer, not a
    /// task with its delay and cancellation registration (docs/benchmarks.md, "Webifi idle session"). The answer is not
    /// timed here: a relay that stays silent trips the library's no-message timeout, which reconnects.
    /// </summary>
    private void OnKeepAliveDue()
    {
        if (IsBroken || _closing) return;
        var interval = Options.KeepAliveInterval;
        var idle = DateTime.UtcNow - new DateTime(Interlocked.Read(ref _lastReceivedTicks), DateTimeKind.Utc);
        if (idle < interval) RearmKeepAlive(interval - idle);
        else _keepAliveSend = SendKeepAliveAsync();
    }

    private async Task SendKeepAliveAsync()
    {
        try
        {
            await WhenAuthenticatedAsync(BrokenToken).ConfigureAwait(false);
            Task<int> answer;
            await _sendLock.WaitAsync(BrokenToken).ConfigureAwait(false);
            try
            {
                answer = (await SendFrameLockedAsync("k", new List<byte>(TildeCodec.Terminator.ToArray()), 1).ConfigureAwait(false)).Replies[0];
            }
            finally
            {
                _sendLock.Release();
            }
            await answer.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or DeviceException)
        {
            // The socket dropped meanwhile (the next one gets its own keep-alives), or the link is broken or disposed.
        }
        RearmKeepAlive(Options.KeepAliveInterval);
    }

    private void RearmKeepAlive(TimeSpan due)
    {
        try
        {
            _keepAlive?.Change(due, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Disposed with the link.
        }
    }

    /// <summary>
    /// The library's connection factory: each new socket, size-limited, also becomes the one frames are sent on. Every
    /// socket after the first waits the session's back-off first: the library itself reconnects at once after a socket
    /// the relay closed, which against a relay that closes right after what it is sent was a storm (docs/design/decisions.md §19).
    /// </summary>
    private async Task<WebSocket> ConnectSocketAsync(Uri uri, CancellationToken cancellationToken)
    {
        if (_socketOpenedBefore) await Task.Delay(Backoff.Next(), cancellationToken).ConfigureAwait(false);
        _socketOpenedBefore = true;
        // The official clients send no pings; keep-alive is the protocol's own ~t=1.
        var socket = WebSocketHandshake.ThroughProxy(uri)
            ? await ConnectThroughProxyAsync(uri, cancellationToken).ConfigureAwait(false)
            : await WebSocketHandshake.ConnectAsync(uri, Options.TrustedCertificate, cancellationToken).ConfigureAwait(false);
        var limited = new SizeLimitedWebSocket(socket, Options.MaxAnswerBytes, this);
        lock (_waiting) { _socket = limited; }
        return limited;
    }

    private async Task<WebSocket> ConnectThroughProxyAsync(Uri uri, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        try
        {
            // Through the shared handler (which checks certificates and tunnels through the proxy).
            await socket.ConnectAsync(uri, WebifiLogin.SharedHttpClient(Options.TrustedCertificate), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
