using System.Runtime.InteropServices;

namespace DeviceShell.Lab.Hosting;

/// <summary>
/// How many client connections the Lab's servers may hold at once, from the process's descriptor limit.
/// .NET needs free descriptors to keep running: every new thread-pool thread opens a pipe, and assemblies load
/// lazily. A Lab that lets clients take the last descriptors dies with "Out of memory." the next time the thread
/// pool grows (seen under a connection flood with <c>ulimit -n</c> low). So servers hold clients only while a
/// reserve stays free; a client beyond the budget is accepted and closed at once, which also frees the backlog.
/// </summary>
public static class DescriptorBudget
{
    /// <summary>Descriptors kept free for the runtime (threads, assembly loads, log files, the Lab's control pipes).</summary>
    public const int Reserve = 48;

    private static readonly Lazy<int> Limit = new(ComputeLimit);
    private static int _held;

    /// <summary>The most client connections the Lab's servers hold together; int.MaxValue where the OS sets no limit we can read.</summary>
    public static int Connections => Limit.Value;

    /// <summary>Takes a slot for one accepted client; false when the budget is spent (close the client then).</summary>
    public static bool TryTake()
    {
        if (Interlocked.Increment(ref _held) <= Limit.Value) return true;
        Interlocked.Decrement(ref _held);
        return false;
    }

    /// <summary>Gives back the slot of a client that has closed.</summary>
    public static void Return() => Interlocked.Decrement(ref _held);

    private static int ComputeLimit()
    {
        if (!OperatingSystem.IsLinux() || GetRLimit(RLimitNoFile, out var limit) != 0 || limit.Current >= int.MaxValue) return int.MaxValue;
        int open;
        try
        {
            open = Directory.GetFiles("/proc/self/fd").Length;
        }
        catch (IOException)
        {
            return int.MaxValue;
        }
        return Math.Max(1, (int)limit.Current - open - Reserve);
    }

    private const int RLimitNoFile = 7; // RLIMIT_NOFILE on Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [DllImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static extern int GetRLimit(int resource, out RLimit limit);
}
