namespace DeviceShell.Engine.Tests;

/// <summary>Every wait in a test is bounded so a broken peer fails the test instead of hanging it.</summary>
internal static class TestTimeouts
{
    public static readonly TimeSpan Short = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    public static async Task<T> Within<T>(this Task<T> task, TimeSpan? limit = null) => await task.WaitAsync(limit ?? Short);

    public static async Task Within(this Task task, TimeSpan? limit = null) => await task.WaitAsync(limit ?? Short);
}
