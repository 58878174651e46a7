using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Sessions.Recording;

namespace DeviceShell.Engine.PiLink;

/// <summary>
/// What a Pi link client (<see cref="PiLinkSession"/>) and server (<see cref="PiLinkServer"/>) share: the queue of
/// received messages and state changes, sending, and waiting for the reply to a message.
/// Both are sessions so that Receive-PiLinkMessage, Send-PiLinkMessage and Get-DeviceSession work on either.
/// </summary>
public abstract class PiLinkEndpoint : DeviceSession
{
    /// <summary>How often waiting reply calls are checked for their deadline and cancellation (one timer per endpoint).</summary>
    public static readonly TimeSpan ReplySweepPeriod = TimeSpan.FromMilliseconds(50);

    private readonly object _replyGate = new();
    private readonly Queue<ReplyWaiter> _replyWaiters = new();
    private Timer? _replySweep;
    private bool _sweeping;
    private long _sent;
    private long _received;
    private long _oversized;

    /// <summary>Sets up the endpoint's message queue from <paramref name="options"/>.</summary>
    /// <param name="endpoint">Where it listens or connects, as shown to the user.</param>
    /// <param name="options">The link's settings.</param>
    protected PiLinkEndpoint(string endpoint, PiLinkOptions options) : base(DeviceWorld.PiLink, endpoint)
    {
        Options = options;
        Messages = new EventBuffer<PiLinkMessage>(options.QueueCapacity, this, options.QueueMaxBytes, static m => m.Size);
    }

    /// <summary>The link's settings (message size, queue bounds, timeouts).</summary>
    public PiLinkOptions Options { get; }

    /// <summary>Received messages and state changes in order (Receive-PiLinkMessage takes from it).</summary>
    internal EventBuffer<PiLinkMessage> Messages { get; }

    /// <summary>Raised (on the buffer's dispatcher task) for every received message and state change; works with Register-ObjectEvent.</summary>
    public event EventHandler<PiLinkMessage>? MessageReceived
    {
        add => Messages.Received += value;
        remove => Messages.Received -= value;
    }

    /// <inheritdoc/>
    public override long DroppedEvents => Messages.Dropped;

    /// <inheritdoc/>
    public override int QueuedEvents => Messages.Count;

    /// <summary>Bytes the queued items hold (bounded by <see cref="PiLinkOptions.QueueMaxBytes"/>).</summary>
    public long QueuedBytes => Messages.Bytes;

    /// <summary>Messages sent over the link, since the endpoint was created.</summary>
    public long MessagesSent => Interlocked.Read(ref _sent);

    /// <summary>Messages received over the link (state changes not counted), since the endpoint was created.</summary>
    public long MessagesReceived => Interlocked.Read(ref _received);

    /// <summary>Messages a peer sent over <see cref="PiLinkOptions.MaxMessageBytes"/>: each was dropped and reported as MESSAGE_TOO_LARGE.</summary>
    public long OversizedMessages => Interlocked.Read(ref _oversized);

    /// <summary>Pi link records its messages and link states (docs/recording-format.md "Pi link").</summary>
    private protected override bool CanRecord => true;

    /// <summary>The tcpcom state of the link (LISTENING, CONNECTED, DISCONNECTED, ...).</summary>
    public abstract PiLinkState LinkState { get; }

    /// <summary>Sends one message to the peer.</summary>
    /// <exception cref="DeviceException">PiLinkNotConnected, PiLinkMessageTooLarge, PiLinkMessageHasTerminator, PiLinkSendFailed.</exception>
    public Task SendAsync(string text, CancellationToken cancellationToken = default)
    {
        byte[] bytes = PiLinkFrameDecoder.Encode(text, Options.Terminator, Options.MaxMessageBytes);
        return SendBytesAsync(text, bytes, cancellationToken);
    }

