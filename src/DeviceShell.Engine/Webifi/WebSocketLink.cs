using System.Net.WebSockets;
using System.Text.Unicode;
using DeviceShell.Engine.Sessions;
using Websocket.Client;
using Websocket.Client.Exceptions;

namespace DeviceShell.Engine.Webifi;

/// <summary>
/// The WebSocket transport (docs/design/webifi.md §3.2) on Websocket.Client. The library keeps the socket up: it reconnects
/// after a drop, whatever ended the socket, after the session's <see cref="ReconnectBackoff"/> pause (which starts
/// over only once the relay answered a send or keep-alive), and when nothing at all arrived for <see cref="WebifiConnectOptions.KeepAliveInterval"/> plus
/// <see cref="WebifiConnectOptions.ReplyTimeout"/> (its no-message timeout; our <c>~t=1</c> keep-alives make an idle
/// but healthy relay answer in time). After each reconnect this link authenticates the same device id again and
/// sets the networks; only when the relay no longer knows the device id is the link broken, and the session logs in anew.
/// Every message ends in <c>~t=1</c>; the relay answers each one (a, n, s, k, c) in order, so replies are matched
/// first-in first-out. In the DeviceShell dialect data is pipelined: a batch goes out back to back, several messages
/// per frame, and then its <c>rt=s</c> answers are awaited; in the official one the session hands over one message at
/// a time and each goes in a frame of its own.
/// </summary>
internal sealed partial class WebSocketLink : WebifiLink, IObserver<ResponseMessage>, IObserver<DisconnectionInfo>, IObserver<ReconnectionInfo>
{
    /// <summary>A data frame is closed once it holds this much; a single larger message still goes in one frame.</summary>
    private const int FrameBytes = 16 * 1024;

    private readonly WebsocketClient _client;
    private readonly IDisposable[] _subscriptions;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Queue<(string ResponseType, TaskCompletionSource<int> Reply)> _waiting = new();
    private TildeFramer _framer;
    private volatile IReadOnlyList<string> _networks = Array.Empty<string>();
    private WebSocket? _socket;
    private bool _socketOpen;
    private int _socketNumber;
    private TaskCompletionSource _authenticated = NewGate();
    private long _lastReceivedTicks = DateTime.UtcNow.Ticks;
    private bool _socketOpenedBefore;
    /// <summary>What ended the last socket, for the errors of the sends it cut.</summary>
    private volatile string _lastDrop = "the WebSocket dropped";
    private volatile bool _opened;
    private volatile bool _closing;
    private Timer? _keepAlive;
    private Task? _keepAliveSend;

    public WebSocketLink(WebifiCredentials credentials, WebifiConnectOptions options, WebifiCounters counters, ReconnectBackoff backoff, IWebifiLinkOwner owner)
        : base(credentials, options, counters, backoff, owner)
    {
        _framer = NewFramer();
        _client = new WebsocketClient(credentials.WebSocket, null, ConnectSocketAsync)
        {
            ConnectTimeout = options.ReplyTimeout,
            ReconnectTimeout = options.KeepAliveInterval + options.ReplyTimeout,
            // Only the pause after a failed connect attempt; the back-off proper is in ConnectSocketAsync.
            ErrorReconnectTimeout = ReconnectBackoff.First,
            // Frames reach the tilde framer as bytes, text or binary alike (the relay sends binary, docs/design/webifi.md §3.2).
            IsTextMessageConversionEnabled = false,
            // The library names its client only in its own log lines, which nothing here collects: one name for all.
            Name = "Webifi",
        };
        // The link observes the library itself: three delegates and their wrapping observers less per idle session.
        _subscriptions = new[]
        {
            _client.MessageReceived.Subscribe(this),
            _client.DisconnectionHappened.Subscribe(this),
            _client.ReconnectionHappened.Subscribe(this),
        };
    }

