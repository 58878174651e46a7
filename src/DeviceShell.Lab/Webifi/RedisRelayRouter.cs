using System.Collections.Concurrent;
using System.Globalization;
using DeviceShell.Engine.Webifi;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// Sessions, networks and delivery shared by several relay processes through one Redis server (<c>--webifi-redis</c>),
/// so a client logged in to relay A exchanges data with one on relay B. The delivery rules are those of
/// <see cref="RelayRouter"/>; what lives where, and why:
/// <list type="bullet">
/// <item><c>session:ID</c> (hash: account, device id, networks, owning relay), expiring unless its owner refreshes it,
/// so the sessions of a relay that vanished do not outlive the session timeout. A session is named everywhere else by
/// its device id (the number plus a random 96-bit token, see <see cref="RelaySession.NewDeviceId"/>), and every script
/// checks that <c>session:ID</c> still holds that device id: Redis restarted without persistence counts ids from the
/// start again, and a new session with an old number must not receive, send as or end the old one (docs/design/decisions.md §25);</item>
/// <item><c>listeners:ACCOUNT:NETWORK</c> (set of device ids): routing costs the number of listeners;</item>
/// <item><c>stream:DEVICE</c> (one Redis Stream per destination session): the routing script appends every delivery to its
/// recipients' streams in one atomic step, so all relays see one order and a sender's messages keep theirs. The relay
/// that serves the session reads its stream into the session's mailbox (woken by a publish on <c>wake</c>, with a slow
/// poll as a safety net) and deletes an entry only once the client has most likely received it (see <see cref="Delivered"/>).
/// What a relay had not delivered when it died is therefore still in the stream;</item>
/// <item>a client whose relay died logs in again (to any relay) and gets a new session: when it joins a network, the
/// undelivered entries of the account's sessions on that network whose relay is gone are moved, in order, to the front
/// of its stream (the cross-process form of the single relay's parking after a restart). A relay is gone when it has
/// no connection to Redis: each one names its connections, and Redis drops a dead process's at once;</item>
/// <item><c>sessions:ACCOUNT</c> and <c>idle:ACCOUNT</c> (see <see cref="SessionFunctions"/>): the cap on an account's
/// sessions (<see cref="WebifiRelayOptions.MaxSessionsPerAccount"/>) counts them on all relays together;</item>
/// <item><c>login-failures:KEY</c> (counter per client address and per account, see <see cref="LoginThrottle"/>): password
/// guessing spread over relays counts on each of them.</item>
/// </list>
/// Every relay must have the same accounts. Parking during <see cref="WebifiRelayOptions.StartupGrace"/> is not needed:
/// sessions survive a relay.
/// </summary>
internal sealed class RedisRelayRouter : IRelayRouter, ISharedLoginFailures
{
    private const string Prefix = "deviceshell:webifi:";
    /// <summary>How often a session's stream is read when no wake-up came (a wake-up lost while reconnecting).</summary>
    private static readonly TimeSpan PollPeriod = TimeSpan.FromSeconds(1);
    private const int ReadBatch = 512;

    /// <summary>Entries a session's stream keeps: a mailbox read into the relay and a mailbox not read yet (see <see cref="RouteScript"/>).</summary>
    private int StreamLength => 2 * _options.MailboxCapacity;

    /// <summary>
    /// A recipient whose relay has more than this unread in its stream, and has read from it within
    /// <see cref="ReadingRecently"/>, makes the sender's connection pause (see <see cref="RouteAllAsync"/>): relays on
    /// Redis acknowledge data before its recipient's relay has read it, so a sender could otherwise outrun a slower
    /// relay until its mailbox overflows. A relay that stopped reading a stream (it died, or the client does not read
    /// and its mailbox is full) holds nobody back: its oldest are cut, as on one relay.
    /// </summary>
    private int Backlogged => _options.MailboxCapacity / 2;

    private static readonly TimeSpan BacklogPause = TimeSpan.FromMilliseconds(10);

