using System.Diagnostics;
using System.Net.Sockets;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Bench;

/// <summary>
/// Pi link against the Lab's Pi button server in its own process: <c>go</c> → <c>Button released</c> round trips next to a
/// plain Python socket client of the same server and the native echo of the same sizes (3-byte request, 16-byte reply);
/// then connect → CONNECTED with the default options next to a raw TCP connect.
/// The server takes one client at a time (tcpcom's rule), so each side connects for its round and leaves.
/// </summary>
public sealed class PiLinkSuite : IBenchmarkSuite
{
    private const string World = "Pi link";
    private const int Request = 3, Reply = 16; // "go\0", "Button released\0"

    public string Name => "pilink";

    public async Task RunAsync(Bench bench, CancellationToken cancellationToken)
    {
        await using var lab = await Bench.StartLabAsync("--pibutton", "0").ConfigureAwait(false);
        int port = lab["pibutton"]!.Port;
        string native = await Native.RequireAsync(bench).ConfigureAwait(false);
        await using var echo = await NativeServer.StartAsync(native, "echo-server", Native.Text(Request), Native.Text(Reply)).ConfigureAwait(false);
        string? pythonMissing = File.Exists(Peers.Python) ? null : "needs Debian's python3";

        var peers = new List<(string, Func<Task<double>>)>
        {
            ("native echo", () => Native.EchoRateAsync(native, echo.Port, Request, Reply, bench.Settings.Window)),
        };
        if (pythonMissing is null)
        {
            peers.Add(("Python socket client", async () => Bench.ParseNumber(await Bench.RunAsync(Peers.Python,
                new[] { Bench.PeerScript("pilink_go.py"), Native.Text(port), Native.Text(bench.Settings.Warmup.TotalSeconds), Native.Text(bench.Settings.Window.TotalSeconds) },
                bench.Settings.Warmup + bench.Settings.Window + TimeSpan.FromSeconds(60)).ConfigureAwait(false))));
        }
        var result = await bench.CompareAsync(window => GoRateAsync(port, window, cancellationToken), peers).ConfigureAwait(false);
        const string Measure = "go → Button released round trips, one at a time";
        string value = Bench.Format(result.Value) + " round trips/s";
        if (pythonMissing is null)
            bench.Add(new BenchRow(World, Measure, value, "Python socket client", Bench.Format(result.PeerValue("Python socket client")) + " round trips/s",
                result.Ratio("Python socket client"), "≥ 1.0x Python", result.Ratio("Python socket client") >= 1.0));
        else
            bench.Skip(World, Measure, "Python socket client", pythonMissing, "≥ 1.0x Python");
        bench.Add(new BenchRow(World, Measure, value, "native echo (3 → 16 B)", Bench.Format(result.PeerValue("native echo")) + " round trips/s", result.Ratio("native echo")));

        await bench.AddRecordingCostAsync(World, "go round trips while recording (Start-DeviceRecording)", "round trips/s",
            (window, recordingPath) => GoRateAsync(port, window, cancellationToken, recordingPath)).ConfigureAwait(false);

        var connects = new List<double>();
        var raw = new List<double>();
        for (int i = 0; i < (bench.Settings.Quick ? 3 : 7); i++)
        {
            var clock = Stopwatch.StartNew();
            await using (await ConnectAsync(port, cancellationToken).ConfigureAwait(false)) connects.Add(clock.Elapsed.TotalMilliseconds);
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            clock.Restart();
            using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                await socket.ConnectAsync("127.0.0.1", echo.Port, cancellationToken).ConfigureAwait(false);
                raw.Add(clock.Elapsed.TotalMilliseconds);
            }
        }
        double median = Bench.Median(connects);
        bench.Add(new BenchRow(World, "connect → CONNECTED, default options", Bench.Format(median, "N1") + " ms", "raw TCP connect", Bench.Format(Bench.Median(raw), "N2") + " ms",
            null, "< 100 ms", median < 100, $"median of {connects.Count}"));
    }

    /// <param name="recordingPath">Records the session to this file while it measures (overwritten), when given.</param>
    private static async Task<double> GoRateAsync(int port, TimeSpan window, CancellationToken cancellationToken, string? recordingPath = null)
    {
        await using var client = await ConnectAsync(port, cancellationToken).ConfigureAwait(false);
        if (recordingPath is not null) client.StartRecording(recordingPath, overwrite: true);
        double rate = await Bench.RateAsync(() => client.SendAndReceiveReplyAsync(PiButtonServer.Command, TimeSpan.FromSeconds(5), cancellationToken), window).ConfigureAwait(false);
        return rate;
    }

    /// <summary>A client with the default options; retried while the server still holds the previous side's connection.</summary>
    private static async Task<PiLinkSession> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await PiLinkSession.ConnectAsync(new PiLinkConnectOptions { HostName = "127.0.0.1", Port = port }, cancellationToken).ConfigureAwait(false);
            }
            catch (DeviceException ex) when (ex.ErrorId == "PiLinkServerOccupied" && attempt < 20)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
