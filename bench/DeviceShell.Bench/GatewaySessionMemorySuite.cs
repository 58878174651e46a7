using System.Diagnostics;
using DeviceShell.Engine.Gateway;
using DeviceShell.Engine.Lab;

namespace DeviceShell.Bench;

/// <summary>
/// Memory per idle gateway session (issue 13 goal: at most 30 KiB). The Lab gateway runs in its own process, so only the
/// client's memory is counted. Method: open <see cref="Sessions"/> sessions to the one gateway (each with its status stream
/// open, as Connect-Gateway leaves it), let them settle, force a full blocking GC, and divide the growth of the managed
/// heap (GC.GetTotalMemory after collection) and of the process's private memory (/proc/self/status RssAnon, i.e.
/// resident anonymous pages: the GC heap with its free space, native TLS and socket buffers, thread stacks) by the number
/// of sessions; the growth in threads is reported too, since each new thread-pool thread adds its stack to the second figure. The baseline is taken
/// after one warm-up session was opened and closed, so code, JIT and type loading are not counted per session.
/// </summary>
public sealed class GatewaySessionMemorySuite : IBenchmarkSuite
{
    private const int Sessions = 1000;

    public string Name => "gateway-memory";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        string labAssembly = typeof(DeviceShell.Lab.Gateway.GatewaySimulator).Assembly.Location;
        await using var lab = await DeviceLab.StartAsync(labAssembly, new[] { "--gateway", "0" }, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        var endpoint = lab["gateway"]!;

        Task<GatewaySession> OpenAsync() =>
            GatewaySession.ConnectAsync(endpoint.Host, endpoint.Port, endpoint.CaCertificate!, TimeSpan.FromSeconds(60), cancellationToken);

        await (await OpenAsync().ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        var (managedBefore, privateBefore) = await SettledMemoryAsync().ConfigureAwait(false);
        int threadsBefore = Process.GetCurrentProcess().Threads.Count;

        var sessions = new List<GatewaySession>(Sessions);
        var clock = Stopwatch.StartNew();
        try
        {
            for (int i = 0; i < Sessions; i++) sessions.Add(await OpenAsync().ConfigureAwait(false));
            double openSeconds = clock.Elapsed.TotalSeconds;
            var (managedAfter, privateAfter) = await SettledMemoryAsync().ConfigureAwait(false);
            report.Add(Name, $"{Sessions} idle gateway sessions opened one after another", Sessions / openSeconds, "sessions/s");
            report.Add(Name, "managed heap per idle gateway session", (managedAfter - managedBefore) / 1024.0 / Sessions, "KiB", "goal: at most 30 KiB");
            report.Add(Name, "private memory (RssAnon) per idle gateway session", (privateAfter - privateBefore) / 1024.0 / Sessions, "KiB", "goal: at most 30 KiB");
            report.Add(Name, $"threads added by {Sessions} idle gateway sessions", Process.GetCurrentProcess().Threads.Count - threadsBefore, "threads");
        }
        finally
        {
            foreach (var session in sessions) await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Managed bytes after a full collection, and the process's resident anonymous memory in bytes.</summary>
    private static async Task<(long Managed, long Private)> SettledMemoryAsync()
    {
        await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        long managed = GC.GetTotalMemory(forceFullCollection: false);
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
        long kib = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        return (managed, kib * 1024);
    }
}