    /// <summary>See <see cref="Backlogged"/>: a relay reading a stream reads it at least every <see cref="PollPeriod"/>.</summary>
    private static readonly TimeSpan ReadingRecently = 2 * PollPeriod;
    /// <summary>See <see cref="Delivered"/>: how long a written message must stay unchallenged before it is deleted.</summary>
    private static readonly TimeSpan ReceiptDelay = TimeSpan.FromSeconds(1);
    /// <summary>A session found for a client is not reported idle for this long: a WebSocket attaches just after it is found.</summary>
    private static readonly TimeSpan AttachGrace = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Routes the data messages of one read in one atomic step, so all relays see one order and a sender's messages
    /// keep theirs. A sender whose record is gone or another session's gets 12 for every message and nothing is routed.
    /// A recipient takes a message only while its unread bytes (appended, not yet read by its relay) stay within the
    /// mailbox's byte limit: streams are bounded in bytes as well as entries, and a message some recipient could not take
    /// gets 1 (the others have it). ARGV: prefix, sender, sender's device id, account, stream length cap, unread byte cap,
    /// key lifetime (ms), message count, then per message
    /// its code so far (2 for a network the account lacks or a malformed id, 7 not to route it), its group count and
    /// per group: network count, networks, session id count, ids, data type, data, message id ('' when none). Recipients of a group are the
    /// account's listeners of the networks (not the sender) plus the ids of the account, one copy each; who listens is
    /// looked up once per call. Each recipient is woken once per call. Returns one code per message, then the largest
    /// number of entries a recipient's relay has not read yet (its <c>unread</c> count) among the recipients whose relay
    /// read within <see cref="ReadingRecently"/> (ARGV after the messages), for <see cref="Backlogged"/>.
    /// A stream keeps at most about <see cref="StreamLength"/> entries: trimming takes the oldest first, which are
    /// those written out (awaiting their receipt, see <see cref="Delivered"/>), then those in the relay's mailbox, so
    /// unread entries are cut only past a whole mailbox behind.
    /// </summary>
    private const string RouteScript = DeviceFunctions + """
        local from, fromDevice, account, maxlen, maxbytes, ttl = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
        local listenersOf, ownDevice, appended, wake, codes, unreadBytes = {}, {}, {}, {}, {}, {}
        if not owns(fromDevice) then
          for m = 1, tonumber(ARGV[8]) do codes[m] = 12 end
          codes[#codes + 1] = 0
          return codes
        end
        local function listeners(net)
          local live = listenersOf[net]
          if live then return live end
          local key = p .. 'listeners:' .. account .. ':' .. net
          live = {}
          for _, device in ipairs(redis.call('SMEMBERS', key)) do
            if owns(device) then live[#live + 1] = device else redis.call('SREM', key, device) end
          end
          listenersOf[net] = live
          return live
        end
        local function deviceOf(id)
          if ownDevice[id] == nil then
            local record = redis.call('HMGET', p .. 'session:' .. id, 'account', 'device')
            ownDevice[id] = record[1] == account and record[2] or false
          end
          return ownDevice[id]
        end
        local function room(device, size)
          if unreadBytes[device] == nil then unreadBytes[device] = tonumber(redis.call('HGET', record(device), 'unread-bytes') or 0) end
          if unreadBytes[device] + size > maxbytes then return false end
          unreadBytes[device] = unreadBytes[device] + size
          return true
        end
        local i = 9
        for m = 1, tonumber(ARGV[8]) do
          local stored = true
          local code, groups = tonumber(ARGV[i]), tonumber(ARGV[i + 1]); i = i + 2
          for g = 1, groups do
            local recipients, order = {}, {}
            local count = tonumber(ARGV[i]); i = i + 1
            for k = 1, count do
              for _, device in ipairs(listeners(ARGV[i])) do
                if device ~= fromDevice and not recipients[device] then recipients[device] = true; order[#order + 1] = device end
              end
              i = i + 1
            end
            count = tonumber(ARGV[i]); i = i + 1
            for k = 1, count do
              local device = deviceOf(ARGV[i]); i = i + 1
              if not device then
                code = math.max(code, 2)
              elseif not recipients[device] then
                recipients[device] = true; order[#order + 1] = device
              end
            end
            local dt, d, u = ARGV[i], ARGV[i + 1], ARGV[i + 2]; i = i + 3
            for _, device in ipairs(order) do
              if not room(device, #d) then
                stored = false
              else
                if u == '' then
                  redis.call('XADD', p .. 'stream:' .. device, 'MAXLEN', '~', maxlen, '*', 'f', from, 'dt', dt, 'd', d)
                else
                  redis.call('XADD', p .. 'stream:' .. device, 'MAXLEN', '~', maxlen, '*', 'f', from, 'dt', dt, 'u', u, 'd', d)
                end
                if not appended[device] then appended[device] = 0; wake[#wake + 1] = device end
                appended[device] = appended[device] + 1
              end
            end
          end
          if not stored and code == 0 then code = 1 end
          codes[m] = code
        end
        local backlog, time = 0, redis.call('TIME')
        local readSince = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) - tonumber(ARGV[i])
        for _, device in ipairs(wake) do
          local session, stream = record(device), p .. 'stream:' .. device
          if redis.call('PTTL', stream) < 0 then redis.call('PEXPIRE', stream, ttl) end
          local unread = redis.call('HINCRBY', session, 'unread', appended[device])
          redis.call('HSET', session, 'unread-bytes', unreadBytes[device])
          if tonumber(redis.call('HGET', session, 'read-at') or 0) >= readSince then backlog = math.max(backlog, unread) end
          redis.call('PUBLISH', p .. 'wake', device)
        end
        codes[#codes + 1] = backlog
        return codes
        """;

