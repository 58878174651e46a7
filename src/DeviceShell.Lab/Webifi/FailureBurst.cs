using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// Failures of one dependency (Redis) seen by every loop and request of a relay: the first of a burst is logged as a
/// warning, the rest at Debug, and the first success after them once with their count, so an outage writes two lines
/// whatever the load. <see cref="Backoff"/> spaces the retries of a loop: 100 ms doubling up to 5 s. Thread-safe.
/// </summary>
internal sealed class FailureBurst(ILogger log, string dependency)
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(5);

    private int _failures;

    /// <summary>Failures since the last success.</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>How long a loop waits before it tries again after <see cref="Failures"/> failures in a row.</summary>
    public TimeSpan Backoff => TimeSpan.FromMilliseconds(Math.Min(LastRetry.TotalMilliseconds, FirstRetry.TotalMilliseconds * Math.Pow(2, Math.Min(Failures, 16))));

    public void Failed(string what, Exception error)
    {
        if (Interlocked.Increment(ref _failures) == 1)
            log.LogWarning("{Dependency} failed ({What}): {Reason}; retrying, further failures are logged at Debug until it works again", dependency, what, error.Message);
        else
            log.LogDebug("{Dependency} failed ({What}): {Reason}", dependency, what, error.Message);
    }

    public void Succeeded()
    {
        if (Volatile.Read(ref _failures) == 0) return;
        int failures = Interlocked.Exchange(ref _failures, 0);
        if (failures > 0) log.LogInformation("{Dependency} works again after {Count} failure(s)", dependency, failures);
    }
}