    /// <summary>
    /// Sends one message and returns the next message the peer sends back. tcpcom's <c>sendMessage(msg, responseTime)</c>
    /// never saw its reply (docs/design/pilink-tcpcom.md §4.3); here the reply is claimed by this call and is not queued for
    /// Receive-PiLinkMessage as well. Concurrent callers get replies in the order they sent.
    /// The reader completes the call directly (no hand-off to another thread), and deadlines and cancellation are
    /// checked by one sweep per endpoint every <see cref="ReplySweepPeriod"/> while calls wait, not by a timer and a
    /// token registration per call (docs/design/decisions.md §13.1: round trips at the wire's pace).
    /// </summary>
    /// <exception cref="DeviceException">PiLinkReplyTimeout when nothing came back within <paramref name="wait"/>,
    /// PiLinkDisconnected when the link ended first, or a send error.</exception>
    public async Task<PiLinkMessage> SendAndReceiveReplyAsync(string text, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        byte[] bytes = PiLinkFrameDecoder.Encode(text, Options.Terminator, Options.MaxMessageBytes);
        cancellationToken.ThrowIfCancellationRequested();
        var waiter = new ReplyWaiter(text, wait, this, cancellationToken);
        lock (_replyGate)
        {
            _replyWaiters.Enqueue(waiter);
            if (!_sweeping)
            {
                _sweeping = true;
                _replySweep ??= new Timer(static state => ((PiLinkEndpoint)state!).SweepReplies(), this, Timeout.Infinite, Timeout.Infinite);
                _replySweep.Change(ReplySweepPeriod, ReplySweepPeriod);
            }
        }
        try
        {
            await SendBytesAsync(text, bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Not sent, so no reply is coming: the next reply must go to the next waiter, not to this one.
            waiter.TrySetCanceled(CancellationToken.None);
            throw;
        }
        return await waiter.Task.ConfigureAwait(false);
    }

    /// <summary>Fails waiting calls whose deadline passed or whose token fired; stops the timer once none wait.</summary>
    private void SweepReplies()
    {
        List<ReplyWaiter>? expired = null;
        lock (_replyGate)
        {
            long now = Environment.TickCount64;
            for (int i = _replyWaiters.Count; i > 0; i--)
            {
                // One turn around the queue keeps the waiters that stay in their order.
                var waiter = _replyWaiters.Dequeue();
                if (waiter.Task.IsCompleted) continue;
                if (waiter.IsExpired(now)) (expired ??= new()).Add(waiter);
                else _replyWaiters.Enqueue(waiter);
            }
            if (_replyWaiters.Count == 0 && _sweeping)
            {
                _sweeping = false;
                _replySweep!.Change(Timeout.Infinite, Timeout.Infinite);
            }
        }
        if (expired is null) return;
        foreach (var waiter in expired) waiter.Expire();
    }

    private async Task SendBytesAsync(string text, byte[] bytes, CancellationToken cancellationToken)
    {
        // Recorded before it leaves: the reply, recorded by the reader, may come before SendCoreAsync returns.
        if (Recording is not null) Record("send", new RecordField("text", text));
        try
        {
            await SendCoreAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (DeviceException ex) when (Recording is not null)
        {
            Record("error", new RecordField("errorId", ex.ErrorId), new RecordField("message", ex.Message));
            throw;
        }
        Interlocked.Increment(ref _sent);
    }

    /// <summary>Writes framed bytes to the current peer or throws PiLinkNotConnected / PiLinkSendFailed.</summary>
    private protected abstract Task SendCoreAsync(byte[] bytes, CancellationToken cancellationToken);

    /// <summary>Queues a state change (or a size-limit report) for consumers.</summary>
    private protected void Report(PiLinkState state, string text, string? peer)
    {
        if (state != PiLinkState.MessageTooLarge && Recording is not null) Record("link", new RecordField("state", PiLinkMessage.NameOf(state)));
        Messages.Post(new PiLinkMessage(state, text, peer, DateTime.Now));
    }

    /// <summary>Counts a message over the size limit and queues MESSAGE_TOO_LARGE; its bytes are already dropped.</summary>
    private protected void ReportOversized(long bytes, string? peer)
    {
        Interlocked.Increment(ref _oversized);
        if (Recording is not null)
            Record("error", new RecordField("errorId", "PiLinkMessageTooLarge"), new RecordField("message", "a message over the size limit"), new RecordField("bytes", bytes));
        Report(PiLinkState.MessageTooLarge, $"{bytes} bytes without a terminator (limit {Options.MaxMessageBytes})", peer);
    }

    /// <summary>
    /// Hands a received message to the oldest waiting reply call, else queues it. The waiter is completed here, on the
    /// reader, outside the lock: its caller goes on on this thread at once.
    /// </summary>
    private protected void Deliver(string text, string? peer)
    {
        Interlocked.Increment(ref _received);
        if (Recording is not null) Record("receive", new RecordField("text", text));
        var message = new PiLinkMessage(PiLinkState.Message, text, peer, DateTime.Now);
        while (true)
        {
            ReplyWaiter? waiter;
            lock (_replyGate)
            {
                while (_replyWaiters.TryDequeue(out waiter) && waiter.Task.IsCompleted) { }
            }
            if (waiter is null) break;
            if (waiter.TrySetResult(message)) return;
        }
        Messages.Post(message);
    }

    /// <summary>Fails every waiting reply call: the link they wait on has ended.</summary>
    private protected void FailPendingReplies()
    {
        List<ReplyWaiter> pending;
        lock (_replyGate)
        {
            pending = new List<ReplyWaiter>(_replyWaiters);
            _replyWaiters.Clear();
        }
        foreach (var waiter in pending)
            waiter.TrySetException(new DeviceException(DeviceErrorKind.Connection, "PiLinkDisconnected",
                $"The link ended before a reply to {LogText.Quote(waiter.Text)} arrived.", this));
    }

    private protected static DeviceException NotConnected(string what, object target) =>
        new(DeviceErrorKind.InvalidOperation, "PiLinkNotConnected", $"{what} is not connected, so the message cannot be sent.", target);

    private protected static DeviceException SendFailed(Exception inner, object target) =>
        new(DeviceErrorKind.Connection, "PiLinkSendFailed", $"Sending failed: {inner.Message}", target, inner);

    /// <summary>
    /// One reply call. Its continuation runs where it is completed (no RunContinuationsAsynchronously): on the reader
    /// for a reply, which is the point; on the sweep's timer thread for a timeout.
    /// </summary>
    private sealed class ReplyWaiter : TaskCompletionSource<PiLinkMessage>
    {
        private readonly long _deadline;
        private readonly TimeSpan _wait;
        private readonly CancellationToken _cancellationToken;
        private readonly PiLinkEndpoint _endpoint;

        public ReplyWaiter(string text, TimeSpan wait, PiLinkEndpoint endpoint, CancellationToken cancellationToken)
        {
            Text = text;
            _wait = wait;
            _deadline = wait < TimeSpan.Zero ? long.MaxValue : Environment.TickCount64 + (long)Math.Ceiling(wait.TotalMilliseconds);
            _cancellationToken = cancellationToken;
            _endpoint = endpoint;
        }

        public string Text { get; }

        public bool IsExpired(long now) => now >= _deadline || _cancellationToken.IsCancellationRequested;

        public void Expire()
        {
            if (_cancellationToken.IsCancellationRequested)
                TrySetCanceled(_cancellationToken);
            else
                TrySetException(new DeviceException(DeviceErrorKind.Timeout, "PiLinkReplyTimeout",
                    $"No reply to {LogText.Quote(Text)} arrived within {_wait.TotalSeconds:0.###} s.", _endpoint));
        }
    }
}