    /// <summary>
    /// Lua shared by every script that names a session by its device id (ARGV[1] is the key prefix): its record, and
    /// whether the record is still that session's (see the class summary).
    /// </summary>
    private const string DeviceFunctions = """
        local p = ARGV[1]
        local function record(device) return p .. 'session:' .. string.match(device, '^%d+') end
        local function owns(device) return redis.call('HGET', record(device), 'device') == device end

        """;

    /// <summary>
    /// Lua shared by the scripts that end sessions. <c>sessions:ACCOUNT</c> (sorted set, scored by the time the session's
    /// record expires unless refreshed) counts the account's sessions on every relay, for the cap;
    /// <c>idle:ACCOUNT</c> (scored by last seen) holds those that have no WebSocket and no held download, as their
    /// relays last reported them: the ones a login at the cap may end.
    /// </summary>
    private const string SessionFunctions = DeviceFunctions + """
        local function leave(account, device)
          if not owns(device) then return end
          local networks = redis.call('HGET', record(device), 'networks') or ''
          for net in string.gmatch(networks, '[^\n]+') do redis.call('SREM', p .. 'listeners:' .. account .. ':' .. net, device) end
        end
        local function remove(account, device)
          leave(account, device)
          if owns(device) then redis.call('DEL', record(device)) end
          redis.call('DEL', p .. 'stream:' .. device)
          redis.call('ZREM', p .. 'sessions:' .. account, device)
          redis.call('ZREM', p .. 'idle:' .. account, device)
        end
        local function now()
          local time = redis.call('TIME')
          return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        end

        """;

    /// <summary>Replaces a session's networks; adopts the undelivered entries of same-account listeners whose relay is gone.</summary>
    private const string JoinScript = SessionFunctions + """
        local device, account, ttl = ARGV[2], ARGV[3], tonumber(ARGV[4])
        if not owns(device) then return 12 end
        local session = record(device)
        leave(account, device)
        local i = 5
        local count = tonumber(ARGV[i]); i = i + 1
        local networks = {}
        for k = 1, count do networks[k] = ARGV[i]; i = i + 1 end
        local live = {}
        for k = i, #ARGV do live[ARGV[k]] = true end
        local stream = p .. 'stream:' .. device
        for _, net in ipairs(networks) do
          local key = p .. 'listeners:' .. account .. ':' .. net
          for _, other in ipairs(redis.call('SMEMBERS', key)) do
            if other ~= device then
              local owner = owns(other) and redis.call('HGET', record(other), 'owner')
              if not owner then
                redis.call('SREM', key, other)
              elseif not live[owner] then
                for _, entry in ipairs(redis.call('XRANGE', p .. 'stream:' .. other, '-', '+')) do
                  redis.call('XADD', stream, '*', unpack(entry[2]))
                  redis.call('HINCRBY', session, 'unread', 1)
                  redis.call('HINCRBY', session, 'unread-bytes', #entry[2][#entry[2]])
                end
                remove(account, other)
              end
            end
          end
          redis.call('SADD', key, device)
        end
        redis.call('HSET', session, 'networks', table.concat(networks, '\n'))
        if redis.call('EXISTS', stream) == 1 then
          redis.call('PEXPIRE', stream, ttl)
          redis.call('PUBLISH', p .. 'wake', device)
        end
        return 0
        """;

    /// <summary>
    /// This relay serves the session from now on; its pump reads the whole stream, so all of it counts as unread.
    /// ARGV: prefix, device id, this relay's name. 0 when the session is not recorded (any more).
    /// </summary>
    private const string TakeOverScript = DeviceFunctions + """
        if not owns(ARGV[2]) then return 0 end
        local bytes = 0
        local entries = redis.call('XRANGE', p .. 'stream:' .. ARGV[2], '-', '+')
        for _, entry in ipairs(entries) do bytes = bytes + #entry[2][#entry[2]] end
        redis.call('HSET', record(ARGV[2]), 'owner', ARGV[3], 'unread', #entries, 'unread-bytes', bytes)
        return 1
        """;

    /// <summary>The pump read entries of a session's stream, now (not recreating the record of a session that ended meanwhile).</summary>
    private const string ReadScript = DeviceFunctions + """
        if not owns(ARGV[2]) then return 0 end
        local time = redis.call('TIME')
        redis.call('HINCRBY', record(ARGV[2]), 'unread', -tonumber(ARGV[3]))
        redis.call('HINCRBY', record(ARGV[2]), 'unread-bytes', -tonumber(ARGV[4]))
        redis.call('HSET', record(ARGV[2]), 'read-at', tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000))
        return 0
        """;

