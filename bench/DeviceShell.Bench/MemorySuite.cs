using System.Diagnostics;
using System.Net;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Gateway;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Bench;

/// <summary>
/// What an idle session costs the process that holds it: N real DeviceShell sessions per world (the Lab runs in its own
/// process, so none of its memory is counted), opened 16 at a time, then the growth of the process's private memory
/// (RssAnon: resident anonymous pages, so the GC heap with its free space, native TLS and socket buffers, thread stacks;
/// not the mapped code) and of the managed heap after full collections, and of its thread count, per session. Pi link sessions connect to the native
/// echo server, a peer that keeps any number of clients (the Pi button server takes one).
/// </summary>
public sealed class MemorySuite : IBenchmarkSuite
{
    private const int Throttle = 16;
    private const double GoalKiB = 30;

    public string Name => "memory";

    public async Task RunAsync(Bench bench, CancellationToken cancellationToken)
    {
        await using var lab = await Bench.StartLabAsync("--brick", "0", "--gateway", "0", "--webifi", "0").ConfigureAwait(false);
        string native = await Native.RequireAsync(bench).ConfigureAwait(false);
        await using var echo = await NativeServer.StartAsync(native, "echo-server", "1", "1").ConfigureAwait(false);
        var brickd = lab["brick"]!;
        var gateway = lab["gateway"]!;
        var relay = lab["webifi"]!;
        var worlds = new (string World, Func<Task<DeviceSession>> Open)[]
        {
            ("Bricks", async () => await BrickSession.ConnectAsync(new BrickConnectOptions { HostName = brickd.Host, Port = brickd.Port }, cancellationToken).ConfigureAwait(false)),
            ("Gateway", async () => await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = gateway.Host, Port = gateway.Port, CaCertificateFile = gateway.CaCertificate!, Timeout = TimeSpan.FromSeconds(60) }, cancellationToken).ConfigureAwait(false)),
            ("Webifi", async () => await WebifiSession.ConnectAsync(new WebifiConnectOptions
            {
                Server = new Uri($"http://{relay.Host}:{relay.Port}/"),
                ConnectName = "webifi",
                ConnectPassword = new NetworkCredential(string.Empty, "pswd").SecurePassword,
                Networks = ["net1"],
                Transport = WebifiTransport.WebSocket,
            }, cancellationToken).ConfigureAwait(false)),
            ("Pi link", async () => await PiLinkSession.ConnectAsync(new PiLinkConnectOptions { HostName = "127.0.0.1", Port = echo.Port }, cancellationToken).ConfigureAwait(false)),
        };
        foreach (var (world, open) in worlds)
        {
            try
            {
                await MeasureAsync(bench, world, open, bench.Settings.IdleSessions).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                bench.Add(new BenchRow(world, "memory per idle session", "—", Goal: $"≤ {GoalKiB} KiB", Met: false, Notes: "failed: " + ex.Message.ReplaceLineEndings(" ")));
            }
        }
    }

    private static async Task MeasureAsync(Bench bench, string world, Func<Task<DeviceSession>> open, int count)
    {
        // One session opened and closed first, so loading and compiling the world's code is not counted.
        await (await open().ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        var before = Snapshot();
        var sessions = new DeviceSession[count];
        var clock = Stopwatch.StartNew();
        int opened = 0;
        Exception? failure = null;
        try
        {
            await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = Throttle }, async (i, _) =>
            {
                sessions[i] = await open().ConfigureAwait(false);
                Interlocked.Increment(ref opened);
            }).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        double openSeconds = clock.Elapsed.TotalSeconds;
        await Task.Delay(1000).ConfigureAwait(false); // let connect-time work (probes, first reads) settle
        var after = Snapshot();
        await Task.WhenAll(sessions.Where(s => s is not null).Select(s => s.DisposeAsync().AsTask())).ConfigureAwait(false);
        if (opened == 0) throw failure ?? new InvalidOperationException("No session opened.");

        double privateMemory = (after.Private - before.Private) / 1024.0 / opened;
        double managed = (after.Managed - before.Managed) / 1024.0 / opened;
        double threads = (after.Threads - before.Threads) / (double)opened;
        // The goal is judged on the larger of the two: private memory also sees native buffers, the managed heap is steadier.
        double judged = Math.Max(privateMemory, managed);
        string notes = $"{Bench.Format(opened)} sessions; managed heap {Bench.Format(managed, "N1")} KiB, private memory {Bench.Format(privateMemory, "N1")} KiB, threads {Bench.Format(threads, "0.000")} per session; "
            + $"opened {Throttle} at a time in {Bench.Format(openSeconds, "N1")} s ({Bench.Format(openSeconds * 1000 / opened, "N2")} ms each)"
            + (failure is null ? "" : $"; stopped at {opened}: {failure.GetBaseException().Message.ReplaceLineEndings(" ")}");
        bench.Add(new BenchRow(world, "memory per idle session (larger of private memory and managed heap growth)", Bench.Format(judged, "N1") + " KiB", Goal: $"≤ {GoalKiB} KiB",
            Met: failure is null && judged <= GoalKiB, Notes: notes));
    }

    private static (long Private, long Managed, int Threads) Snapshot()
    {
        for (int i = 0; i < 2; i++)
        {
            // Aggressive: the collector also gives its free regions back to the system, so the private figure is what
            // the sessions hold rather than how much free heap the collector kept after the churn of opening them
            // (with Forced, the same code measured 30.5 to 44.2 KiB from run to run against a steady 30 managed).
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        using var process = Process.GetCurrentProcess();
        return (PrivateBytes(process), GC.GetTotalMemory(false), process.Threads.Count);
    }

    /// <summary>RssAnon from /proc/self/status on Linux; elsewhere the private bytes the runtime reports.</summary>
    private static long PrivateBytes(Process process)
    {
        if (!File.Exists("/proc/self/status")) return process.PrivateMemorySize64;
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
