using System.Net;
using System.Security.Cryptography;
using System.Text;
using DeviceShell.Engine.Sessions;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// Slows password guessing down (docs/design/decisions.md §12.3) without letting it lock the owner out (docs/design/decisions.md §25.6).
/// Failed logins are counted per client address and per connect name. After
/// <see cref="WebifiRelayOptions.FreeLoginFailures"/> failures, each further attempt on that key waits its turn: turns
/// are spaced by a delay that starts at <see cref="WebifiRelayOptions.LoginDelay"/> and doubles with every failure up to
/// <see cref="WebifiRelayOptions.MaxLoginDelay"/>; an attempt whose turn would be more than
/// <see cref="WebifiRelayOptions.MaxLoginWait"/> away is turned away at once (error 1, try later) without its password
/// being looked at. Rules that keep this from being turned against the owner or the relay:
/// <list type="bullet">
/// <item>the connect name's count holds back only attempts from addresses that have failed recently themselves: a
/// login from an address with no recent failures is checked at once, however many guesses others made (an attacker
/// rotating addresses gets one check per fresh address; each failure still counts for the connect name);</item>
/// <item>attempts in flight are not failures: below the free failures, as many attempts as free failures are left are
/// checked at once, and further ones wait for those to settle (so parallel correct logins all get in, and parallel
/// guesses are still checked a few at a time);</item>
/// <item>unknown connect names are counted like known ones, in one of <see cref="UnknownNameBuckets"/> shared counters
/// chosen by a hash of the name (bounded memory), so an unknown name is slowed down like a known one and timing does
/// not tell which names exist;</item>
/// <item>one warning when throttling starts anywhere on the relay, then at most one line per <see cref="LogInterval"/>
/// for the whole relay (attempts turned away or refused meanwhile, keys throttled), and one when it has calmed down.</item>
/// </list>
/// A success clears its address and connect name. Nothing is locked for good: failures are forgotten
/// <see cref="WebifiRelayOptions.LoginFailureMemory"/> after the last one. Relays sharing Redis also share the failure
/// counts (<see cref="ISharedLoginFailures"/>); turns are spaced per relay. Thread-safe.
/// </summary>
internal sealed class LoginThrottle
{
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    /// <summary>Counters unknown connect names share (a name is not stored, only its bucket).</summary>
    internal const int UnknownNameBuckets = 4096;

    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly WebifiRelayOptions _options;
    private readonly ILogger _log;
    private readonly ISharedLoginFailures? _shared;
    /// <summary>Completed (and replaced) whenever an attempt settles: attempts waiting for room in flight look again.</summary>
    private TaskCompletionSource _settled = NewSignal();
    private int _noted;
    private DateTime _lastLogged = DateTime.MinValue;
    private bool _throttling;

    public LoginThrottle(WebifiRelayOptions options, ILogger log, ISharedLoginFailures? shared = null)
    {
        _options = options;
        _log = log;
        _shared = shared;
    }