    /// <summary>
    /// A relay stopping in order leaves a session: what it wrote is deleted, and with no owner the next session of the
    /// account that joins its networks adopts what is still undelivered; until its client comes back (to another relay)
    /// it is the first to give way to a login at the cap. A script, not a watched transaction: routing writes the
    /// session's hash (its unread count) all the time. ARGV: prefix, device id, account, stream ids written.
    /// </summary>
    private const string SettleScript = DeviceFunctions + """
        local device, account = ARGV[2], ARGV[3]
        if not owns(device) then return 0 end
        for k = 4, #ARGV, 1000 do redis.call('XDEL', p .. 'stream:' .. device, unpack(ARGV, k, math.min(k + 999, #ARGV))) end
        redis.call('HSET', record(device), 'owner', '')
        redis.call('ZADD', p .. 'idle:' .. account, 0, device)
        return 0
        """;

    private const string RemoveScript = SessionFunctions + """
        remove(ARGV[3], ARGV[2])
        return 0
        """;

    /// <summary>
    /// Records a new session unless the account is at the cap on all relays together: then the least recently seen idle
    /// session is ended (its relay hears it on <c>ended</c>), or, when none is idle, nothing is recorded and '' returned.
    /// ARGV: prefix, account, random part of the device id, owner, key lifetime (ms), cap, message ids.
    /// Returns the new session's device id: its number is the next one whose record is free.
    /// </summary>
    private const string LoginScript = SessionFunctions + """
        local account, ttl, cap, mi = ARGV[2], tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
        local sessions, idle, time = p .. 'sessions:' .. account, p .. 'idle:' .. account, now()
        for _, expired in ipairs(redis.call('ZRANGEBYSCORE', sessions, '-inf', time)) do redis.call('ZREM', idle, expired) end
        redis.call('ZREMRANGEBYSCORE', sessions, '-inf', time)
        if redis.call('ZCARD', sessions) >= cap then
          local ended = redis.call('ZRANGE', idle, 0, 0)[1]
          if not ended then return '' end
          remove(account, ended)
          redis.call('PUBLISH', p .. 'ended', ended)
        end
        local id
        repeat id = 99 + redis.call('INCR', p .. 'next-id') until redis.call('EXISTS', p .. 'session:' .. id) == 0
        local device = id .. 's' .. ARGV[3]
        local key = record(device)
        redis.call('HSET', key, 'account', account, 'device', device, 'owner', ARGV[4], 'networks', '', 'mi', mi)
        redis.call('PEXPIRE', key, ttl)
        redis.call('ZADD', sessions, time + ttl, device)
        redis.call('ZADD', idle, time, device)
        redis.call('PEXPIRE', sessions, ttl)
        redis.call('PEXPIRE', idle, ttl)
        return device
        """;

    /// <summary>
    /// Keeps a relay's sessions alive in Redis and reports which are idle. ARGV: prefix, key lifetime (ms), then per
    /// session its device id, account, how long it has been idle in ms (-1: in use) and its <see cref="Served.InUseReports"/>
    /// when that was looked at: an idle report older than the session's last in-use report (its client attached while
    /// this call was on its way) is dropped, so the session is not offered to a login at the cap. Returns the device ids
    /// whose record is gone or another session's (ended by a login on another relay, expired while this relay could not
    /// reach Redis, or lost in a restart of Redis): their relay ends them, and their clients log in again.
    /// </summary>
    private const string RefreshScript = SessionFunctions + """
        local ttl, time, gone = tonumber(ARGV[2]), now(), {}
        for k = 3, #ARGV, 4 do
          local device, account, idleFor, reports = ARGV[k], ARGV[k + 1], tonumber(ARGV[k + 2]), ARGV[k + 3]
          local session = record(device)
          if not owns(device) then
            gone[#gone + 1] = device
          else
            redis.call('PEXPIRE', session, ttl)
            redis.call('PEXPIRE', p .. 'stream:' .. device, ttl)
            local sessions, idle = p .. 'sessions:' .. account, p .. 'idle:' .. account
            redis.call('ZADD', sessions, time + ttl, device)
            if idleFor < 0 then
              redis.call('ZREM', idle, device)
            elseif (redis.call('HGET', session, 'in-use-reports') or '0') == reports then
              redis.call('ZADD', idle, time - idleFor, device)
            end
            redis.call('PEXPIRE', sessions, ttl)
            redis.call('PEXPIRE', idle, ttl)
          end
        end
        return gone
        """;

    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly WebifiRelayOptions _options;
    private readonly ILogger _log;
    /// <summary>This relay's name on its Redis connections: other relays tell from the connection list that it is alive.</summary>
    private readonly string _name;
    /// <summary>The sessions this relay serves, by device id (numbers may repeat after a Redis restart, device ids do not).</summary>
    private readonly ConcurrentDictionary<string, Served> _served = new(StringComparer.Ordinal);
    private readonly FailureBurst _failures;
    private readonly MailboxMemory _memory;
    private readonly CancellationTokenSource _stopDeleting = new();
    private Task _deleting = Task.CompletedTask;
    private volatile bool _closed;

