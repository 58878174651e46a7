using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Webifi;

/// <summary>
/// The session's send queue and window: every send stays queued until the relay acknowledged it, and goes out again,
/// in order, on the next link when it was not.
/// </summary>
public sealed partial class WebifiSession
{
    /// <summary>Messages handed to the link at once in the DeviceShell dialect: one /Upload, or a few WebSocket frames.</summary>
    private const int BatchSize = 64;

    /// <summary>
    /// Messages sent and not yet acknowledged in the DeviceShell dialect (WebSocket; long polling has one upload in
    /// flight at a time). The official dialect has one.
    /// </summary>
    private const int Window = 512;

    /// <summary>
    /// Queues a send and returns a task that completes when the relay acknowledged it, or fails with the relay's
    /// error code. While disconnected it stays queued and goes out after the reconnect.
    /// </summary>
    public Task SendAsync(WebifiOutgoing message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Data.Length > _options.MaxPayloadBytes)
            throw new DeviceException(DeviceErrorKind.InvalidArgument, "WebifiPayloadTooLarge",
                $"The payload has {message.Data.Length} bytes; a Webifi message may have at most {_options.MaxPayloadBytes}.", message);
        if (_closing.IsCancellationRequested)
            throw new DeviceException(DeviceErrorKind.InvalidOperation, "WebifiSessionClosed", "The Webifi session is closed.", this);
        if (_refused is not null) throw _refused;
        TaskCompletionSource posted;
        var pending = new PendingSend(message);
        lock (_gate)
        {
            pending.Node = _outgoing.AddLast(pending);
            posted = _outgoingPosted;
            StartSendingLocked();
        }
        if (Recording is { } recorder) RecordWhenSettled(recorder, pending);
        posted.TrySetResult();
        return pending.Acknowledged.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Starts the send loop on the current link when something is queued and no loop runs. The loop ends once nothing is
    /// queued or in flight, so an idle session runs none: its waiting state machine, linked token source and
    /// cancellation promise were 0.6 KiB of an idle session's 31 (docs/benchmarks.md, "Webifi idle session").
    /// </summary>
    private void StartSendingLocked()
    {
        var link = _link;
        if (_sending || link is null || link.IsBroken || _outgoing.Count == 0 || _closing.IsCancellationRequested) return;
        _sending = true;
        var closing = _closing.Token;
        _sender = Task.Run(() => SendLoopAsync(link, closing));
    }

    /// <summary>The send loop now running, or the last one (completed).</summary>
    private Task CurrentSender()
    {
        lock (_gate) return _sender;
    }