    /// <summary>
    /// Waits for this attempt's turn; null when the turn is too far away (the caller answers error 1 at once).
    /// Every turn must be settled with <see cref="Settle"/>. <paramref name="knownAccount"/>: the relay has this connect name.
    /// </summary>
    public async Task<Turn?> WaitTurnAsync(IPAddress? address, string connectName, bool knownAccount, CancellationToken cancellationToken)
    {
        var turn = new Turn(AddressKey(address), NameKey(connectName, knownAccount));
        int[]? shared = null;
        if (_shared is not null)
        {
            try
            {
                shared = await _shared.FailuresAsync(new[] { turn.AddressKey, turn.NameKey }).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Redis failing: this relay's own counts still hold (its failure is logged by the router).
            }
        }
        var deadline = DateTime.UtcNow + _options.MaxLoginWait;
        while (true)
        {
            Task settled;
            DateTime start;
            var now = DateTime.UtcNow;
            lock (_gate)
            {
                var addressEntry = Find(turn.AddressKey, now);
                var nameEntry = Find(turn.NameKey, now);
                if (shared is not null)
                {
                    Merge(addressEntry, shared[0], now);
                    Merge(nameEntry, shared[1], now);
                    shared = null;
                }
                // The connect name's count does not hold back an address with no failures of its own.
                var entries = addressEntry.Failures == 0 ? new[] { addressEntry } : new[] { addressEntry, nameEntry };
                if (entries.Any(e => e.Failures < _options.FreeLoginFailures && e.Pending >= _options.FreeLoginFailures - e.Failures))
                {
                    settled = _settled.Task;
                    start = DateTime.MinValue;
                }
                else
                {
                    settled = Task.CompletedTask;
                    start = entries.Max(e => e.NextTurn);
                    if (start < now) start = now;
                    if (start - now > _options.MaxLoginWait)
                    {
                        Note(entries, now);
                        return null;
                    }
                    foreach (var entry in entries)
                    {
                        entry.Pending++;
                        // Past the free failures, attempts in flight space each other out as failures would.
                        int spacing = entry.Failures >= _options.FreeLoginFailures ? entry.Failures + entry.Pending : entry.Failures;
                        entry.NextTurn = start + Delay(spacing);
                    }
                    turn.Holds = entries;
                }
            }
            if (turn.Holds is not null)
            {
                try
                {
                    if (start > now) await Task.Delay(start - now, cancellationToken).ConfigureAwait(false);
                    return turn;
                }
                catch (OperationCanceledException)
                {
                    Release(turn);
                    throw;
                }
            }
            var remaining = deadline - now;
            if (remaining <= TimeSpan.Zero) return null;
            try
            {
                await settled.WaitAsync(remaining, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return null;
            }
        }
    }

    /// <summary>Records how an attempt that got its turn ended.</summary>
    public void Settle(Turn turn, bool succeeded)
    {
        var now = DateTime.UtcNow;
        foreach (string key in new[] { turn.AddressKey, turn.NameKey })
        {
            try
            {
                _shared?.Record(key, succeeded);
            }
            catch (Exception)
            {
                // Redis failing: this relay's own counts still hold.
            }
        }
        lock (_gate)
        {
            foreach (var entry in turn.Holds!) entry.Pending = Math.Max(0, entry.Pending - 1);
            var counted = new[] { Find(turn.AddressKey, now), Find(turn.NameKey, now) };
            foreach (var entry in counted)
            {
                if (succeeded)
                {
                    entry.Failures = 0;
                    entry.NextTurn = now;
                    continue;
                }
                entry.Failures++;
                entry.LastFailure = now;
            }
            if (!succeeded && counted.Any(e => e.Failures >= _options.FreeLoginFailures)) Note(counted, now);
            WakeWaiters();
        }
    }

    /// <summary>A turn given up before its password was checked (the client went away).</summary>
    private void Release(Turn turn)
    {
        lock (_gate)
        {
            foreach (var entry in turn.Holds!) entry.Pending = Math.Max(0, entry.Pending - 1);
            WakeWaiters();
        }
    }

    /// <summary>Forgets keys whose last failure is older than the memory and which have nothing pending; ends a logged burst.</summary>
    public void Prune()
    {
        var now = DateTime.UtcNow;
        var cutoff = now - _options.LoginFailureMemory;
        lock (_gate)
        {
            foreach (string key in _entries.Where(e => e.Value.Pending == 0 && e.Value.LastFailure < cutoff && e.Value.NextTurn < now).Select(e => e.Key).ToList())
                _entries.Remove(key);
            if (_throttling && now - _lastLogged >= LogInterval && !_entries.Values.Any(e => e.NextTurn > now))
            {
                _log.LogInformation("Login throttling calmed down: {Count} more attempt(s) refused or turned away", _noted);
                _throttling = false;
                _noted = 0;
            }
        }
    }

    private static string AddressKey(IPAddress? address) => "address " + (address?.ToString() ?? "unknown");

    /// <summary>A known connect name's own key; an unknown one's bucket (the name itself is not kept).</summary>
    private static string NameKey(string connectName, bool known)
    {
        if (known) return "account " + LogText.Quote(connectName);
        int bucket = (int)(BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(connectName)), 0) % UnknownNameBuckets);
        return "unknown account #" + bucket.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Merge(Entry entry, int sharedFailures, DateTime now)
    {
        if (sharedFailures <= entry.Failures) return;
        entry.Failures = sharedFailures;
        entry.LastFailure = now;
    }

    private Entry Find(string key, DateTime now)
    {
        if (!_entries.TryGetValue(key, out var entry)) _entries[key] = entry = new Entry();
        else if (entry.Pending == 0 && entry.LastFailure < now - _options.LoginFailureMemory) entry.Failures = 0;
        return entry;
    }

    private void WakeWaiters()
    {
        var settled = _settled;
        _settled = NewSignal();
        settled.SetResult();
    }

    /// <summary>Counts a throttled attempt; one line for the whole relay when a burst starts and then at most one per interval.</summary>
    private void Note(IEnumerable<Entry> entries, DateTime now)
    {
        _noted++;
        if (now - _lastLogged < LogInterval) return;
        int throttled = _entries.Values.Count(e => e.Failures >= _options.FreeLoginFailures);
        int failures = entries.Max(e => e.Failures);
        if (!_throttling)
            _log.LogWarning("Throttling logins: {Keys} address(es) or connect name(s) failed {Free} or more times (up to {Failures}); further attempts on them wait their turns",
                throttled, _options.FreeLoginFailures, failures);
        else
            _log.LogWarning("Login throttling goes on: {Count} attempt(s) refused or turned away since the last line, {Keys} address(es) or connect name(s) throttled",
                _noted, throttled);
        _throttling = true;
        _noted = 0;
        _lastLogged = now;
    }

    /// <summary>No delay for the first free failures, then the base delay doubling per failure, capped.</summary>
    private TimeSpan Delay(int failures)
    {
        int over = failures - _options.FreeLoginFailures;
        if (over < 0) return TimeSpan.Zero;
        double milliseconds = _options.LoginDelay.TotalMilliseconds * Math.Pow(2, Math.Min(over, 30));
        return TimeSpan.FromMilliseconds(Math.Min(milliseconds, _options.MaxLoginDelay.TotalMilliseconds));
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>An attempt's place: the keys it counts for, and the entries it holds a turn on (see <see cref="WaitTurnAsync"/>).</summary>
    internal sealed class Turn(string addressKey, string nameKey)
    {
        public string AddressKey { get; } = addressKey;

        public string NameKey { get; } = nameKey;

        internal Entry[]? Holds { get; set; }
    }

    internal sealed class Entry
    {
        public int Failures { get; set; }

        public int Pending { get; set; }

        public DateTime NextTurn { get; set; }

        public DateTime LastFailure { get; set; }
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
