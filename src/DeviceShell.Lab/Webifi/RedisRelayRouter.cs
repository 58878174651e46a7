using System.Collections.Concurrent;
using System.Globalization;
using DeviceShell.Engine.Webifi;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// Sessions, networks and delivery shared by several relay processes through one Redis server (<c>--webifi-redis</c>),
/// so a client logged in to relay A exchanges data with one on relay B. The delivery rules are those of
/// <see cref="RelayRouter"/>; what lives where (keys in <see cref="RedisKeys"/>, scripts in <c>Webifi/Redis/*.lua</c>), and why:
/// <list type="bullet">
/// <item>a session's record (hash: account, device id, networks, owning relay), expiring unless its owner refreshes it,
/// so the sessions of a relay that vanished do not outlive the session timeout. A session is named everywhere else by
/// its device id (the number plus a random 96-bit token, see <see cref="RelaySession.NewDeviceId"/>), and every script
/// checks that the record still holds that device id: Redis restarted without persistence counts numbers from the
/// start again, and a new session with an old number must not receive, send as or end the old one (docs/design/decisions.md §25);</item>
/// <item>the listeners of each network of an account (set of device ids): routing costs the number of listeners;</item>
/// <item>one Redis Stream per destination session: the routing script appends every delivery to its recipients'
/// streams in one atomic step, so all relays see one order and a sender's messages keep theirs. The relay that serves
/// the session reads its stream into the session's mailbox (<see cref="RedisMailbox"/>) and deletes an entry only once
/// the client has most likely received it (<see cref="RedisReceipts"/>). What a relay had not delivered when it died
/// is therefore still in the stream;</item>
/// <item>a client whose relay died logs in again (to any relay) and gets a new session: when it joins a network, the
/// undelivered entries of the account's sessions on that network whose relay is gone are moved, in order, to the front
/// of its stream (the cross-process form of the single relay's parking after a restart). A relay is gone when it has
/// no connection to Redis: each one names its connections, and Redis drops a dead process's at once;</item>
/// <item>the account's sessions and idle sets (see functions.lua): the cap on an account's sessions
/// (<see cref="WebifiRelayOptions.MaxSessionsPerAccount"/>) counts them on all relays together;</item>
/// <item>failed-login counters (<see cref="RedisLoginFailures"/>): password guessing spread over relays counts on each of them.</item>
/// </list>
/// Every relay must have the same accounts. Parking during <see cref="WebifiRelayOptions.StartupGrace"/> is not needed:
/// sessions survive a relay. Every Redis call is awaited or queued without waiting, never blocking a thread.
/// </summary>
internal sealed partial class RedisRelayRouter : IRelayRouter
{
    /// <summary>
    /// A recipient whose relay has more than this unread in its stream, and has read from it within
    /// <see cref="ReadingRecently"/>, makes the sender's connection pause (see <see cref="RouteAllAsync"/>): relays on
    /// Redis acknowledge data before its recipient's relay has read it, so a sender could otherwise outrun a slower
    /// relay until its mailbox overflows. A relay that stopped reading a stream (it died, or the client does not read
    /// and its mailbox is full) holds nobody back: its oldest are cut, as on one relay.
    /// </summary>
    private int Backlogged => _options.MailboxCapacity / 2;

    private static readonly TimeSpan BacklogPause = TimeSpan.FromMilliseconds(10);

    /// <summary>See <see cref="Backlogged"/>: a relay reading a stream reads it at least every <see cref="RedisMailbox.PollPeriod"/>.</summary>
    private static readonly TimeSpan ReadingRecently = 2 * RedisMailbox.PollPeriod;

    /// <summary>
    /// A session found for a client is not reported idle for this long: a WebSocket attaches just after it is found, but
    /// on a loaded machine "just after" took more than a second once, and a login at the cap then ended the session
    /// its client was attaching to. The grace ends when the session is seen attached.
    /// </summary>
    private static readonly TimeSpan AttachGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Entries a session's stream keeps: as many as a mailbox read into the relay and a mailbox not read yet hold
    /// messages (an entry holds one routing call's messages for the session, at least one). Trimming takes the oldest
    /// first, which are those written out (awaiting their receipt), then those in the relay's mailbox, so unread
    /// entries are cut only past a whole mailbox behind; the unread bytes are bounded on their own (route.lua).
    /// </summary>
    private int StreamLength => 2 * _options.MailboxCapacity;

    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly WebifiRelayOptions _options;
    /// <summary>This relay's name on its Redis connections: other relays tell from the connection list that it is alive.</summary>
    private readonly string _name;
    /// <summary>The sessions this relay serves, by device id (numbers may repeat after a Redis restart, device ids do not).</summary>
    private readonly ConcurrentDictionary<string, RedisMailbox> _served = new(StringComparer.Ordinal);
    private readonly FailureBurst _failures;
    private readonly MailboxMemory _memory;
    private readonly RedisSessionStore _store;
    private readonly RedisReceipts _receipts;
    private volatile bool _closed;

