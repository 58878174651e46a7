using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.PiLink;

/// <summary>
/// What a Pi link client (<see cref="PiLinkSession"/>) and server (<see cref="PiLinkServer"/>) share: the queue of
/// received messages and state changes, sending, and waiting for the reply to a message.
/// Both are sessions so that Receive-PiLinkMessage, Send-PiLinkMessage and Get-DeviceSession work on either.
/// </summary>
public abstract class PiLinkEndpoint : DeviceSession
{
    private readonly object _replyGate = new();
    private readonly Queue<TaskCompletionSource<PiLinkMessage>> _replyWaiters = new();
    private long _sent;
    private long _received;

    protected PiLinkEndpoint(string endpoint, PiLinkOptions options) : base(DeviceWorld.PiLink, endpoint)
    {
        Options = options;
        Messages = new EventBuffer<PiLinkMessage>(options.QueueCapacity, this);
    }

    public PiLinkOptions Options { get; }

    /// <summary>Received messages and state changes in order (Receive-PiLinkMessage takes from it).</summary>
    internal EventBuffer<PiLinkMessage> Messages { get; }

    /// <summary>Raised (on the buffer's dispatcher task) for every received message and state change; works with Register-ObjectEvent.</summary>
    public event EventHandler<PiLinkMessage>? MessageReceived
    {
        add => Messages.Received += value;
        remove => Messages.Received -= value;
    }

    public override long DroppedEvents => Messages.Dropped;

    public override int QueuedEvents => Messages.Count;

    public long MessagesSent => Interlocked.Read(ref _sent);

    public long MessagesReceived => Interlocked.Read(ref _received);

    /// <summary>The tcpcom state of the link (LISTENING, CONNECTED, DISCONNECTED, ...).</summary>
    public abstract PiLinkState LinkState { get; }

    /// <summary>Sends one message to the peer.</summary>
    /// <exception cref="DeviceException">PiLinkNotConnected, PiLinkMessageTooLarge, PiLinkMessageHasTerminator, PiLinkSendFailed.</exception>
    public Task SendAsync(string text, CancellationToken cancellationToken = default)
    {
        byte[] bytes = PiLinkFrameDecoder.Encode(text, Options.Terminator, Options.MaxMessageBytes);
        return SendBytesAsync(bytes, cancellationToken);
    }

    /// <summary>
    /// Sends one message and returns the next message the peer sends back. tcpcom's <c>sendMessage(msg, responseTime)</c>
    /// never saw its reply (pilink-tcpcom.md §4.3); here the reply is claimed by this call and is not queued for
    /// Receive-PiLinkMessage as well. Concurrent callers get replies in the order they sent.
    /// </summary>
    /// <exception cref="DeviceException">PiLinkReplyTimeout when nothing came back within <paramref name="wait"/>, or a send error.</exception>
    public async Task<PiLinkMessage> SendAndReceiveReplyAsync(string text, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        byte[] bytes = PiLinkFrameDecoder.Encode(text, Options.Terminator, Options.MaxMessageBytes);
        var reply = new TaskCompletionSource<PiLinkMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_replyGate) { _replyWaiters.Enqueue(reply); }
        try
        {
            await SendBytesAsync(bytes, cancellationToken).ConfigureAwait(false);
            return await reply.Task.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new DeviceException(DeviceErrorKind.Timeout, "PiLinkReplyTimeout",
                $"No reply to '{text}' arrived within {wait.TotalSeconds:0.###} s.", this);
        }
        finally
        {
            // A late reply must not be swallowed by a waiter that gave up.
            reply.TrySetCanceled(CancellationToken.None);
        }
    }

    private async Task SendBytesAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        await SendCoreAsync(bytes, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _sent);
    }

    /// <summary>Writes framed bytes to the current peer or throws PiLinkNotConnected / PiLinkSendFailed.</summary>
    private protected abstract Task SendCoreAsync(byte[] bytes, CancellationToken cancellationToken);

    /// <summary>Queues a state change (or a size-limit report) for consumers.</summary>
    private protected void Report(PiLinkState state, string text, string? peer) =>
        Messages.Post(new PiLinkMessage(state, text, peer, DateTimeOffset.Now));

    /// <summary>Hands a received message to the oldest waiting reply call, else queues it.</summary>
    private protected void Deliver(string text, string? peer)
    {
        Interlocked.Increment(ref _received);
        var message = new PiLinkMessage(PiLinkState.Message, text, peer, DateTimeOffset.Now);
        lock (_replyGate)
        {
            while (_replyWaiters.TryDequeue(out var waiter))
            {
                if (waiter.TrySetResult(message)) return;
            }
        }
        Messages.Post(message);
    }

    private protected static DeviceException NotConnected(string what, object target) =>
        new(DeviceErrorKind.InvalidOperation, "PiLinkNotConnected", $"{what} is not connected, so the message cannot be sent.", target);

    private protected static DeviceException SendFailed(Exception inner, object target) =>
        new(DeviceErrorKind.Connection, "PiLinkSendFailed", $"Sending failed: {inner.Message}", target, inner);
}
