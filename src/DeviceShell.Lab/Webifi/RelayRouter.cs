using System.Globalization;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// The relay's sessions and its delivery rules (docs/design/webifi.md §7):
/// no addressing = the sender's own networks; a sender never gets its own data through a network;
/// a sender addressing its own session id does get it; a session in several addressed networks (or
/// also addressed by id) gets one copy. Networks and session ids are scoped to the connect name (account):
/// an id of another account, an unknown id or a network the account does not have give error 2 for
/// that part, while the other recipients still get the data.
/// After a (re)start, during <see cref="StartupGrace"/>, data for a network nobody listens to yet is parked
/// and handed to the first session that joins it: the clients of the previous run are logging in again one
/// by one, and a restart should not lose what the first of them sends.
/// </summary>
internal sealed class RelayRouter : IRelayRouter
{
    private readonly object _gate = new();
    private readonly Dictionary<int, RelaySession> _byId = new();
    private readonly Dictionary<string, RelaySession> _byDeviceId = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Account, string Network), Queue<RelayDelivery>> _parked = new();
    /// <summary>Who listens to what, so routing costs the number of listeners rather than the number of sessions.</summary>
    private readonly Dictionary<(string Account, string Network), HashSet<RelaySession>> _listeners = new();
    private readonly IReadOnlyList<WebifiAccount> _accounts;
    private readonly WebifiRelayOptions _options;
    private readonly DateTime _graceEnds;
    private readonly MailboxMemory _memory;
    private int _parkedCount;
    private long _parkedBytes;
    private bool _closed;
    private int _lastId = 99;

    public RelayRouter(IReadOnlyList<WebifiAccount> accounts, WebifiRelayOptions options)
    {
        _accounts = accounts;
        _options = options;
        _graceEnds = DateTime.UtcNow + options.StartupGrace;
        _memory = new MailboxMemory(options.MaxMemoryBytes, options.MaxAccountMemoryBytes);
    }

    public TimeSpan StartupGrace => _options.StartupGrace;

    public int Count
    {
        get { lock (_gate) { return _byId.Count; } }
    }

    public IReadOnlyList<RelaySession> Sessions
    {
        get { lock (_gate) { return _byId.Values.ToArray(); } }
    }

    /// <summary>True when an account has this connect name (the login throttle counts failures per known account).</summary>
    public bool HasAccount(string connectName) => _accounts.Any(a => a.ConnectName == connectName);

    /// <summary>
    /// Checks the connect name and password: a new session (code 0), or no session with code 8 (wrong credentials) or
    /// 1 (the account is at <see cref="WebifiRelayOptions.MaxSessionsPerAccount"/> with every session in use).
    /// </summary>
    public ValueTask<(RelaySession? Session, int Code)> LoginAsync(string connectName, string connectPassword, bool messageIds) =>
        ValueTask.FromResult(Login(connectName, connectPassword, messageIds));

    private (RelaySession? Session, int Code) Login(string connectName, string connectPassword, bool messageIds)
    {
        var account = WebifiAccount.Match(_accounts, connectName, connectPassword);
        if (account is null) return (null, WebifiErrorCode.InvalidCredentials);
        RelaySession? evicted = null;
        RelaySession session;
        lock (_gate)
        {
            var own = _byId.Values.Where(s => s.Account == account).ToList();
            if (own.Count >= _options.MaxSessionsPerAccount)
            {
                evicted = own.Where(s => !s.Attached).MinBy(s => s.LastSeen);
                if (evicted is null) return (null, WebifiErrorCode.Unknown);
                RemoveLocked(evicted);
            }
            int id = ++_lastId;
            session = new RelaySession(id, RelaySession.NewDeviceId(id), account, _options.MailboxCapacity, _options.MailboxBytes, _memory) { MessageIds = messageIds };
            _byId[id] = session;
            _byDeviceId[session.DeviceId] = session;
        }
        if (evicted is not null) EndRemoved(evicted);
        return (session, WebifiErrorCode.Success);
    }

    /// <summary>The session of a device id, or null when unknown or expired (error 12).</summary>
    public ValueTask<RelaySession?> FindAsync(string? deviceId)
    {
        if (deviceId is null) return ValueTask.FromResult<RelaySession?>(null);
        lock (_gate) { return ValueTask.FromResult(_byDeviceId.GetValueOrDefault(deviceId)); }
    }

    /// <summary>False once the session expired or closed (its WebSocket may still be open; the client gets error 12).</summary>
    public bool IsLive(RelaySession session)
    {
        lock (_gate) { return _byId.TryGetValue(session.Id, out var live) && live == session; }
    }

    public void Remove(RelaySession session)
    {
        lock (_gate) { RemoveLocked(session); }
        EndRemoved(session);
    }

    private void RemoveLocked(RelaySession session)
    {
        _byId.Remove(session.Id);
        Listen(session, new HashSet<string>());
        _byDeviceId.Remove(session.DeviceId);
    }

    private static void EndRemoved(RelaySession session)
    {
        session.CancelDownload(WebifiErrorCode.SessionExpired);
        session.End();
    }

    /// <summary>Removes sessions with no WebSocket and no held download that were last seen before <paramref name="cutoff"/>.</summary>
    public Task<int> ExpireAsync(DateTime cutoff)
    {
        var stale = Sessions.Where(s => !s.Attached && s.LastSeen < cutoff).ToList();
        foreach (var session in stale) Remove(session);
        return Task.FromResult(stale.Count);
    }

    /// <summary>Sets the listen-to networks; 4 when all are the account's, else 5 (the known ones are set).</summary>
    public ValueTask<int> SetNetworksAsync(RelaySession session, IEnumerable<string> requested) => ValueTask.FromResult(SetNetworks(session, requested));

    private int SetNetworks(RelaySession session, IEnumerable<string> requested)
    {
        var names = requested.Where(n => n.Length > 0).ToList();
        var known = names.Where(n => session.Account.Networks.Contains(n, StringComparer.Ordinal)).ToHashSet(StringComparer.Ordinal);
        lock (_gate)
        {
            Listen(session, known);
            if (DateTime.UtcNow < _graceEnds)
            {
                foreach (string network in known)
                {
                    if (!_parked.Remove((session.Account.ConnectName, network), out var parked)) continue;
                    _parkedCount -= parked.Count;
                    _parkedBytes -= parked.Sum(d => (long)d.Data.Length);
                    // Parked data is bounded by MaxParkedBytes; what the memory bounds refuse now is dropped.
                    foreach (var delivery in parked) session.TryEnqueue(delivery);
                }
            }
        }
        return known.Count == names.Count ? WebifiErrorCode.NetworksSet : WebifiErrorCode.NotAllNetworksSet;
    }

    /// <summary>In one process a delivery is done once it left the mailbox: nothing to record.</summary>
    public void Delivered(RelaySession session, IReadOnlyList<RelayDelivery> batch)
    {
    }

    public Task SettleAsync(RelaySession session) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>From now on nothing is routed: a stopping relay must not acknowledge data it can no longer deliver.</summary>
    public void Close()
    {
        lock (_gate) { _closed = true; }
    }

    /// <summary>
    /// Delivers the groups of each message: 0, 2 when some addressed network or session id does not exist (the others
    /// still get the data), 7 (see <see cref="RelayDataGroup.AreUnroutable"/>), 1 when a recipient's mailbox is at a
    /// memory bound (see <see cref="MailboxMemory"/>; the others still get it); or null when the relay is stopping (then
    /// nothing was delivered).
    /// Completes synchronously: everything is in this process.
    /// </summary>
    public ValueTask<int[]?> RouteAllAsync(RelaySession from, IReadOnlyList<IReadOnlyList<RelayDataGroup>> messages)
    {
        var codes = new int[messages.Count];
        lock (_gate)
        {
            if (_closed) return ValueTask.FromResult<int[]?>(null);
            for (int i = 0; i < messages.Count; i++)
                codes[i] = RelayDataGroup.AreUnroutable(messages[i], _options) ? WebifiErrorCode.ProtocolError : messages[i].Select(g => Route(from, g)).Max();
        }
        return ValueTask.FromResult<int[]?>(codes);
    }

    /// <summary>Called under the routing lock.</summary>
    private int Route(RelaySession from, RelayDataGroup group)
    {
        int code = WebifiErrorCode.Success;
        var delivery = new RelayDelivery(from.Id, group.DataType, group.Data, group.MessageId);
        var recipients = new HashSet<RelaySession>();
        var networks = group.Networks.Count == 0 && group.SessionIds.Count == 0 ? from.Networks.ToList() : group.Networks;
        foreach (string network in networks)
        {
            if (!from.Account.Networks.Contains(network, StringComparer.Ordinal))
            {
                code = WebifiErrorCode.NotDelivered;
                continue;
            }
            if (_listeners.TryGetValue((from.Account.ConnectName, network), out var listeners))
            {
                foreach (var session in listeners)
                    if (session != from) recipients.Add(session);
            }
            else
            {
                Park(from.Account.ConnectName, network, delivery);
            }
        }
        foreach (string text in group.SessionIds)
        {
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int id)
                && _byId.TryGetValue(id, out var session) && session.Account == from.Account)
                recipients.Add(session);
            else
                code = WebifiErrorCode.NotDelivered;
        }
        bool stored = true;
        foreach (var recipient in recipients) stored &= recipient.TryEnqueue(delivery);
        // A recipient's mailbox at the relay's or the account's memory bound: the sender is told (error 1).
        return stored || code != WebifiErrorCode.Success ? code : WebifiErrorCode.Unknown;
    }

    /// <summary>Replaces a session's networks in the listener index. Called under the routing lock.</summary>
    private void Listen(RelaySession session, IReadOnlySet<string> networks)
    {
        foreach (string network in session.Networks)
        {
            var key = (session.Account.ConnectName, network);
            if (_listeners.TryGetValue(key, out var listeners) && listeners.Remove(session) && listeners.Count == 0) _listeners.Remove(key);
        }
        session.Networks = networks;
        foreach (string network in networks)
        {
            var key = (session.Account.ConnectName, network);
            if (!_listeners.TryGetValue(key, out var listeners)) _listeners[key] = listeners = new HashSet<RelaySession>();
            listeners.Add(session);
        }
    }

    private void Park(string account, string network, RelayDelivery delivery)
    {
        if (DateTime.UtcNow >= _graceEnds)
        {
            if (_parkedCount > 0) { _parked.Clear(); _parkedCount = 0; _parkedBytes = 0; }
            return;
        }
        // Bounded like a mailbox, in messages and bytes; past either bound the newest is not parked.
        if (_parkedCount >= _options.MailboxCapacity || _parkedBytes + delivery.Data.Length > _options.MaxParkedBytes) return;
        if (!_parked.TryGetValue((account, network), out var queue)) _parked[(account, network)] = queue = new Queue<RelayDelivery>();
        queue.Enqueue(delivery);
        _parkedCount++;
        _parkedBytes += delivery.Data.Length;
    }
}
