namespace DeviceShell.Engine.Webifi;

/// <summary>
/// The pause before a session's next attempt after the relay ended or refused one (a new WebSocket, an upload sent
/// again, a new login): 100 ms, doubling up to a maximum, each with ±20 % jitter so that sessions a relay dropped
/// together do not come back in step. It starts over only when the relay has accepted something since (answered a
/// send or a keep-alive), not merely when a connection opened: a relay that accepts the connection and closes it
/// right after what the session sends then sees a handful of connections, never a storm (docs/design/decisions.md §19).
/// Shared by a session and its links; thread-safe.
/// </summary>
internal sealed class ReconnectBackoff
{
    public static readonly TimeSpan First = TimeSpan.FromMilliseconds(100);

    private readonly object _gate = new();
    private readonly TimeSpan _max;
    private TimeSpan _step = First;

    public ReconnectBackoff(TimeSpan max) => _max = max < First ? First : max;

    /// <summary>The next pause (the current step with jitter); the step doubles for the one after.</summary>
    public TimeSpan Next()
    {
        TimeSpan step;
        lock (_gate)
        {
            step = _step;
            _step = TimeSpan.FromTicks(Math.Min(_step.Ticks * 2, _max.Ticks));
        }
        return step * (0.8 + 0.4 * Random.Shared.NextDouble());
    }

    /// <summary>The relay accepted something: the next pause is the first one again.</summary>
    public void Reset()
    {
        lock (_gate) _step = First;
    }
}