    private RedisRelayRouter(ConnectionMultiplexer redis, string name, WebifiRelayOptions options, ILogger log)
    {
        _redis = redis;
        _db = redis.GetDatabase();
        _name = name;
        _options = options;
        _log = log;
        _failures = new FailureBurst(log, "Redis");
        _memory = new MailboxMemory(options.MaxMemoryBytes, options.MaxAccountMemoryBytes);
    }

    /// <summary>Connects to <see cref="WebifiRelayOptions.Redis"/>; fails (the Lab reports it and exits) when Redis cannot be reached.</summary>
    public static async Task<RedisRelayRouter> ConnectAsync(WebifiRelayOptions options, ILogger log, CancellationToken cancellationToken)
    {
        string name = "deviceshell-webifi-" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        var configuration = new ConfigurationOptions
        {
            ClientName = name,
            // CLIENT LIST (which relays are alive) is an admin command.
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
        }
        catch (RedisConnectionException ex)
        {
            throw new InvalidOperationException($"The Webifi relay cannot reach Redis at {options.Redis}: {ex.Message}", ex);
        }
        var router = new RedisRelayRouter(redis, name, options, log);
        await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(Prefix + "wake"), (_, device) =>
        {
            if (router._served.TryGetValue(device.ToString(), out var served)) served.Signal();
        }).ConfigureAwait(false);
        // A login at the cap (on any relay) ended one of this relay's idle sessions.
        await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(Prefix + "ended"), (_, device) =>
        {
            if (router._served.TryGetValue(device.ToString(), out var served)) router.EndHere(served);
        }).ConfigureAwait(false);
        router._deleting = router.DeleteReceivedLoopAsync(router._stopDeleting.Token);
        log.LogInformation("Webifi relay {Name} shares its sessions through Redis at {Endpoint}", name, options.Redis);
        return router;
    }

    private TimeSpan KeyLifetime => _options.SessionTimeout + TimeSpan.FromSeconds(10);

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
            deviceId = (string)(await _db.ScriptEvaluateAsync(LoginScript, values: new RedisValue[]
            {
                Prefix, account.ConnectName, RelaySession.NewDeviceToken(), _name, (long)KeyLifetime.TotalMilliseconds, _options.MaxSessionsPerAccount, messageIds,
            }).ConfigureAwait(false))!;
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
        if (RelaySession.IdOf(deviceId) is not int id) return null;
        try
        {
            var fields = (await _db.HashGetAllAsync(SessionKey(id)).ConfigureAwait(false)).ToDictionary(f => f.Name.ToString(), f => f.Value.ToString());
            if (fields.GetValueOrDefault("device") != deviceId) return null;
            var account = _options.Accounts.FirstOrDefault(a => a.ConnectName == fields.GetValueOrDefault("account"));
            if (account is null) return null;
            var session = new RelaySession(id, deviceId, account, _options.MailboxCapacity, _options.MailboxBytes, _memory)
            {
                MessageIds = fields.GetValueOrDefault("mi") == "1",
                Networks = fields.GetValueOrDefault("networks", "").Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal),
            };
            if ((int)await _db.ScriptEvaluateAsync(TakeOverScript, values: new RedisValue[] { Prefix, deviceId, _name }).ConfigureAwait(false) == 0) return null;
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
    private async Task ReportInUseAsync(Served served)
    {
        served.ReportedIdle = false;
        served.FoundAt = DateTime.UtcNow;
        var report = _db.CreateTransaction();
        _ = report.SortedSetRemoveAsync(IdleKey(served.Session.Account.ConnectName), served.Session.DeviceId);
        _ = report.HashSetAsync(SessionKey(served.Session.Id), "in-use-reports", Interlocked.Increment(ref served.InUseReports));
        // Only while the record is still this session's (not recreating one after a restart of Redis).
        report.AddCondition(Condition.HashEqual(SessionKey(served.Session.Id), "device", served.Session.DeviceId));
        try
        {
            await report.ExecuteAsync().ConfigureAwait(false);
        }
        catch (RedisException ex)
        {
            _failures.Failed("reporting a session in use", ex);
        }
    }

    public bool IsLive(RelaySession session) => _served.TryGetValue(session.DeviceId, out var served) && served.Session == session;

    public void Remove(RelaySession session)
    {
        if (_served.TryGetValue(session.DeviceId, out var served) && served.Session == session && EndHere(served))
            _db.ScriptEvaluate(RemoveScript, values: new RedisValue[] { Prefix, session.DeviceId, session.Account.ConnectName }, flags: CommandFlags.FireAndForget);
    }

    /// <summary>Stops serving a session (its client gets error 12); false when it was not served any more.</summary>
    private bool EndHere(Served served)
    {
        if (!_served.TryRemove(KeyValuePair.Create(served.Session.DeviceId, served))) return false;
        served.Stop();
        served.Session.CancelDownload(WebifiErrorCode.SessionExpired);
        served.Session.End();
        return true;
    }

    /// <summary>
    /// Ends this relay's idle sessions; keeps the shared records of the others alive and reports which are idle (see
    /// <see cref="RefreshScript"/>), in one script call; ends the ones whose record is gone or another session's.
    /// Throws when Redis fails (the relay's expiry loop retries).
    /// </summary>
    public async Task<int> ExpireAsync(DateTime cutoff)
    {
        int expired = 0;
        var values = new List<RedisValue> { Prefix, (long)KeyLifetime.TotalMilliseconds };
        var now = DateTime.UtcNow;
        foreach (var served in _served.Values)
        {
            var session = served.Session;
            int reports = Volatile.Read(ref served.InUseReports);
            // Found a moment ago and not attached yet: its client is attaching (a WebSocket authenticates after Find).
            bool idle = !session.Attached && now - served.FoundAt > AttachGrace;
            if (idle && session.LastSeen < cutoff)
            {
                Remove(session);
                expired++;
                continue;
            }
            served.ReportedIdle = idle;
            values.Add(session.DeviceId);
            values.Add(session.Account.ConnectName);
            values.Add(idle ? (long)Math.Max(0, (now - session.LastSeen).TotalMilliseconds) : -1);
            values.Add(reports);
        }
        if (values.Count == 2) return expired;
        try
        {
            foreach (var device in (string[])(await _db.ScriptEvaluateAsync(RefreshScript, values: values.ToArray()).ConfigureAwait(false))!)
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

    /// <summary>4 or 5 as on one relay; 12 when the session's record is gone (the session ends), 1 when Redis fails.</summary>
    public async ValueTask<int> SetNetworksAsync(RelaySession session, IEnumerable<string> requested)
    {
        var names = requested.Where(n => n.Length > 0).ToList();
        var known = names.Where(n => session.Account.Networks.Contains(n, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        try
        {
            var live = await LiveRelaysAsync().ConfigureAwait(false);
            var values = new List<RedisValue> { Prefix, session.DeviceId, session.Account.ConnectName, (long)KeyLifetime.TotalMilliseconds, known.Count };
            values.AddRange(known.Select(n => (RedisValue)n));
            values.AddRange(live.Select(n => (RedisValue)n));
            int code = (int)await _db.ScriptEvaluateAsync(JoinScript, values: values.ToArray()).ConfigureAwait(false);
            _failures.Succeeded();
            if (code == WebifiErrorCode.SessionExpired)
            {
                if (_served.TryGetValue(session.DeviceId, out var served) && served.Session == session) EndHere(served);
                return code;
            }
        }
        catch (RedisException ex)
        {
            _failures.Failed("setting networks", ex);
            return WebifiErrorCode.Unknown;
        }
        session.Networks = known.ToHashSet(StringComparer.Ordinal);
        return known.Count == names.Count ? WebifiErrorCode.NetworksSet : WebifiErrorCode.NotAllNetworksSet;
    }

    /// <summary>The names of the relays connected to Redis right now (this one included).</summary>
    private async Task<HashSet<string>> LiveRelaysAsync()
    {
        var live = new HashSet<string>(StringComparer.Ordinal) { _name };
        foreach (var endpoint in _redis.GetEndPoints())
            foreach (var client in await _redis.GetServer(endpoint).ClientListAsync().ConfigureAwait(false))
                if (!string.IsNullOrEmpty(client.Name)) live.Add(client.Name);
        return live;
    }

    /// <summary>
    /// One script call for all the messages (see <see cref="RouteScript"/>); what can be checked here is checked here.
    /// A sender whose record is gone or another session's gets 12 for every message and its session ends (its client
    /// logs in again); when Redis fails every message gets 1 (the sender tries again: it may have been stored after all,
    /// so at least once).
    /// </summary>
    public async ValueTask<int[]?> RouteAllAsync(RelaySession from, IReadOnlyList<IReadOnlyList<RelayDataGroup>> messages)
    {
        if (_closed) return null;
        var values = new List<RedisValue>
        {
            Prefix, from.Id, from.DeviceId, from.Account.ConnectName, StreamLength, _options.MailboxBytes, (long)KeyLifetime.TotalMilliseconds, messages.Count,
        };
        foreach (var groups in messages)
        {
            if (RelayDataGroup.AreUnroutable(groups, _options))
            {
                values.Add(WebifiErrorCode.ProtocolError);
                values.Add(0);
                continue;
            }
            int codeAt = values.Count;
            values.Add(WebifiErrorCode.Success);
            values.Add(groups.Count);
            foreach (var group in groups)
            {
                if (!AddGroup(values, from, group)) values[codeAt] = WebifiErrorCode.NotDelivered;
            }
        }
        values.Add((long)ReadingRecently.TotalMilliseconds);
        int[] result;
        try
        {
            result = (int[])(await _db.ScriptEvaluateAsync(RouteScript, values: values.ToArray()).ConfigureAwait(false))!;
            _failures.Succeeded();
        }
        catch (RedisException ex)
        {
            _failures.Failed("routing", ex);
            return Enumerable.Repeat(WebifiErrorCode.Unknown, messages.Count).ToArray();
        }
        if (result.Length > 1 && result[0] == WebifiErrorCode.SessionExpired && _served.TryGetValue(from.DeviceId, out var served) && served.Session == from) EndHere(served);
        // Routed and in order: the pause only delays the acknowledgements, and with them the sender's next messages.
        if (result[^1] > Backlogged) await Task.Delay(BacklogPause).ConfigureAwait(false);
        return result[..^1];
    }

    /// <summary>Appends a group's script arguments; false when part of it cannot be delivered (a network the account lacks, a malformed id).</summary>
    private static bool AddGroup(List<RedisValue> values, RelaySession from, RelayDataGroup group)
    {
        bool whole = true;
        IEnumerable<string> addressed = group.Networks.Count == 0 && group.SessionIds.Count == 0 ? from.Networks : group.Networks;
        int countAt = values.Count;
        values.Add(0);
        foreach (string network in addressed.Distinct(StringComparer.Ordinal))
        {
            if (from.Account.Networks.Contains(network, StringComparer.Ordinal)) values.Add(network);
            else whole = false;
        }
        values[countAt] = values.Count - countAt - 1;
        countAt = values.Count;
        values.Add(0);
        foreach (string text in group.SessionIds)
        {
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int id)) values.Add(id);
            else whole = false;
        }
        values[countAt] = values.Count - countAt - 1;
        values.Add(group.DataType);
        values.Add(group.Data);
        values.Add(group.MessageId ?? "");
        return whole;
    }

    /// <summary>
    /// Written is not yet received: a WebSocket send completes once Kestrel holds the bytes, and a long-polling answer
    /// may be cut. The Webifi protocol has no receipt from the client, so an entry is deleted only when the session is
    /// still attached <see cref="ReceiptDelay"/> after the write (the same socket still open, or the next /Download
    /// held). A relay killed within that time leaves the entries for the next relay: they are delivered again
    /// (at least once, never lost); an orderly stop deletes what it wrote before it closed the connections.
    /// </summary>
    public void Delivered(RelaySession session, IReadOnlyList<RelayDelivery> batch)
    {
        if (!_served.TryGetValue(session.DeviceId, out var served) || served.Session != session) return;
        var ids = batch.Where(d => d.StreamId is not null).Select(d => (RedisValue)d.StreamId).ToArray();
        // Once settled (stopping in order), a long-polling answer still on its way counts as received, like the rest.
        if (ids.Length > 0 && served.Settled) _db.StreamDelete(StreamKey(session.DeviceId), ids, CommandFlags.FireAndForget);
        else if (ids.Length > 0) served.Written.Enqueue((DateTime.UtcNow + ReceiptDelay, ids));
        served.Signal(); // room in the mailbox again
    }

    public async Task SettleAsync(RelaySession session)
    {
        if (!_served.TryGetValue(session.DeviceId, out var served) || served.Session != session) return;
        served.Settled = true;
        var ids = new List<RedisValue>();
        while (served.Written.TryDequeue(out var written)) ids.AddRange(written.Ids);
        var values = new List<RedisValue> { Prefix, session.DeviceId, session.Account.ConnectName };
        values.AddRange(ids);
        try
        {
            await _db.ScriptEvaluateAsync(SettleScript, values: values.ToArray()).ConfigureAwait(false);
        }
        catch (RedisException ex)
        {
            // Left to expire: what it wrote may be delivered again by the next relay (at least once).
            _failures.Failed("settling a session", ex);
        }
    }

    /// <summary>Deletes the entries whose receipt is as sure as the protocol allows (see <see cref="Delivered"/>).</summary>
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

    private void DeleteWritten(Served served, DateTime before)
    {
        if (!served.Session.Attached) return;
        var ids = new List<RedisValue>();
        while (served.Written.TryPeek(out var written) && written.Due <= before && served.Written.TryDequeue(out written)) ids.AddRange(written.Ids);
        if (ids.Count > 0) _db.StreamDelete(StreamKey(served.Session.DeviceId), ids.ToArray(), CommandFlags.FireAndForget);
    }

    public void Close() => _closed = true;

    public async ValueTask DisposeAsync()
    {
        _closed = true;
        _stopDeleting.Cancel();
        await _deleting.ConfigureAwait(false);
        var served = _served.Values.ToList();
        foreach (var entry in served) entry.Stop();
        await Task.WhenAll(served.Select(s => s.Pump)).ConfigureAwait(false);

        // Lets the last deletions (messages written out while stopping) reach Redis.
        await _redis.CloseAsync(allowCommandsToComplete: true).ConfigureAwait(false);
        _redis.Dispose();
    }

    private static RedisKey SessionKey(int id) => Prefix + "session:" + id.ToString(CultureInfo.InvariantCulture);

    /// <summary>Keys are the throttle's ("address …", "account …"), one counter each under <c>login-failures:</c>.</summary>
    public async Task<int[]> FailuresAsync(IReadOnlyList<string> keys)
    {
        var counts = await _db.StringGetAsync(keys.Select(LoginFailuresKey).ToArray()).ConfigureAwait(false);
        return counts.Select(count => count.TryParse(out int failures) ? failures : 0).ToArray();
    }

    public void Record(string key, bool succeeded)
    {
        var counter = LoginFailuresKey(key);
        if (succeeded)
        {
            _db.KeyDelete(counter, CommandFlags.FireAndForget);
            return;
        }
        _db.StringIncrement(counter, flags: CommandFlags.FireAndForget);
        _db.KeyExpire(counter, _options.LoginFailureMemory, CommandFlags.FireAndForget);
    }

    private static RedisKey LoginFailuresKey(string key) => Prefix + "login-failures:" + key;

    private static RedisKey IdleKey(string account) => Prefix + "idle:" + account;

    private static RedisKey StreamKey(string deviceId) => Prefix + "stream:" + deviceId;

    private Served Serve(RelaySession session)
    {
        var served = _served.GetOrAdd(session.DeviceId, _ => new Served(session));
        if (served.Session != session) return served;
        served.Pump = PumpAsync(served);
        served.Signal(); // a session taken over from another relay may have entries waiting
        return served;
    }

    /// <summary>
    /// Moves the session's stream into its mailbox, as far as the mailbox has room; entries stay until delivered.
    /// Survives every failure: Redis failing or stalling makes it retry after <see cref="FailureBurst.Backoff"/>.
    /// </summary>
    private async Task PumpAsync(Served served)
    {
        var session = served.Session;
        RedisValue position = "0-0";
        var stop = served.Stopping;
        while (!stop.IsCancellationRequested && !session.Ended.IsCancellationRequested)
        {
            try
            {
                await served.WaitAsync(PollPeriod, stop).ConfigureAwait(false);
                while (_options.MailboxCapacity - session.QueuedCount is int room && room > 0)
                {
                    var entries = await _db.StreamReadAsync(StreamKey(session.DeviceId), position, Math.Min(room, ReadBatch)).ConfigureAwait(false);
                    if (entries.Length == 0) break;
                    int read = 0;
                    long bytes = 0;
                    foreach (var entry in entries)
                    {
                        var data = (byte[])entry["d"]!;
                        // Not past the mailbox's own byte limit (it would drop the oldest): the rest waits in the
                        // stream, whose unread bytes are bounded in turn (see RouteScript).
                        if (session.QueuedCount > 0 && session.QueuedBytes + data.Length > _options.MailboxBytes) break;
                        // At the relay's memory bound the rest stays in the stream until the mailboxes drain.
                        if (!session.TryEnqueue(new RelayDelivery((int)entry["f"], entry["dt"].ToString(), data, entry["u"].IsNull ? null : entry["u"].ToString(), entry.Id.ToString()))) break;
                        position = entry.Id;
                        read++;
                        bytes += data.Length;
                    }
                    if (read > 0) _db.ScriptEvaluate(ReadScript, values: new RedisValue[] { Prefix, session.DeviceId, read, bytes }, flags: CommandFlags.FireAndForget);
                    if (read < entries.Length) break;
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

    /// <summary>A session this relay serves: its mailbox pump and the signal that wakes it.</summary>
    private sealed class Served(RelaySession session)
    {
        private readonly SemaphoreSlim _wake = new(0, 1);
        private readonly CancellationTokenSource _stopping = new();

        public RelaySession Session { get; } = session;

        public Task Pump { get; set; } = Task.CompletedTask;

        public CancellationToken Stopping => _stopping.Token;

        /// <summary>See <see cref="SettleAsync"/>.</summary>
        public volatile bool Settled;

        /// <summary>Redis has it as idle (see <see cref="ExpireAsync"/>): a login at the cap may end it.</summary>
        public volatile bool ReportedIdle;

        /// <summary>How often <see cref="ReportInUseAsync"/> told Redis; see <see cref="RefreshScript"/>.</summary>
        public int InUseReports;

        /// <summary>When <see cref="FindAsync"/> last found it for a client (see <see cref="AttachGrace"/>).</summary>
        public DateTime FoundAt;

        /// <summary>Stream entries written to the client, oldest first, with the time they may be deleted.</summary>
        public ConcurrentQueue<(DateTime Due, RedisValue[] Ids)> Written { get; } = new();

        public void Signal()
        {
            lock (_wake)
            {
                if (_wake.CurrentCount == 0) _wake.Release();
            }
        }

        public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _wake.WaitAsync(timeout, cancellationToken);

        public void Stop() => _stopping.Cancel();
    }
}
