namespace DeviceShell.Engine.Tests;

/// <summary>Every wait in a test is bounded so a broken peer fails the test instead of hanging it.</summary>
internal static class TestTimeouts
{
    public static readonly TimeSpan Short = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A Lab host process until its endpoint line: a fresh .NET process that JITs ASP.NET, which took 30 s on a loaded
    /// machine (load 55); a Lab that starts is not kept waiting.
    /// </summary>
    public static readonly TimeSpan LabStart = TimeSpan.FromSeconds(90);

    public static async Task<T> Within<T>(this Task<T> task, TimeSpan? limit = null) => await task.WaitAsync(limit ?? Short);

    public static async Task Within(this Task task, TimeSpan? limit = null) => await task.WaitAsync(limit ?? Short);
}
