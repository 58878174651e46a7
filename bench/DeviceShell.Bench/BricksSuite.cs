using System.Diagnostics;
using System.Text.Json;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Bench;

/// <summary>
/// Bricks against the Lab's Brick Daemon in its own process (a Master Brick and eight Temperature Bricklets 2.0):
/// get_temperature round trips on one device and on eight devices at once (one request in flight per device, one
/// connection), next to the official JavaScript bindings, a native TFP client of the same requests and the native
/// echo of TFP's sizes (8-byte request, 10-byte response); then TEMPERATURE callbacks from a native flood peer that
/// sends them as fast as loopback takes them, read the way Receive-BrickCallback reads them, with every loss counted.
/// </summary>
public sealed class BricksSuite : IBenchmarkSuite
{
    private const string World = "Bricks";
    private const byte GetTemperature = 1;
    private const int ResponseLength = 10;
    private static readonly string[] Thermometers = Enumerable.Range(1, 8).Select(i => "Tb" + i).ToArray();

    public string Name => "bricks";

    public async Task RunAsync(Bench bench, CancellationToken cancellationToken)
    {
        string stack = "13:6qY:0:0," + string.Join(',', Thermometers.Select((uid, i) => $"{TemperatureV2Bricklet.Identifier}:{uid}:6qY:{(char)('a' + i)}"));
        await using var lab = await Bench.StartLabAsync("--brick", "0", "--brick-stack", stack).ConfigureAwait(false);
        var brickd = lab["brick"]!;
        await using var session = await BrickSession.ConnectAsync(new BrickConnectOptions { HostName = brickd.Host, Port = brickd.Port }, cancellationToken).ConfigureAwait(false);
        string native = await Native.RequireAsync(bench).ConfigureAwait(false);
        await using var echo = await NativeServer.StartAsync(native, "echo-server", "8", Native.Text(ResponseLength)).ConfigureAwait(false);
        var (js, jsMissing) = await Peers.TinkerforgeAsync(bench).ConfigureAwait(false);

        foreach (int devices in new[] { 1, Thermometers.Length })
        {
            var uids = Thermometers.Take(devices).ToArray();
            var peers = new List<(string, Func<Task<double>>)>
            {
                ("native echo", () => Native.EchoRateAsync(native, echo.Port, 8, ResponseLength, bench.Settings.Window, devices)),
                ("native TFP client", async () => Bench.ParseNumber(await Bench.RunAsync(native,
                    new[] { "tfp-client", Native.Text(brickd.Port), Native.Text(bench.Settings.Window.TotalSeconds), Native.Text(GetTemperature), Native.Text(ResponseLength),
                        string.Join(',', uids.Select(u => Native.Text(BrickUid.Parse(u)))) }, bench.Settings.Window + TimeSpan.FromSeconds(30)).ConfigureAwait(false))),
            };
            if (js is not null)
            {
                peers.Add(("JS bindings", async () => Bench.ParseNumber(await Bench.RunAsync("node",
                    new[] { Bench.PeerScript("tinkerforge.js"), js, Native.Text(brickd.Port), "getters", Native.Text(bench.Settings.Warmup.TotalSeconds),
                        Native.Text(bench.Settings.Window.TotalSeconds), string.Join(',', uids) }, bench.Settings.Warmup + bench.Settings.Window + TimeSpan.FromSeconds(60)).ConfigureAwait(false))));
            }
            var values = uids.Select(BrickUid.Parse).ToArray();
            var result = await bench.CompareAsync(window => GettersAsync(session, values, window, cancellationToken), peers).ConfigureAwait(false);

            string measure = devices == 1 ? "sequential get_temperature round trips, one device" : $"get_temperature, {devices} devices in parallel on one connection";
            string value = Bench.Format(result.Value) + " calls/s";
            const string jsGoal = "≥ 1.2x JS";
            if (js is not null)
                bench.Add(Row(measure, value, result, "JS bindings", jsGoal, 1.2));
            else
                bench.Skip(World, measure, "JS bindings", jsMissing!, jsGoal);
            bench.Add(devices == 1 ? Row(measure, value, result, "native TFP client", "≥ 0.8x native TFP", 0.8) : Row(measure, value, result, "native TFP client"));
            bench.Add(Row(measure, value, result, "native echo", peerNote: devices == 1 ? "8 → 10 B, one in flight" : $"8 → 10 B, {devices} in flight"));
        }

        await bench.AddRecordingCostAsync(World, "sequential get_temperature round trips while recording (Start-DeviceRecording)", "calls/s",
            (window, recordingPath) => RecordedGettersAsync(session, BrickUid.Parse(Thermometers[0]), window, recordingPath, cancellationToken)).ConfigureAwait(false);
        await CallbackFloodAsync(bench, native, js, jsMissing, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sequential getters on one device while the session records to <paramref name="recordingPath"/> (overwritten), or not when null.</summary>
    private static async Task<double> RecordedGettersAsync(BrickSession session, uint uid, TimeSpan window, string? recordingPath, CancellationToken cancellationToken)
    {
        if (recordingPath is null) return await GettersAsync(session, new[] { uid }, window, cancellationToken).ConfigureAwait(false);
        session.StartRecording(recordingPath, overwrite: true);
        try
        {
            return await GettersAsync(session, new[] { uid }, window, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await session.StopRecordingAsync().ConfigureAwait(false);
        }
    }

    private static BenchRow Row(string measure, string value, Comparison result, string peer, string? goal = null, double? bound = null, string? peerNote = null)
    {
        double ratio = result.Ratio(peer);
        return new BenchRow(World, measure, value, peer + (peerNote is null ? "" : $" ({peerNote})"), Bench.Format(result.PeerValue(peer)) + " calls/s", ratio,
            goal, bound is null ? null : ratio >= bound);
    }

    private static async Task<double> GettersAsync(BrickSession session, uint[] uids, TimeSpan window, CancellationToken cancellationToken)
    {
        long count = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(uids.Select(uid => Task.Run(async () =>
        {
            while (clock.Elapsed < window)
            {
                await session.CallAsync(uid, GetTemperature, Array.Empty<byte>(), 2, null, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref count);
            }
        }, cancellationToken))).ConfigureAwait(false);
        return Interlocked.Read(ref count) / clock.Elapsed.TotalSeconds;
    }

    /// <summary>What one consumer got from one flood: callbacks delivered, the seconds from the first to the last, what the session says it dropped.</summary>
    private sealed record FloodResult(long Delivered, double Seconds, long SessionDropped)
    {
        public double Rate => Seconds > 0 ? Delivered / Seconds : 0;
    }

    private static async Task CallbackFloodAsync(Bench bench, string native, string? js, string? jsMissing, CancellationToken cancellationToken)
    {
        const string Measure = "TEMPERATURE callbacks delivered to a Receive-BrickCallback reader under a flood";
        int count = bench.Settings.FloodCallbacks;
        uint uid = BrickUid.Parse(Thermometers[0]);
        await using var flood = await NativeServer.StartAsync(native, "tfp-flood", Native.Text(count), Native.Text(uid),
            Native.Text(BrickDeviceCatalog.Find(TemperatureV2Bricklet.Identifier)!.Callback("Temperature")!.Id), "2", "300").ConfigureAwait(false);

        var ours = new List<FloodResult>();
        var theirs = new List<(long Delivered, double Seconds)>();
        await FloodOursAsync(flood.Port, count, cancellationToken).ConfigureAwait(false); // warm-up: the same flood, untimed
        for (int round = 0; round < bench.Settings.Repetitions; round++)
        {
            ours.Add(await FloodOursAsync(flood.Port, count, cancellationToken).ConfigureAwait(false));
            if (js is null) continue;
            string output = await Bench.RunAsync("node", new[] { Bench.PeerScript("tinkerforge.js"), js, Native.Text(flood.Port), "flood", Native.Text(count), Thermometers[0] },
                TimeSpan.FromMinutes(5)).ConfigureAwait(false);
            using var json = JsonDocument.Parse(output);
            theirs.Add((json.RootElement.GetProperty("delivered").GetInt64(), json.RootElement.GetProperty("seconds").GetDouble()));
        }
        double rate = Bench.Median(ours.Select(r => r.Rate));
        long lost = ours.Max(r => count - r.Delivered);
        bool exact = ours.All(r => count - r.Delivered == r.SessionDropped);
        string losses = $"lost per round: {string.Join(", ", ours.Select(r => Bench.Format(count - r.Delivered)))} of {Bench.Format(count)}; "
            + $"DroppedEvents: {string.Join(", ", ours.Select(r => Bench.Format(r.SessionDropped)))}{(exact ? " (exact)" : " (NOT the losses)")}";
        string goal = "≥ 1,000,000/s, losses counted exactly";
        bool met = rate >= 1_000_000 && exact;
        if (js is null)
        {
            bench.Add(new BenchRow(World, Measure, Bench.Format(rate) + " callbacks/s", "JS bindings", "skipped: " + jsMissing, null, goal, met, losses));
            return;
        }
        double jsRate = Bench.Median(theirs.Select(t => t.Seconds > 0 ? t.Delivered / t.Seconds : 0));
        double ratio = Bench.Median(ours.Zip(theirs, (o, t) => t.Seconds > 0 && t.Delivered > 0 ? o.Rate / (t.Delivered / t.Seconds) : double.NaN));
        string jsLosses = $"lost {string.Join(", ", theirs.Select(t => Bench.Format(count - t.Delivered)))}";
        bench.Add(new BenchRow(World, Measure, Bench.Format(rate) + " callbacks/s", "JS bindings", $"{Bench.Format(jsRate)} callbacks/s ({jsLosses})", ratio, goal, met, losses));
    }

    /// <summary>
    /// Connects to the flood peer and reads callbacks through a buffer reader the way Receive-BrickCallback does (what is
    /// waiting in batches of 256, a wait with TakeAsync(...).GetAwaiter().GetResult() only when nothing is), on its own
    /// thread, until all arrived or none came for 2 s.
    /// </summary>
    private static async Task<FloodResult> FloodOursAsync(int port, int count, CancellationToken cancellationToken)
    {
        await using var session = await BrickSession.ConnectAsync(new BrickConnectOptions { HostName = "127.0.0.1", Port = port }, cancellationToken).ConfigureAwait(false);
        using var reader = session.Events.OpenReader();
        return await Task.Factory.StartNew(() =>
        {
            long delivered = 0, first = 0, last = 0;
            var batch = new List<BrickEvent>(256);
            while (delivered < count)
            {
                batch.Clear();
                if (reader.TryTakeMany(batch, 256) == 0)
                {
                    var (taken, item) = reader.TakeAsync(delivered == 0 ? TimeSpan.FromSeconds(30) : TimeSpan.FromSeconds(2), cancellationToken).GetAwaiter().GetResult();
                    if (!taken) break;
                    batch.Add(item);
                }
                foreach (var item in batch)
                {
                    if (item.Kind != BrickEventKind.Callback) continue;
                    last = Stopwatch.GetTimestamp();
                    if (delivered++ == 0) first = last;
                }
            }
            return new FloodResult(delivered, Stopwatch.GetElapsedTime(first, last).TotalSeconds, session.DroppedEvents);
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
    }
}
