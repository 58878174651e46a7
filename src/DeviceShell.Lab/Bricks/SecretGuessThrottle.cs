using System.Net;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.Bricks;

/// <summary>
/// Slows guessing of the Brick Daemon's authentication secret down, per client address (docs/design/decisions.md §25.6). An
/// address has <see cref="FreeFailures"/> wrong digests for free; after that each further authenticate request from it
/// waits its turn, turns spaced by a delay that starts at <see cref="FirstDelay"/> and doubles with every failure up to
/// <see cref="MaxDelay"/>, so parallel connections from one address queue up instead of being checked at once. A
/// request whose turn is more than <see cref="MaxWait"/> away is closed at once without its digest being looked at.
/// An address without recent failures is never held: its turn is now. A right digest clears its address; failures are
/// forgotten <see cref="Memory"/> after the last one. The log gets one line when guessing starts being slowed down and
/// then at most one per <see cref="LogInterval"/> for the whole daemon, however many addresses guess. Thread-safe.
/// </summary>
internal sealed class SecretGuessThrottle
{
    public const int FreeFailures = 5;
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Memory = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    /// <summary>Beyond this many remembered addresses, the stale ones are dropped before a new one is added.</summary>
    private const int PruneAbove = 1024;

    private readonly object _gate = new();
    private readonly Dictionary<IPAddress, Entry> _entries = new();
    private readonly ILogger _log;
    private DateTime _lastLog = DateTime.MinValue;
    private int _failuresSinceLog;
    private int _turnedAwaySinceLog;

    public SecretGuessThrottle(ILogger log) => _log = log;

    /// <summary>How long an authenticate request from <paramref name="address"/> waits for its turn; null when it is turned away.</summary>
    public TimeSpan? TurnDelay(IPAddress address)
    {
        var now = DateTime.UtcNow;
        lock (_gate)
        {
            if (!_entries.TryGetValue(address, out var entry) || entry.Failures < FreeFailures || now - entry.LastFailure > Memory) return TimeSpan.Zero;
            var turn = entry.NextTurn > now ? entry.NextTurn : now;
            if (turn - now > MaxWait)
            {
                _turnedAwaySinceLog++;
                LogIfDue(now);
                return null;
            }
            entry.NextTurn = turn + DelayAfter(entry.Failures);
            return turn - now;
        }
    }

    /// <summary>Records a checked digest: a right one clears the address, a wrong one counts.</summary>
    public void Record(IPAddress address, bool right)
    {
        var now = DateTime.UtcNow;
        lock (_gate)
        {
            if (right)
            {
                _entries.Remove(address);
                return;
            }
            if (!_entries.TryGetValue(address, out var entry))
            {
                if (_entries.Count >= PruneAbove) Prune(now);
                _entries[address] = entry = new Entry();
            }
            if (now - entry.LastFailure > Memory) entry.Failures = 0;
            entry.Failures++;
            entry.LastFailure = now;
            _failuresSinceLog++;
            if (entry.Failures >= FreeFailures) LogIfDue(now);
        }
    }

    private static TimeSpan DelayAfter(int failures)
    {
        double factor = Math.Pow(2, Math.Min(failures - FreeFailures, 16));
        return TimeSpan.FromTicks((long)Math.Min(FirstDelay.Ticks * factor, MaxDelay.Ticks));
    }

    private void LogIfDue(DateTime now)
    {
        if (now - _lastLog < LogInterval) return;
        int throttled = _entries.Values.Count(e => e.Failures >= FreeFailures && now - e.LastFailure <= Memory);
        _log.LogWarning("Brick Daemon simulator: {Failures} wrong secret(s) and {TurnedAway} request(s) turned away since the last report; guesses from {Addresses} address(es) are slowed down",
            _failuresSinceLog, _turnedAwaySinceLog, throttled);
        _lastLog = now;
        _failuresSinceLog = 0;
        _turnedAwaySinceLog = 0;
    }

    private void Prune(DateTime now)
    {
        foreach (var stale in _entries.Where(e => now - e.Value.LastFailure > Memory && e.Value.NextTurn < now).Select(e => e.Key).ToList())
            _entries.Remove(stale);
    }

    private sealed class Entry
    {
        public int Failures;
        public DateTime LastFailure;
        public DateTime NextTurn;
    }
}