    /// <summary>
    /// Sends the queue in order. In the DeviceShell dialect it keeps up to <see cref="Window"/> messages in flight: new
    /// batches go out while the relay's answers to earlier ones are still coming, and answers are settled one by one,
    /// in order; in the official dialect one message goes at a time, the next after its answer. An item leaves
    /// the queue only when acknowledged. When the WebSocket drops, what was in flight is not acknowledged and goes out
    /// again, from the oldest, once the link has authenticated on the next socket. Ends when the link breaks, and when the
    /// queue is empty with nothing in flight (the next send starts it again).
    /// </summary>
    private async Task SendLoopAsync(WebifiLink link, CancellationToken closing)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(closing, link.BrokenToken);
        var inFlight = new Queue<(PendingSend Pending, Task<int> Reply)>();
        LinkedListNode<PendingSend>? lastSent = null;
        int socket = 0;
        bool pipelined = link.Credentials.Dialect == WebifiDialect.DeviceShell;
        int window = pipelined ? Window : 1;
        int batchSize = pipelined ? BatchSize : 1;
        bool idle = false;
        try
        {
            while (!link.IsBroken && !closing.IsCancellationRequested)
            {
                if (!Settle(link, inFlight, ref lastSent)) return;
                Task posted;
                var batch = new List<PendingSend>();
                int room = Math.Min(batchSize, window - inFlight.Count);
                lock (_gate)
                {
                    if (_outgoingPosted.Task.IsCompleted) _outgoingPosted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    posted = _outgoingPosted.Task;
                    for (var node = lastSent is null ? _outgoing.First : lastSent.Next; node is not null && batch.Count < room; node = node.Next)
                        batch.Add(node.Value);
                    if (batch.Count == 0 && inFlight.Count == 0)
                    {
                        // Decided under the gate, where SendAsync queues: a send queued after this starts a new loop.
                        _sending = false;
                        idle = true;
                        return;
                    }
                }
                // As Nagle's algorithm does for TCP: a full batch goes at once, a short one only when nothing is in
                // flight. Under load the sends that arrive meanwhile fill the next frame instead of each taking a frame
                // (and an answer frame) of its own; a lone send still goes at once.
                if (batch.Count > 0 && (batch.Count == room || inFlight.Count == 0))
                {
                    try
                    {
                        // In flight already: the batch must go on the same socket, or the window would be resent out of order.
                        var sent = await link.SendAsync(batch.Select(p => p.NumberedFor(link)).ToList(), inFlight.Count > 0 ? socket : null, closing).ConfigureAwait(false);
                        socket = sent.Socket;
                        for (int i = 0; i < batch.Count; i++) inFlight.Enqueue((batch[i], sent.Replies[i]));
                        lastSent = batch[^1].Node;
                    }
                    catch (DeviceException) when (!link.IsBroken)
                    {
                        // The WebSocket dropped: the window's answers have failed, and the next turn settles them.
                    }
                    continue;
                }
                if (inFlight.Count >= window) await WhenDoneAsync(inFlight.Peek().Reply, stop.Token).ConfigureAwait(false);
                else await Task.WhenAny(inFlight.Peek().Reply, posted).WaitAsync(stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The link broke (what is in flight stays queued) or the session is closing.
        }
        catch (Exception ex)
        {
            // Whatever went wrong, the cure is the same: drop this link and log in again; the queue stays.
            link.Break(ex);
        }
        finally
        {
            if (!idle)
            {
                lock (_gate) _sending = false;
            }
        }
    }

    /// <summary>
    /// Settles the answered head of the window in order; false when the relay forgot the session (the link is broken
    /// and everything not acknowledged goes out again after the new login). When the relay ended the connection before
    /// answering the head <see cref="WebifiConnectOptions.MaxRefusals"/> times in a row, it refuses what this session
    /// sends (a dialect it does not accept, a payload it will not take): every queued send fails with the cause
    /// (WebifiSendRefused) instead of being retried forever.
    /// </summary>
    private bool Settle(WebifiLink link, Queue<(PendingSend Pending, Task<int> Reply)> inFlight, ref LinkedListNode<PendingSend>? lastSent)
    {
        while (inFlight.Count > 0 && inFlight.Peek().Reply.IsCompleted)
        {
            var (pending, reply) = inFlight.Dequeue();
            if (!reply.IsCompletedSuccessfully)
            {
                // The socket dropped: nothing after this one was answered either; all of it goes again, in order.
                var cause = reply.Exception?.InnerException;
                inFlight.Clear();
                lastSent = null;
                if (cause is DeviceException { ErrorId: "WebifiConnectionLost" } lost && ++pending.Refusals >= _options.MaxRefusals)
                {
                    FailQueued(new DeviceException(DeviceErrorKind.Connection, "WebifiSendRefused",
                        $"The Webifi relay ended the connection right after this message {pending.Refusals} times in a row, so it refuses what this session sends; every queued send was ended. The last time: {lost.Message}",
                        pending.Message.DataType, lost));
                }
                return true;
            }
            int code = reply.Result;
            if (code == WebifiErrorCode.SessionExpired)
            {
                link.Break(ErrorFor(code, "send"));
                return false;
            }
            lock (_gate)
            {
                if (pending.Node!.List is not null) _outgoing.Remove(pending.Node);
                if (inFlight.Count == 0) lastSent = null;
            }
            pending.RelayCode = code;
            if (code == WebifiErrorCode.Success) pending.Acknowledged.TrySetResult();
            else pending.Acknowledged.TrySetException(ErrorFor(code, "send", pending.Message.DataType));
        }
        return true;
    }

    private static async Task WhenDoneAsync(Task reply, CancellationToken cancellationToken)
    {
        try
        {
            await reply.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DeviceException)
        {
            // Settled on the next turn.
        }
    }

    private void FailQueued(DeviceException reason)
    {
        List<PendingSend> unsent;
        lock (_gate)
        {
            unsent = _outgoing.ToList();
            _outgoing.Clear();
        }
        foreach (var pending in unsent) pending.Acknowledged.TrySetException(reason);
    }

    private sealed class PendingSend
    {
        private WebifiLink? _numberedOn;
        private WebifiMessageId _id;

        public PendingSend(WebifiOutgoing message) => Message = message;

        /// <summary>Its place in the queue, so that acknowledging it costs nothing.</summary>
        public LinkedListNode<PendingSend>? Node { get; set; }

        public WebifiOutgoing Message { get; }

        /// <summary>The relay's answer to it, once it came (what a recording writes).</summary>
        public int? RelayCode { get; set; }

        /// <summary>How often the relay ended the connection right after this message, before answering it.</summary>
        public int Refusals { get; set; }

        /// <summary>
        /// The message with its id on <paramref name="link"/>: numbered when first sent on it (the send loop goes in queue
        /// order, so the numbers follow the wire order), and sent again under the same number on the same link.
        /// </summary>
        public NumberedOutgoing NumberedFor(WebifiLink link)
        {
            if (_numberedOn != link)
            {
                _id = new WebifiMessageId(link.MessageSender, link.NextSequence());
                _numberedOn = link;
            }
            return new NumberedOutgoing(Message, _id);
        }

        public TaskCompletionSource Acknowledged { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
