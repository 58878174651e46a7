using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using DeviceShell.Engine.Webifi;
using DeviceShell.Lab.Hosting;
using DeviceShell.Lab.Webifi;

namespace DeviceShell.Bench;

/// <summary>
/// Two sessions talking through the Lab's Webifi relay on loopback, per transport: pipelined messages per
/// second, and the one-way latency of single messages (p50/p99) next to the TCP echo reference measured in
/// the same run. Then the memory an idle WebSocket session costs, as the number of sessions that fit in 1 GiB.
/// </summary>
public sealed class WebifiSuite : IBenchmarkSuite
{
    private const int IdleSessions = 2000;

    public string Name => "webifi";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        double echo = await EchoSuite.MeasureAsync(report, 32, cancellationToken).ConfigureAwait(false);
        report.Add(Name, "TCP echo round trips (reference)", echo, "round trips/s");
        await using (var relay = new WebifiRelay(new WebifiRelayOptions()))
        {
            var endpoint = await relay.StartAsync(LabSimulatorOptions.Loopback(), cancellationToken).ConfigureAwait(false);
            var server = new Uri($"http://{endpoint.Host}:{endpoint.Port}/");
            foreach (var transport in new[] { WebifiTransport.WebSocket, WebifiTransport.LongPolling })
                await MeasurePairAsync(report, server, transport, echo, cancellationToken).ConfigureAwait(false);
        }
        await MeasureIdleSessionsAsync(report, cancellationToken).ConfigureAwait(false);
    }

    private async Task MeasurePairAsync(BenchmarkReport report, Uri server, WebifiTransport transport, double echo, CancellationToken cancellationToken)
    {
        await using var receiver = await WebifiSession.ConnectAsync(Options(server, transport, "net1"), cancellationToken).ConfigureAwait(false);
        // The session's buffer holds its status changes too; only the data counts here.
        using var messages = receiver.Events.OpenReader(item => item is WebifiMessage);
        await using var sender = await WebifiSession.ConnectAsync(Options(server, transport, "net2"), cancellationToken).ConfigureAwait(false);
        var payload = new string('x', 32);
        var toNet1 = new[] { "net1" };

        // Throughput: keep 256 sends in flight, count what the receiver gets.
        long received = 0;
        long sent = 0;
        var clock = Stopwatch.StartNew();
        var inFlight = new Queue<Task>();
        while (clock.Elapsed < report.Duration && !cancellationToken.IsCancellationRequested)
        {
            inFlight.Enqueue(sender.SendAsync(WebifiOutgoing.Text(payload, "", toNet1), cancellationToken));
            sent++;
            if (inFlight.Count >= 256) await inFlight.Dequeue().ConfigureAwait(false);
            while ((await messages.TakeAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false)).Taken) received++;
        }
        await Task.WhenAll(inFlight).ConfigureAwait(false);
        while (received < sent && (await messages.TakeAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false)).Taken) received++;
        double elapsed = clock.Elapsed.TotalSeconds;
        if (received != sent) throw new InvalidOperationException($"{transport}: {sent} sent but {received} received.");
        report.Add(Name, $"{transport}: messages/s between two sessions (32 B, 256 in flight)", received / elapsed, "messages/s");

        // Latency: one message at a time, sent to arrival.
        var latencies = new List<double>();
        clock.Restart();
        while (clock.Elapsed < report.Duration && !cancellationToken.IsCancellationRequested)
        {
            long start = Stopwatch.GetTimestamp();
            _ = sender.SendAsync(WebifiOutgoing.Text(payload, "", toNet1), cancellationToken);
            var (taken, _) = await messages.TakeAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            if (!taken) throw new TimeoutException("A message did not arrive within 5 s.");
            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
        latencies.Sort();
        double p50 = latencies[latencies.Count / 2];
        report.Add(Name, $"{transport}: one-way latency p50 (one message at a time)", p50, "µs", BenchmarkReport.Ratio(1_000_000 / p50, echo) + " of the TCP echo round-trip rate");
        report.Add(Name, $"{transport}: one-way latency p99 (one message at a time)", latencies[(int)(latencies.Count * 0.99)], "µs");
    }

    /// <summary>
    /// Opens idle WebSocket sessions (authenticated, one network each) with a minimal client and measures the
    /// process's memory growth. Client and relay share the process, so the figure is an upper bound for the relay.
    /// </summary>
    private async Task MeasureIdleSessionsAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        await using var relay = new WebifiRelay(new WebifiRelayOptions());
        var endpoint = await relay.StartAsync(LabSimulatorOptions.Loopback(), cancellationToken).ConfigureAwait(false);
        using var http = new HttpClient();
        var sockets = new List<ClientWebSocket>();
        long before = MemoryNow();
        try
        {
            for (int i = 0; i < IdleSessions; i++)
            {
                using var login = await http.PostAsync(new Uri($"http://{endpoint.Host}:{endpoint.Port}/"),
                    new ByteArrayContent("~p=1~cn=webifi~cp=pswd"u8.ToArray()), cancellationToken).ConfigureAwait(false);
                string deviceId = TildeCodec.Decode(await login.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false)).Find("id")!;
                var socket = new ClientWebSocket();
                sockets.Add(socket);
                await socket.ConnectAsync(new Uri($"ws://{endpoint.Host}:{endpoint.Port}/api/WebSocket"), cancellationToken).ConfigureAwait(false);
                await socket.SendAsync(Encoding.UTF8.GetBytes($"~id={deviceId}~t=1~nc=1~ns=net1~t=1"), WebSocketMessageType.Text, true, cancellationToken).ConfigureAwait(false);
                var buffer = new byte[64];
                int replies = 0;
                while (replies < 2)
                {
                    var result = await socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
                    replies += Encoding.ASCII.GetString(buffer, 0, result.Count).Split("~t=1").Length - 1;
                }
            }
            long after = MemoryNow();
            double perSession = Math.Max(1, after - before) / (double)IdleSessions;
            report.Add(Name, $"memory per idle WebSocket session ({IdleSessions} open, client side included)", perSession / 1024, "KiB");
            report.Add(Name, "idle WebSocket sessions within 1 GiB (estimate)", 1024.0 * 1024 * 1024 / perSession, "sessions");
            if (relay.SessionCount != IdleSessions) throw new InvalidOperationException($"The relay holds {relay.SessionCount} sessions, not {IdleSessions}.");
        }
        finally
        {
            foreach (var socket in sockets) socket.Abort();
            foreach (var socket in sockets) socket.Dispose();
        }
    }

    private static long MemoryNow()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    private static WebifiConnectOptions Options(Uri server, WebifiTransport transport, string network) => new()
    {
        Server = server,
        ConnectName = "webifi",
        ConnectPassword = new NetworkCredential(string.Empty, "pswd").SecurePassword,
        Networks = new[] { network },
        Transport = transport,
        Name = "bench " + network.ToString(CultureInfo.InvariantCulture),
    };
}
