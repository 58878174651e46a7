using System.Collections.Concurrent;
using System.Text;
using StackExchange.Redis;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// A session this relay serves on Redis: the pump that moves its stream into the session's mailbox, woken by a
/// publish on <see cref="RedisKeys.Wake"/> (with a slow poll as a safety net), and the entries written to the client
/// that wait for their receipt (see <see cref="RedisReceipts"/>).
/// </summary>
internal sealed class RedisMailbox
{
    /// <summary>How often a session's stream is read when no wake-up came (a wake-up lost while reconnecting).</summary>
    public static readonly TimeSpan PollPeriod = TimeSpan.FromSeconds(1);
    private const int ReadBatch = 512;

    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly IDatabase _db;
    private readonly WebifiRelayOptions _options;
    private readonly FailureBurst _failures;
    private readonly RedisKey _stream, _record;
    /// <summary>The pump's last data type (see <see cref="DataTypeOf"/>); only the pump uses them.</summary>
    private byte[] _lastDataTypeBytes = [];
    private string _lastDataType = "";

    public RedisMailbox(RelaySession session, IDatabase db, WebifiRelayOptions options, FailureBurst failures)
    {
        Session = session;
        _db = db;
        _options = options;
        _failures = failures;
        _stream = RedisKeys.Stream(session.Account.ConnectName, session.DeviceId);
        _record = RedisKeys.Session(session.Account.ConnectName, session.Id);
    }

    public RelaySession Session { get; }

    public RedisKey Stream => _stream;

    public RedisKey Record => _record;

    public Task Pump { get; private set; } = Task.CompletedTask;

    /// <summary>See <see cref="RedisReceipts.SettleAsync"/>.</summary>
    public volatile bool Settled;

    /// <summary>Redis has it as idle (see <see cref="RedisRelayRouter.ExpireAsync"/>): a login at the cap may end it.</summary>
    public volatile bool ReportedIdle;

    /// <summary>How often the relay told Redis it is in use; see refresh.lua.</summary>
    public int InUseReports;

    /// <summary>When a client last found it (see <see cref="RedisRelayRouter.FindAsync"/>).</summary>
    public DateTime FoundAt;

    /// <summary>The last stream entry of each batch written to the client, oldest first, with the time it may be deleted.</summary>
    public ConcurrentQueue<(DateTime Due, string Entry)> Written { get; } = new();

    /// <summary>Starts the pump; a session taken over from another relay may have entries waiting, so it reads at once.</summary>
    public void Start()
    {
        Pump = PumpAsync();
        Signal();
    }

    public void Signal()
    {
        lock (_wake)
        {
            if (_wake.CurrentCount == 0) _wake.Release();
        }
    }

    public void Stop() => _stopping.Cancel();

    /// <summary>
    /// Moves the session's stream into its mailbox, as far as the mailbox has room; entries stay until delivered.
    /// An entry holds the messages of one routing call (see route.lua); one the mailbox could take only part of is read
    /// again from the first message it did not take. Survives every failure: Redis failing or stalling makes it retry
    /// after <see cref="FailureBurst.Backoff"/>.
    /// </summary>
    private async Task PumpAsync()
    {
        var session = Session;
        var stop = _stopping.Token;
        var position = new StreamPosition();
        while (!stop.IsCancellationRequested && !session.Ended.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(PollPeriod, stop).ConfigureAwait(false);
                while (_options.MailboxCapacity - session.QueuedCount is int room && room > 0)
                {
                    var entries = await _db.StreamReadAsync(_stream, position.After, Math.Min(room, ReadBatch)).ConfigureAwait(false);
                    if (entries.Length == 0) break;
                    var (read, bytes, whole) = Enqueue(entries, ref position);
                    if (read > 0) RedisScript.Read.Send(_db, [_record], [session.DeviceId, read, bytes], _failures, "recording a read");
                    if (!whole) break;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex)
            {
                _failures.Failed("reading a session's stream", ex);
                try
                {
                    await Task.Delay(_failures.Backoff, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Puts the messages of <paramref name="entries"/> into the mailbox from <paramref name="position"/> on, up to the
    /// first it cannot take; how many it took, their bytes, and whether it took them all.
    /// </summary>
    private (int Read, long Bytes, bool Whole) Enqueue(StreamEntry[] entries, ref StreamPosition position)
    {
        var session = Session;
        int read = 0;
        long bytes = 0;
        foreach (var entry in entries)
        {
            // 'f', 'b', 'n', 'm' (route.lua): the messages in one field, read in place (StreamMessages).
            var fields = entry.Values;
            int from = (int)fields[0].Value;
            int count = (int)fields[2].Value;
            var messages = new StreamMessages.Reader(((ReadOnlyMemory<byte>)fields[3].Value).Span);
            int taken = position.TakenOf(entry.Id);
            for (int message = 0; message < count; message++)
            {
                messages.Read(out var dataType, out var messageId, out var data);
                if (message < taken) continue;
                // Not past the mailbox's own bounds (it would drop the oldest): the rest waits in the stream, whose
                // unread bytes are bounded in turn (see route.lua).
                bool full = session.QueuedCount >= _options.MailboxCapacity
                    || (session.QueuedCount > 0 && session.QueuedBytes + data.Length > _options.MailboxBytes);
                // The entry's id goes with its last message: once that is written out, the entry may go (RedisReceipts).
                string? entryDone = message == count - 1 ? entry.Id.ToString() : null;
                // At the relay's memory bound the rest stays in the stream until the mailboxes drain.
                if (full || !session.TryEnqueue(new RelayDelivery(from, DataTypeOf(dataType), data.ToArray(), messageId.IsEmpty ? null : Encoding.UTF8.GetString(messageId), entryDone)))
                {
                    position = position.Partly(entry.Id, message);
                    return (read, bytes, false);
                }
                read++;
                bytes += data.Length;
            }
            position = StreamPosition.Past(entry.Id);
        }
        return (read, bytes, true);
    }

    /// <summary>A sender's messages mostly share one data type: its string is made once, not per message.</summary>
    private string DataTypeOf(ReadOnlySpan<byte> utf8)
    {
        if (!utf8.SequenceEqual(_lastDataTypeBytes))
        {
            _lastDataTypeBytes = utf8.ToArray();
            _lastDataType = Encoding.UTF8.GetString(utf8);
        }
        return _lastDataType;
    }

    /// <summary>Where the pump goes on: after <see cref="After"/>, or within entry <see cref="Partial"/> from message <see cref="Taken"/>.</summary>
    private readonly record struct StreamPosition(RedisValue LastWhole, RedisValue Partial, int Taken)
    {
        public RedisValue After => LastWhole.IsNull ? "0-0" : LastWhole;

        public static StreamPosition Past(RedisValue entry) => new(entry, RedisValue.Null, 0);

        public StreamPosition Partly(RedisValue entry, int taken) => this with { Partial = entry, Taken = taken };

        public int TakenOf(RedisValue entry) => !Partial.IsNull && Partial == entry ? Taken : 0;
    }
}
