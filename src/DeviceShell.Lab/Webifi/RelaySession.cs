using DeviceShell.Engine.Webifi;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// One message on its way to a session: who sent it, its data type and payload; with a Redis backplane, on the last
/// message of a stream entry, also the entry's id: the entry is removed once that message has been written to the client.
/// </summary>
internal sealed record RelayDelivery(int From, string DataType, byte[] Data, string? MessageId = null, string? StreamId = null)
{
    /// <summary>
    /// Appends the <c>~f~dt~d</c> group the clients expect (dt always present, d last), with the sender's <c>~u</c>
    /// before d for a recipient that asked for message ids (official clients never do, so they never see it).
    /// </summary>
    public void AppendTo(List<byte> output, bool withMessageId)
    {
        TildeCodec.AppendField(output, "f", From);
        TildeCodec.AppendField(output, "dt", DataType);
        if (withMessageId && MessageId is not null) TildeCodec.AppendField(output, "u", MessageId);
        TildeCodec.AppendField(output, "d", Data);
    }
}

/// <summary>
/// A logged-in client as the relay sees it. Its mailbox is bounded (messages and bytes): a client that
/// does not read loses its oldest messages, counted in <see cref="Dropped"/>, and the relay's memory stays bounded.
/// All members are thread-safe.
/// </summary>
internal sealed class RelaySession
{
    private readonly object _gate = new();
    private readonly CancellationTokenSource _ended = new();
    private readonly Queue<RelayDelivery> _mailbox = new();
    private readonly int _capacity;
    private readonly long _capacityBytes;
    private readonly MailboxMemory? _memory;
    private TaskCompletionSource _available = NewSignal();
    private TaskCompletionSource<int>? _heldDownload;
    private long _bytes;
    private long _dropped;
    private long _lastSeenTicks = DateTime.UtcNow.Ticks;
    private int _webSockets;

    /// <param name="memory">The relay's and the account's bounds on all mailboxes together (see <see cref="MailboxMemory"/>).</param>
    public RelaySession(int id, string deviceId, WebifiAccount account, int capacity, long capacityBytes, MailboxMemory? memory = null)
    {
        Id = id;
        DeviceId = deviceId;
        Account = account;
        _capacity = capacity;
        _capacityBytes = capacityBytes;
        _memory = memory;
    }

    public int Id { get; }

    /// <summary>A fresh token for session <paramref name="id"/>: the id (which clients read back from it) and 96 random bits.</summary>
    public static string NewDeviceId(int id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture) + "s" + NewDeviceToken();

    /// <summary>The random part of a device id (96 bits, hex).</summary>
    public static string NewDeviceToken() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();

    /// <summary>The session id a device id starts with, or null when it does not have the form of <see cref="NewDeviceId"/>.</summary>
    public static int? IdOf(string deviceId)
    {
        int cut = deviceId.IndexOf('s', StringComparison.Ordinal);
        return cut > 0 && int.TryParse(deviceId.AsSpan(0, cut), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id) ? id : null;
    }

    /// <summary>The token handed out in the credentials answer: <c>&lt;Id&gt;s&lt;random&gt;</c>.</summary>
    public string DeviceId { get; }

    public WebifiAccount Account { get; }

    /// <summary>The client asked for message ids at login (see WebifiMessageId).</summary>
    public bool MessageIds { get; init; }

    /// <summary>The listen-to (default) networks. Replaced as a whole; read under the relay's routing lock.</summary>
    public IReadOnlySet<string> Networks { get; set; } = new HashSet<string>();

    /// <summary>Cancelled when the session expires or closes.</summary>
    public CancellationToken Ended => _ended.Token;

    /// <summary>Ends the session; what its mailbox held is dropped (and its memory given back).</summary>
    public void End()
    {
        _ended.Cancel();
        lock (_gate)
        {
            _memory?.Return(Account.ConnectName, _bytes);
            _mailbox.Clear();
            _bytes = 0;
        }
    }

    public long Dropped => Interlocked.Read(ref _dropped);

    public long QueuedBytes
    {
        get { lock (_gate) { return _bytes; } }
    }

    public int QueuedCount
    {
        get { lock (_gate) { return _mailbox.Count; } }
    }

    /// <summary>A WebSocket is attached, or a download is being held: the session is alive.</summary>
    public bool Attached
    {
        get { lock (_gate) { return _webSockets > 0 || _heldDownload is not null; } }
    }

    public DateTime LastSeen => new(Interlocked.Read(ref _lastSeenTicks), DateTimeKind.Utc);

    /// <summary>The client collects its data with /Download (set at its first held download).</summary>
    public bool PollsLongly { get; set; }

    public void Touch() => Interlocked.Exchange(ref _lastSeenTicks, DateTime.UtcNow.Ticks);

    public void AttachWebSocket()
    {
        lock (_gate) { _webSockets++; }
        Touch();
    }

    public void DetachWebSocket()
    {
        lock (_gate) { _webSockets--; }
        Touch();
    }

    /// <summary>
    /// Queues a message, dropping the oldest past the mailbox's own limits; false (not queued) when the relay's or the
    /// account's memory bound would be passed, or the session has ended.
    /// </summary>
    public bool TryEnqueue(RelayDelivery delivery)
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            if (_ended.IsCancellationRequested) return false;
            if (_memory is not null && !_memory.TryTake(Account.ConnectName, delivery.Data.Length)) return false;
            _mailbox.Enqueue(delivery);
            _bytes += delivery.Data.Length;
            while (_mailbox.Count > _capacity || (_bytes > _capacityBytes && _mailbox.Count > 1))
            {
                int dropped = _mailbox.Dequeue().Data.Length;
                _bytes -= dropped;
                _memory?.Return(Account.ConnectName, dropped);
                _dropped++;
            }
            signal = _available;
        }
        signal.TrySetResult();
        return true;
    }

    /// <summary>Takes queued messages up to about <paramref name="maxBytes"/> (at least one when any is queued).</summary>
    public List<RelayDelivery> TakeBatch(long maxBytes)
    {
        var batch = new List<RelayDelivery>();
        lock (_gate)
        {
            long size = 0;
            while (_mailbox.Count > 0 && (batch.Count == 0 || size + _mailbox.Peek().Data.Length <= maxBytes))
            {
                var next = _mailbox.Dequeue();
                _bytes -= next.Data.Length;
                size += next.Data.Length;
                batch.Add(next);
            }
            _memory?.Return(Account.ConnectName, size);
            if (_mailbox.Count == 0 && _available.Task.IsCompleted) _available = NewSignal();
        }
        return batch;
    }

    /// <summary>Completes when the mailbox holds something (at once when it does already).</summary>
    public Task WaitForMailAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_mailbox.Count > 0) return Task.CompletedTask;
            return _available.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>A /Download of this session is being held.</summary>
    public bool HoldsDownload
    {
        get { lock (_gate) { return _heldDownload is not null; } }
    }

    /// <summary>Registers a held /Download; null when one is held already (error 18).</summary>
    public TaskCompletionSource<int>? HoldDownload()
    {
        lock (_gate)
        {
            if (_heldDownload is not null) return null;
            _heldDownload = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _heldDownload;
        }
    }

    public void ReleaseDownload(TaskCompletionSource<int> held)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_heldDownload, held)) _heldDownload = null;
        }
        Touch();
    }

    /// <summary>Ends a held /Download early with <paramref name="code"/> (15 cancelled, 12 expired).</summary>
    public void CancelDownload(int code)
    {
        TaskCompletionSource<int>? held;
        lock (_gate) { held = _heldDownload; }
        held?.TrySetResult(code);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
