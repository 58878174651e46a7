namespace DeviceShell.Tests;

/// <summary>
/// The one bounded wait of the test projects: a condition that becomes true by itself (a state another thread sets,
/// a counter that reaches a value) is polled until it holds, and the test fails with what it waited for when it does
/// not within the limit. For an event the test can hook, <see cref="SyncPoint"/> waits without polling.
/// </summary>
internal static class Eventually
{
    /// <summary>How long a wait may take on a loaded machine (two cores, several builds) before the test fails.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>Waits until <paramref name="condition"/> holds; throws <see cref="TimeoutException"/> after <paramref name="limit"/>.</summary>
    public static async Task True(Func<bool> condition, TimeSpan? limit = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? Patience);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out after {limit ?? Patience} waiting for {what ?? "a condition"}.");
            await Task.Delay(PollInterval);
        }
    }

    /// <summary><see cref="Succeeds{T}"/> for an attempt without a result (an assertion that holds eventually).</summary>
    public static Task Succeeds(Func<Task> attempt, TimeSpan? limit = null, TimeSpan? attemptLimit = null) =>
        Succeeds(async () => { await attempt(); return true; }, limit, attemptLimit);

    /// <summary>The same wait for a synchronous test (the cmdlet tests drive a runspace on the test's thread).</summary>
    public static void TrueBlocking(Func<bool> condition, TimeSpan? limit = null, string? what = null) =>
        True(condition, limit, what).GetAwaiter().GetResult();

    /// <summary>
    /// Retries <paramref name="attempt"/> until it succeeds (each try bounded by <paramref name="attemptLimit"/>) and
    /// returns its result; after <paramref name="limit"/> the last failure is the test's.
    /// </summary>
    public static async Task<T> Succeeds<T>(Func<Task<T>> attempt, TimeSpan? limit = null, TimeSpan? attemptLimit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? Patience);
        while (true)
        {
            try
            {
                return await attempt().WaitAsync(attemptLimit ?? TimeSpan.FromSeconds(5));
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(PollInterval * 20);
            }
        }
    }
}

/// <summary>
/// A point one side of a test reaches and the other waits for, instead of sleeping "long enough": the code under test
/// (a handler, a fake peer) calls <see cref="Reach"/>, the test awaits <see cref="WaitAsync"/>, bounded.
/// </summary>
internal sealed class SyncPoint
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Reach() => _reached.TrySetResult();

    /// <summary>Returns when the point is reached; throws <see cref="TimeoutException"/> after <paramref name="limit"/>.</summary>
    public Task WaitAsync(TimeSpan? limit = null) => _reached.Task.WaitAsync(limit ?? Eventually.Patience);
}