    private RedisRelayRouter(ConnectionMultiplexer redis, string name, WebifiRelayOptions options, ILogger log)
    {
        _redis = redis;
        _db = redis.GetDatabase();
        _name = name;
        _options = options;
        _failures = new FailureBurst(log, "Redis");
        _memory = new MailboxMemory(options.MaxMemoryBytes, options.MaxAccountMemoryBytes);
        _store = new RedisSessionStore(_db, name, options);
        _receipts = new RedisReceipts(_db, _served, _failures);
        LoginFailures = new RedisLoginFailures(_db, options.LoginFailureMemory);
    }

    /// <summary>Failed-login counts every relay sees (for <see cref="LoginThrottle"/>).</summary>
    public ISharedLoginFailures LoginFailures { get; }

    /// <summary>Connects to <see cref="WebifiRelayOptions.Redis"/>; fails (the Lab reports it and exits) when Redis cannot be reached.</summary>
    public static async Task<RedisRelayRouter> ConnectAsync(WebifiRelayOptions options, ILogger log, CancellationToken cancellationToken)
    {
        string name = "deviceshell-webifi-" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        var configuration = new ConfigurationOptions
        {
            ClientName = name,
            // CLIENT LIST (which relays are alive) and SCRIPT LOAD are admin commands.
            AllowAdmin = true,
            ConnectTimeout = 5000,
            // Reconnects by itself after an outage (the relay keeps serving what needs no Redis meanwhile).
            AbortOnConnectFail = false,
        };
        configuration.EndPoints.Add(options.Redis!);
        ConnectionMultiplexer redis;
        try
        {
            redis = await ConnectionMultiplexer.ConnectAsync(configuration).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!redis.IsConnected)
            {
                await redis.DisposeAsync().ConfigureAwait(false);
                throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "no connection within 5 s");
            }
            await RedisScript.PrepareAsync(redis).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisException ex)
        {
            throw new InvalidOperationException($"The Webifi relay cannot reach Redis at {options.Redis}: {ex.Message}", ex);
        }
        var router = new RedisRelayRouter(redis, name, options, log);
        await redis.GetSubscriber().SubscribeAsync(RedisKeys.Wake, (_, device) =>
        {
            if (router._served.TryGetValue(device.ToString(), out var served)) served.Signal();
        }).ConfigureAwait(false);
        // A login at the cap (on any relay) ended one of this relay's idle sessions.
        await redis.GetSubscriber().SubscribeAsync(RedisKeys.Ended, (_, device) =>
        {
            if (router._served.TryGetValue(device.ToString(), out var served)) router.EndHere(served);
        }).ConfigureAwait(false);
        log.LogInformation("Webifi relay {Name} shares its sessions through Redis at {Endpoint}", name, options.Redis);
        return router;
    }

    public int Count => _served.Count;

    public IReadOnlyList<RelaySession> Sessions => _served.Values.Select(s => s.Session).ToArray();

    public bool HasAccount(string connectName) => _options.Accounts.Any(a => a.ConnectName == connectName);

    /// <summary>A new session recorded in Redis; error 1 (try later) when the account is at its cap or Redis fails.</summary>
    public async ValueTask<(RelaySession? Session, int Code)> LoginAsync(string connectName, string connectPassword, bool messageIds)
    {
        var account = WebifiAccount.Match(_options.Accounts, connectName, connectPassword);
        if (account is null) return (null, WebifiErrorCode.InvalidCredentials);
        string deviceId;
        try
        {
            deviceId = await _store.LoginAsync(account, messageIds).ConfigureAwait(false);
            _failures.Succeeded();
        }
        catch (RedisException ex)
        {
            _failures.Failed("login", ex);
            return (null, WebifiErrorCode.Unknown);
        }
        if (deviceId.Length == 0) return (null, WebifiErrorCode.Unknown);
        var session = new RelaySession(RelaySession.IdOf(deviceId)!.Value, deviceId, account, _options.MailboxCapacity, _options.MailboxBytes, _memory) { MessageIds = messageIds };
        Serve(session).ReportedIdle = true;
        return (session, WebifiErrorCode.Success);
    }

    /// <summary>
    /// A session of this relay, or one another relay logged in (a client sent here by a load balancer): then this relay
    /// serves it from now on. Null (error 12, the client logs in again) when unknown, or when Redis cannot tell.
    /// </summary>
    public async ValueTask<RelaySession?> FindAsync(string? deviceId)
    {
        if (deviceId is null) return null;
        if (_served.TryGetValue(deviceId, out var served))
        {
            // Found to be used: no longer one a login at the cap may end (the next refresh reports it again if idle).
            if (served.ReportedIdle) await ReportInUseAsync(served).ConfigureAwait(false);
            return served.Session;
        }
        try
        {
            if (await _store.TakeOverAsync(deviceId).ConfigureAwait(false) is not var (account, record)) return null;
            var session = new RelaySession(RelaySession.IdOf(deviceId)!.Value, deviceId, account, _options.MailboxCapacity, _options.MailboxBytes, _memory)
            {
                MessageIds = record.GetValueOrDefault("mi") == "1",
                Networks = record.GetValueOrDefault("networks", "").Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal),
            };
            _failures.Succeeded();
            served = Serve(session);
            await ReportInUseAsync(served).ConfigureAwait(false);
            return served.Session;
        }
        catch (RedisException ex)
        {
            _failures.Failed("finding a session", ex);
            return null;
        }
    }

    /// <summary>
    /// Waits for Redis, not fire-and-forget: the client hears it is attached only after this, so a login it makes next
    /// on another relay (whose connection to Redis may be quicker) cannot find this session still idle and end it.
    /// When Redis fails the session is served all the same (the next refresh reports it in use).
    /// </summary>
    private async Task ReportInUseAsync(RedisMailbox served)
    {
        served.ReportedIdle = false;
        served.FoundAt = DateTime.UtcNow;
        try
        {
            await _store.ReportInUseAsync(served, Interlocked.Increment(ref served.InUseReports)).ConfigureAwait(false);
        }
        catch (RedisException ex)
        {
            _failures.Failed("reporting a session in use", ex);
        }
    }

    public bool IsLive(RelaySession session) => _served.TryGetValue(session.DeviceId, out var served) && served.Session == session;

    public void Remove(RelaySession session)
    {
        if (_served.TryGetValue(session.DeviceId, out var served) && served.Session == session && EndHere(served)) _store.Remove(served, _failures);
    }

    /// <summary>Stops serving a session (its client gets error 12); false when it was not served any more.</summary>
    private bool EndHere(RedisMailbox served)
    {
        if (!_served.TryRemove(KeyValuePair.Create(served.Session.DeviceId, served))) return false;
        served.Stop();
        served.Session.CancelDownload(WebifiErrorCode.SessionExpired);
        served.Session.End();
        return true;
    }

    /// <summary>
    /// Ends this relay's idle sessions; keeps the shared records of the others alive and reports which are idle (see
    /// refresh.lua); ends the ones whose record is gone or another session's. Throws when Redis fails (the relay's
    /// expiry loop retries).
    /// </summary>
    public async Task<int> ExpireAsync(DateTime cutoff)
    {
        int expired = 0;
        var reports = new List<(RelaySession, long, int)>();
        var now = DateTime.UtcNow;
        foreach (var served in _served.Values)
        {
            var session = served.Session;
            int inUseReports = Volatile.Read(ref served.InUseReports);
            // Found a moment ago and not attached yet: its client is attaching (a WebSocket authenticates after Find).
            // Once seen attached, the grace is over: a client that then goes away leaves an idle session at once.
            bool attached = session.Attached;
            if (attached) served.FoundAt = DateTime.MinValue;
            bool idle = !attached && now - served.FoundAt > AttachGrace;
            if (idle && session.LastSeen < cutoff)
            {
                Remove(session);
                expired++;
                continue;
            }
            served.ReportedIdle = idle;
            reports.Add((session, idle ? (long)Math.Max(0, (now - session.LastSeen).TotalMilliseconds) : -1, inUseReports));
        }
        if (reports.Count == 0) return expired;
        try
        {
            foreach (var device in await _store.RefreshAsync(reports).ConfigureAwait(false))
            {
                if (_served.TryGetValue(device, out var gone) && EndHere(gone)) expired++;
            }
            _failures.Succeeded();
        }
        catch (RedisException ex)
        {
            _failures.Failed("refreshing sessions", ex);
            throw;
        }
        return expired;
    }

    public void Close() => _closed = true;

    public async ValueTask DisposeAsync()
    {
        _closed = true;
        await _receipts.DisposeAsync().ConfigureAwait(false);
        var served = _served.Values.ToList();
        foreach (var entry in served) entry.Stop();
        await Task.WhenAll(served.Select(s => s.Pump)).ConfigureAwait(false);

        // Lets the last deletions (messages written out while stopping) reach Redis.
        await _redis.CloseAsync(allowCommandsToComplete: true).ConfigureAwait(false);
        _redis.Dispose();
    }

    private RedisMailbox Serve(RelaySession session)
    {
        var served = _served.GetOrAdd(session.DeviceId, _ => new RedisMailbox(session, _db, _options, _failures));
        if (served.Session == session) served.Start();
        return served;
    }
}
