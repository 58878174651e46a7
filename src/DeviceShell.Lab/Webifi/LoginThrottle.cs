using System.Net;
using DeviceShell.Engine.Sessions;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// Slows password guessing down (issue 12, finding 3). Failed logins are counted per client address and per account
/// (connect names the relay has; unknown names count for their address only, so random names cannot fill memory).
/// After <see cref="WebifiRelayOptions.FreeLoginFailures"/> failures, each further attempt on that address or
/// account waits its turn: turns are spaced by a delay that starts at <see cref="WebifiRelayOptions.LoginDelay"/> and
/// doubles with every failure up to <see cref="WebifiRelayOptions.MaxLoginDelay"/>. Attempts are spaced as they
/// arrive, so parallel guesses queue up instead of being checked at once; an attempt whose turn would be more than
/// <see cref="WebifiRelayOptions.MaxLoginWait"/> away is turned away at once (error 1, try later) without its password
/// being looked at. A success clears its address and account. Nothing is ever locked for good: failures are forgotten
/// <see cref="WebifiRelayOptions.LoginFailureMemory"/> after the last one. One log line when a key starts being
/// throttled, and then at most one per <see cref="LogInterval"/> with the count turned away or refused meanwhile.
/// Relays sharing Redis also share the failure counts (<see cref="ISharedLoginFailures"/>), so guesses spread over
/// several relays count on each; turns are spaced per relay. Thread-safe.
/// </summary>
internal sealed class LoginThrottle
{
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly WebifiRelayOptions _options;
    private readonly ILogger _log;
    private readonly ISharedLoginFailures? _shared;

    public LoginThrottle(WebifiRelayOptions options, ILogger log, ISharedLoginFailures? shared = null)
    {
        _options = options;
        _log = log;
        _shared = shared;
    }

    /// <summary>
    /// Waits for this attempt's turn; false when the turn is too far away (the caller answers error 1 at once).
    /// Every true must be followed by <see cref="Settle"/>.
    /// </summary>
    public async Task<bool> WaitTurnAsync(IPAddress? address, string? account, CancellationToken cancellationToken)
    {
        var keys = Keys(address, account).ToList();
        var shared = _shared is null ? null : await _shared.FailuresAsync(keys).ConfigureAwait(false);
        var now = DateTime.UtcNow;
        DateTime turn = now;
        lock (_gate)
        {
            var entries = keys.Select(key => Find(key, now)).ToList();
            for (int i = 0; i < entries.Count; i++)
            {
                var entry = entries[i];
                if (shared is not null && shared[i] > entry.Failures)
                {
                    entry.Failures = shared[i];
                    entry.LastFailure = now;
                }
                if (entry.NextTurn > turn) turn = entry.NextTurn;
            }
            if (turn - now > _options.MaxLoginWait)
            {
                foreach (var entry in entries) Note(entry, now);
                return false;
            }
            foreach (var entry in entries)
            {
                // The attempt is counted as a failure until it settles, so parallel guesses space each other out.
                entry.Pending++;
                entry.NextTurn = turn + Delay(entry.Failures + entry.Pending);
            }
        }
        if (turn > now) await Task.Delay(turn - now, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Records how an attempt that got its turn ended.</summary>
    public void Settle(IPAddress? address, string? account, bool succeeded)
    {
        var now = DateTime.UtcNow;
        lock (_gate)
        {
            foreach (string key in Keys(address, account))
            {
                _shared?.Record(key, succeeded);
                var entry = Find(key, now);
                entry.Pending = Math.Max(0, entry.Pending - 1);
                if (succeeded)
                {
                    entry.Failures = 0;
                    entry.NextTurn = now;
                    continue;
                }
                entry.Failures++;
                entry.LastFailure = now;
                if (entry.Failures >= _options.FreeLoginFailures) Note(entry, now);
            }
        }
    }

    /// <summary>Forgets keys whose last failure is older than the memory and which have nothing pending.</summary>
    public void Prune()
    {
        var cutoff = DateTime.UtcNow - _options.LoginFailureMemory;
        lock (_gate)
        {
            foreach (var (key, entry) in _entries.Where(e => e.Value.Pending == 0 && e.Value.LastFailure < cutoff && e.Value.NextTurn < DateTime.UtcNow).ToList())
            {
                if (entry.Noted > 0) _log.LogInformation("Login throttling for {Key} ended: {Count} more attempt(s) refused or turned away", key, entry.Noted);
                _entries.Remove(key);
            }
        }
    }

    private IEnumerable<string> Keys(IPAddress? address, string? account)
    {
        yield return "address " + (address?.ToString() ?? "unknown");
        if (account is not null) yield return "account " + LogText.Quote(account);
    }

    private Entry Find(string key, DateTime now)
    {
        if (!_entries.TryGetValue(key, out var entry)) _entries[key] = entry = new Entry();
        else if (entry.Pending == 0 && entry.LastFailure < now - _options.LoginFailureMemory) entry.Failures = 0;
        entry.Key = key;
        return entry;
    }

    /// <summary>Counts a throttled attempt; logs the first of a burst and then at most one line per interval.</summary>
    private void Note(Entry entry, DateTime now)
    {
        entry.Noted++;
        if (now - entry.LastLogged < LogInterval) return;
        _log.LogWarning("Throttling logins for {Key}: {Failures} failed, {Count} attempt(s) refused or turned away since the last line; turns are {Delay} ms apart",
            entry.Key, entry.Failures, entry.Noted, (int)Delay(entry.Failures + entry.Pending).TotalMilliseconds);
        entry.Noted = 0;
        entry.LastLogged = now;
    }

    /// <summary>No delay for the first free failures, then the base delay doubling per failure, capped.</summary>
    private TimeSpan Delay(int failures)
    {
        int over = failures - _options.FreeLoginFailures;
        if (over < 0) return TimeSpan.Zero;
        double milliseconds = _options.LoginDelay.TotalMilliseconds * Math.Pow(2, Math.Min(over, 30));
        return TimeSpan.FromMilliseconds(Math.Min(milliseconds, _options.MaxLoginDelay.TotalMilliseconds));
    }

    private sealed class Entry
    {
        public string Key { get; set; } = "";

        public int Failures { get; set; }

        public int Pending { get; set; }

        public DateTime NextTurn { get; set; }

        public DateTime LastFailure { get; set; }

        public DateTime LastLogged { get; set; }

        public int Noted { get; set; }
    }
}

/// <summary>Failed-login counts kept where every relay of a deployment sees them (Redis, see <see cref="RedisRelayRouter"/>).</summary>
internal interface ISharedLoginFailures
{
    /// <summary>The failures counted for each key (0 for an unknown key), in the order of <paramref name="keys"/>.</summary>
    Task<int[]> FailuresAsync(IReadOnlyList<string> keys);

    /// <summary>Counts a failure (forgotten <see cref="WebifiRelayOptions.LoginFailureMemory"/> after the last one), or clears the key on a success.</summary>
    void Record(string key, bool succeeded);
}
