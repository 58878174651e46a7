using System.Collections.Concurrent;
using StackExchange.Redis;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// When a stream entry may go. Written is not yet received: a WebSocket send completes once Kestrel holds the bytes,
/// and a long-polling answer may be cut. The Webifi protocol has no receipt from the client, so an entry is deleted
/// only when the session is still attached <see cref="ReceiptDelay"/> after the write (the same socket still open, or
/// the next /Download held). A relay killed within that time leaves the entries for the next relay: they are delivered
/// again (at least once, never lost); an orderly stop deletes what it wrote before it closed the connections.
/// </summary>
internal sealed class RedisReceipts : IAsyncDisposable
{
    /// <summary>How long a written message must stay unchallenged before it is deleted.</summary>
    public static readonly TimeSpan ReceiptDelay = TimeSpan.FromSeconds(1);

    private readonly IDatabase _db;
    private readonly ConcurrentDictionary<string, RedisMailbox> _served;
    private readonly FailureBurst _failures;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _deleting;

    /// <param name="served">The relay's sessions by device id (see <see cref="RedisRelayRouter"/>).</param>
    public RedisReceipts(IDatabase db, ConcurrentDictionary<string, RedisMailbox> served, FailureBurst failures)
    {
        _db = db;
        _served = served;
        _failures = failures;
        _deleting = DeleteReceivedLoopAsync(_stop.Token);
    }

    /// <summary>
    /// The batch was written to the client. Deliveries carry their entry's id on the entry's last message (see
    /// <see cref="RedisMailbox"/>): the stream is read and written in order, so everything up to that entry may go
    /// once it is due, in one trim.
    /// </summary>
    public void Delivered(RedisMailbox served, IReadOnlyList<RelayDelivery> batch)
    {
        string? done = batch.LastOrDefault(d => d.StreamId is not null)?.StreamId;
        // Once settled (stopping in order), a long-polling answer still on its way counts as received, like the rest.
        if (done is not null && served.Settled) TrimThrough(served, done);
        else if (done is not null) served.Written.Enqueue((DateTime.UtcNow + ReceiptDelay, done));
        served.Signal(); // room in the mailbox again
    }

    /// <summary>
    /// The relay stops in order and wrote out the session's mailbox: what it wrote counts as received, and the session
    /// is left to the next relay (see settle.lua).
    /// </summary>
    public async Task SettleAsync(RedisMailbox served)
    {
        served.Settled = true;
        string? done = null;
        while (served.Written.TryDequeue(out var written)) done = written.Entry;
        try
        {
            await RedisScript.Settle.EvaluateAsync(_db, [served.Record, served.Stream, RedisKeys.Idle(served.Session.Account.ConnectName)],
                [served.Session.DeviceId, done is null ? "" : Next(done)]).ConfigureAwait(false);
        }
        catch (RedisException ex)
        {
            // Left to expire: what it wrote may be delivered again by the next relay (at least once).
            _failures.Failed("settling a session", ex);
        }
    }

    /// <summary>Deletes the entries whose receipt is as sure as the protocol allows.</summary>
    private async Task DeleteReceivedLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ReceiptDelay / 4, stop).ConfigureAwait(false);
                foreach (var served in _served.Values) DeleteWritten(served, DateTime.UtcNow);
            }
            catch (OperationCanceledException)
            {
                // Stopping: SettleAsync deletes the rest.
            }
            catch (Exception ex)
            {
                _failures.Failed("deleting delivered messages", ex);
            }
        }
    }

    private void DeleteWritten(RedisMailbox served, DateTime before)
    {
        if (!served.Session.Attached) return;
        string? done = null;
        while (served.Written.TryPeek(out var written) && written.Due <= before && served.Written.TryDequeue(out written)) done = written.Entry;
        if (done is not null) TrimThrough(served, done);
    }

    /// <summary>Deletes the stream's entries up to and including <paramref name="entry"/> (one XTRIM, not an XDEL per entry).</summary>
    private void TrimThrough(RedisMailbox served, string entry) =>
        _db.Execute("XTRIM", [served.Stream, "MINID", Next(entry)], CommandFlags.FireAndForget);

    /// <summary>The smallest stream id after <paramref name="entry"/> (ids are <c>milliseconds-sequence</c>).</summary>
    private static string Next(string entry)
    {
        int dash = entry.IndexOf('-', StringComparison.Ordinal);
        ulong sequence = ulong.Parse(entry.AsSpan(dash + 1), System.Globalization.CultureInfo.InvariantCulture);
        return string.Concat(entry.AsSpan(0, dash + 1), (sequence + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _deleting.ConfigureAwait(false);
    }
}
