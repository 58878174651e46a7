namespace DeviceShell.Engine.Tests;

/// <summary>Every wait in a test is bounded so a broken peer fails the test instead of hanging it.</summary>
internal static class TestTimeouts
{
    /// <summary>
    /// One step (a request, a connect, a message): 15 s, as <see cref="Eventually.Patience"/>. At 5 s single loopback
    /// HTTP posts ran out at load 40 to 55 (two cores, several builds); no test waits it out when it passes, and none
    /// uses it as a limit that must be kept.
    /// </summary>
    public static readonly TimeSpan Short = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A Lab host process until its endpoint line: a fresh .NET process that JITs ASP.NET, which took 30 s on a loaded
    /// machine (load 55); a Lab that starts is not kept waiting.
    /// </summary>
    public static readonly TimeSpan LabStart = TimeSpan.FromSeconds(90);

    public static async Task<T> Within<T>(this Task<T> task, TimeSpan? limit = null) => await task.WaitAsync(limit ?? Short);

    public static async Task Within(this Task task, TimeSpan? limit = null) => await task.WaitAsync(limit ?? Short);
}
