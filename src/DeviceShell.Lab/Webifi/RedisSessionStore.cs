using StackExchange.Redis;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// The shared records of the sessions (see <see cref="RedisRelayRouter"/> for what lives where): logins and the cap,
/// taking a session over from another relay, in-use and idle reports, networks, and the end of a session. Every call is
/// one script on the account's keys (<see cref="RedisKeys"/>), plus the device index, which only plain commands touch.
/// Failures surface as <see cref="RedisException"/>; the router turns them into error codes.
/// </summary>
internal sealed class RedisSessionStore(IDatabase db, string relayName, WebifiRelayOptions options)
{
    /// <summary>Session numbers tried for one login before giving up (each taken number is a record left from before).</summary>
    private const int NumberAttempts = 100;

    /// <summary>How long a record lives unless its relay refreshes it.</summary>
    public TimeSpan KeyLifetime => options.SessionTimeout + TimeSpan.FromSeconds(10);

    private long KeyLifetimeMs => (long)KeyLifetime.TotalMilliseconds;

    /// <summary>
    /// Records a new session of the account (see login.lua): its device id, or "" when the account is at its cap with
    /// every session in use.
    /// </summary>
    public async Task<string> LoginAsync(WebifiAccount account, bool messageIds)
    {
        string name = account.ConnectName;
        for (int attempt = 0; attempt < NumberAttempts; attempt++)
        {
            int id = checked((int)(99 + await db.StringIncrementAsync(RedisKeys.NextId).ConfigureAwait(false)));
            string device = (string)(await RedisScript.Login.EvaluateAsync(db,
                [RedisKeys.Sessions(name), RedisKeys.Idle(name), RedisKeys.Session(name, id)],
                [id, RelaySession.NewDeviceToken(), relayName, KeyLifetimeMs, options.MaxSessionsPerAccount, messageIds, name]).ConfigureAwait(false))!;
            if (device == "taken") continue;
            if (device.Length > 0) await db.StringSetAsync(RedisKeys.Device(device), name, KeyLifetime).ConfigureAwait(false);
            return device;
        }
        throw new RedisException($"No free session number after {NumberAttempts} attempts.");
    }

    /// <summary>
    /// Makes this relay the one that serves a session (see take-over.lua): its account and record, or null when the
    /// device id is unknown, expired or names a session that is gone.
    /// </summary>
    public async Task<(WebifiAccount Account, Dictionary<string, string> Record)?> TakeOverAsync(string deviceId)
    {
        if (RelaySession.IdOf(deviceId) is not int id) return null;
        string? name = await db.StringGetAsync(RedisKeys.Device(deviceId)).ConfigureAwait(false);
        var account = options.Accounts.FirstOrDefault(a => a.ConnectName == name);
        if (account is null) return null;
        var fields = (RedisResult[])(await RedisScript.TakeOver.EvaluateAsync(db,
            [RedisKeys.Session(account.ConnectName, id), RedisKeys.Stream(account.ConnectName, deviceId)], [deviceId, relayName]).ConfigureAwait(false))!;
        if (fields.Length == 0) return null;
        var record = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < fields.Length; i += 2) record[fields[i].ToString()] = fields[i + 1].ToString();
        return (account, record);
    }

    /// <summary>No longer one a login at the cap may end; only while the record is still this session's.</summary>
    public async Task ReportInUseAsync(RedisMailbox served, int reports)
    {
        var session = served.Session;
        var report = db.CreateTransaction();
        _ = report.SortedSetRemoveAsync(RedisKeys.Idle(session.Account.ConnectName), session.DeviceId);
        _ = report.HashSetAsync(served.Record, "in-use-reports", reports);
        // Not recreating the record after a restart of Redis.
        report.AddCondition(Condition.HashEqual(served.Record, "device", session.DeviceId));
        await report.ExecuteAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Keeps the records of these sessions alive and reports which are idle, one script per account (refresh.lua), all
    /// sent at once; returns the device ids whose record is gone or another session's.
    /// </summary>
    /// <param name="sessions">Per session: how long it has been idle in ms (-1: in use) and its in-use report count.</param>
    public async Task<List<string>> RefreshAsync(IReadOnlyList<(RelaySession Session, long IdleMs, int Reports)> sessions)
    {
        var calls = new List<Task<RedisResult>>();
        foreach (var account in sessions.GroupBy(s => s.Session.Account.ConnectName, StringComparer.Ordinal))
        {
            var values = new List<RedisValue> { KeyLifetimeMs };
            foreach (var (session, idleMs, reports) in account)
            {
                values.Add(session.DeviceId);
                values.Add(idleMs);
                values.Add(reports);
                db.KeyExpire(RedisKeys.Device(session.DeviceId), KeyLifetime, CommandFlags.FireAndForget);
            }
            calls.Add(RedisScript.Refresh.EvaluateAsync(db, [RedisKeys.Sessions(account.Key), RedisKeys.Idle(account.Key)], values.ToArray()));
        }
        var gone = new List<string>();
        foreach (var call in calls) gone.AddRange((string[])(await call.ConfigureAwait(false))!);
        return gone;
    }

    /// <summary>Replaces the session's networks (join.lua); 12 when its record is gone, else 0.</summary>
    public async Task<int> JoinAsync(RedisMailbox served, IReadOnlyList<string> networks, IEnumerable<string> liveRelays)
    {
        var values = new List<RedisValue> { served.Session.DeviceId, KeyLifetimeMs, networks.Count };
        values.AddRange(networks.Select(n => (RedisValue)n));
        values.AddRange(liveRelays.Select(n => (RedisValue)n));
        return (int)await RedisScript.Join.EvaluateAsync(db, [served.Record, served.Stream], values.ToArray()).ConfigureAwait(false);
    }

    /// <summary>Ends the session's records, networks and stream; not waited for.</summary>
    public void Remove(RedisMailbox served, FailureBurst failures)
    {
        RedisScript.Remove.Send(db, [served.Record], [served.Session.DeviceId], failures, "ending a session");
        db.KeyDelete(RedisKeys.Device(served.Session.DeviceId), CommandFlags.FireAndForget);
    }
}