    public override async Task<int> OpenAsync(IReadOnlyList<string> networks, CancellationToken cancellationToken)
    {
        try
        {
            await _client.StartOrFail().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (WebsocketException ex)
        {
            string why = ex.InnerException?.Message ?? ex.Message;
            throw new DeviceException(DeviceErrorKind.Connection, "WebifiConnectionFailed",
                $"Could not open the Webifi WebSocket {Credentials.WebSocket} (error 20): {why}", Credentials.WebSocket, ex);
        }
        int code = await AuthenticateAsync(networks, cancellationToken).ConfigureAwait(false);
        _keepAlive = new Timer(static link => ((WebSocketLink)link!).OnKeepAliveDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        RearmKeepAlive(Options.KeepAliveInterval);
        _opened = true;
        return code;
    }

    public override async Task<int> SetNetworksAsync(IReadOnlyList<string> networks, CancellationToken cancellationToken)
    {
        _networks = networks;
        await WhenAuthenticatedAsync(cancellationToken).ConfigureAwait(false);
        return await RequestAsync("n", NetworksMessage(networks), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends the batch as a few frames, several messages each (every message ends in its own <c>~t=1</c> and gets its own
    /// <c>rt=s</c>, docs/design/webifi.md §8), and returns without waiting for the answers. Fails (nothing more sent) when the
    /// socket dropped part way; the answers of what went out before fail with the drop.
    /// </summary>
    public override async Task<(int Socket, Task<int>[] Replies)> SendAsync(IReadOnlyList<NumberedOutgoing> batch, int? sameSocketAs, CancellationToken cancellationToken)
    {
        await WhenAuthenticatedAsync(cancellationToken).ConfigureAwait(false);
        var replies = new Task<int>[batch.Count];
        var frame = new List<byte>();
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int next = 0;
            while (next < batch.Count)
            {
                frame.Clear();
                int first = next;
                do
                {
                    batch[next++].AppendTo(frame, Credentials);
                    frame.AddRange(TildeCodec.Terminator);
                }
                while (next < batch.Count && frame.Count < FrameBytes);
                var (socket, answers) = await SendFrameLockedAsync("s", frame, next - first, sameSocketAs).ConfigureAwait(false);
                answers.CopyTo(replies, first);
                // The rest of the batch must follow on the same socket.
                sameSocketAs = socket;
                Counters.NextUpload();
                WatchReply(answers[^1]);
            }
            return (sameSocketAs ?? Volatile.Read(ref _socketNumber), replies);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Answers come in order, so a frame's last answer not arriving in time means the relay stopped answering.</summary>
    private void WatchReply(Task<int> reply) => _ = WatchReplyAsync(reply);

    private async Task WatchReplyAsync(Task<int> reply)
    {
        try
        {
            await reply.WaitAsync(Options.ReplyTimeout, BrokenToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Break(Lost($"no answer within {Options.ReplyTimeout.TotalSeconds:0.#} s"));
        }
        catch (Exception ex) when (ex is DeviceException or OperationCanceledException)
        {
            // The socket dropped or the link broke: whoever waits on the answer sees that.
        }
    }

    public override async Task CloseAsync(CancellationToken cancellationToken)
    {
        // The relay closes the socket after rt=c: that must not bring it back.
        _closing = true;
        _client.IsReconnectionEnabled = false;
        if (IsBroken || !_authenticated.Task.IsCompleted) return;
        var close = new List<byte>();
        TildeCodec.AppendField(close, "c", "t");
        try
        {
            await RequestAsync("c", close, cancellationToken).ConfigureAwait(false);
            await _client.Stop(WebSocketCloseStatus.NormalClosure, "closed").WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DeviceException or WebsocketException or OperationCanceledException)
        {
            // Best effort: the relay lets an unclosed session expire.
        }
    }

    /// <summary>Sends the device id, then the networks, on a freshly (re)connected socket; returns the networks code.</summary>
    private async Task<int> AuthenticateAsync(IReadOnlyList<string> networks, CancellationToken cancellationToken)
    {
        _networks = networks;
        int socketNumber = Volatile.Read(ref _socketNumber);
        var auth = new List<byte>();
        TildeCodec.AppendField(auth, "id", Credentials.DeviceId);
        int code = await RequestAsync("a", auth, cancellationToken).ConfigureAwait(false);
        if (code != WebifiErrorCode.Success)
            throw new DeviceException(DeviceErrorKind.Connection, "WebifiSessionExpired", $"The relay refused the device id on the WebSocket (error {code}).");
        code = await RequestAsync("n", NetworksMessage(networks), cancellationToken).ConfigureAwait(false);
        lock (_waiting)
        {
            // Answers from a socket that dropped meanwhile do not open the gate for its successor.
            if (!_socketOpen || socketNumber != _socketNumber) throw Interrupted();
            _authenticated.TrySetResult();
        }
        return code;
    }

    private static List<byte> NetworksMessage(IReadOnlyList<string> networks)
    {
        var message = new List<byte>();
        TildeCodec.AppendField(message, "nc", "1");
        foreach (string network in networks) TildeCodec.AppendField(message, "ns", network);
        return message;
    }

    /// <summary>Waits until the current socket is authenticated (at once, unless the library is reconnecting).</summary>
    private Task WhenAuthenticatedAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource gate;
        lock (_waiting) { gate = _authenticated; }
        return gate.Task.IsCompleted ? Task.CompletedTask : WaitGateAsync(gate.Task, cancellationToken);
    }

    private async Task WaitGateAsync(Task gate, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, BrokenToken);
        try
        {
            await gate.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw BreakReason;
        }
    }

    /// <summary>Sends one message and waits for its reply of type <paramref name="responseType"/>.</summary>
    private async Task<int> RequestAsync(string responseType, List<byte> message, CancellationToken cancellationToken)
    {
        Task<int> reply;
        message.AddRange(TildeCodec.Terminator);
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            reply = (await SendFrameLockedAsync(responseType, message, 1).ConfigureAwait(false)).Replies[0];
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

    /// <summary>
    /// Registers a reply waiter per message in the frame and sends it, both under the send lock so waiters are in wire
    /// order. The frame goes straight to the current socket rather than through the library's send queues: those keep
    /// text and binary frames in two queues (so their order is lost) and drop frames silently while disconnected, where
    /// a failed send here is seen and the frame goes out again after the reconnect. Frames are text, as the official
    /// clients send them, unless a payload is not valid UTF-8 (then binary). With <paramref name="sameSocketAs"/>,
    /// nothing is sent unless the socket is still that one.
    /// </summary>
    private async Task<(int Socket, Task<int>[] Replies)> SendFrameLockedAsync(string responseType, List<byte> frame, int messages, int? sameSocketAs = null)
    {
        if (IsBroken) throw BreakReason;
        var replies = new TaskCompletionSource<int>[messages];
        WebSocket? socket;
        int socketNumber;
        lock (_waiting)
        {
            socket = _socketOpen ? _socket : null;
            socketNumber = _socketNumber;
            if (socket is null || (sameSocketAs is int expected && expected != socketNumber)) throw Interrupted();
            for (int i = 0; i < messages; i++)
            {
                replies[i] = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiting.Enqueue((responseType, replies[i]));
            }
        }
        byte[] bytes = frame.ToArray();
        var type = Utf8.IsValid(bytes) ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
        try
        {
            await socket.SendAsync(bytes, type, true, BrokenToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            // The library watches only its receive side: aborting makes it see the drop at once and reconnect.
            socket.Abort();
            foreach (var reply in replies) reply.TrySetException(Interrupted());
            throw Interrupted();
        }
        return (socketNumber, Array.ConvertAll(replies, r => r.Task));
    }

    private TildeFramer NewFramer() => new(2 * Options.MaxPayloadBytes + 4096);

    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DeviceException Interrupted() => Lost(_lastDrop + "; it is being reconnected");

    public override async ValueTask DisposeAsync()
    {
        _closing = true;
        await base.DisposeAsync().ConfigureAwait(false);
        foreach (var subscription in _subscriptions) subscription.Dispose();
        _client.Dispose();
        // The timer first (its running callback finishes), then the keep-alive it may have started.
        if (_keepAlive is not null) await _keepAlive.DisposeAsync().ConfigureAwait(false);
        if (_keepAliveSend is not null) await _keepAliveSend.ConfigureAwait(false);
    }
}
