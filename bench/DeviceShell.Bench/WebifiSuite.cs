using System.Diagnostics;
using System.Net;
using System.Text.Json;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Bench;

/// <summary>
/// Two Webifi sessions talking through the Lab's relay in its own process: 32-byte messages per second with 256 sends
/// in flight, over WebSocket and over long polling, next to two clients on Debian's python3-websocket doing the same
/// over WebSocket, and next to a DeviceShell pair that speaks the official dialect (one message per frame, the next
/// after its answer; issue 19). Every round checks that what was sent arrived and prints the difference when it did not.
/// </summary>
public sealed class WebifiSuite : IBenchmarkSuite
{
    private const string World = "Webifi";
    private const int Payload = 32, Window = 256;
    private const string LongPolling = "DeviceShell long polling", Python = "python3-websocket", Official = "DeviceShell WebSocket, official dialect";

    public string Name => "webifi";

    public async Task RunAsync(Bench bench, CancellationToken cancellationToken)
    {
        await using var lab = await Bench.StartLabAsync("--webifi", "0").ConfigureAwait(false);
        var relay = lab["webifi"]!;
        var server = new Uri($"http://{relay.Host}:{relay.Port}/");
        string? pythonMissing = await Peers.PythonModuleMissingAsync("websocket", "python3-websocket").ConfigureAwait(false);

        // Each pair's receiver listens on a network of its own (the sample account has three) and the senders on none,
        // so no round's messages reach another side's receiver.
        await using var webSocket = await Pair.ConnectAsync(server, WebifiTransport.WebSocket, "net1", cancellationToken).ConfigureAwait(false);
        await using var longPolling = await Pair.ConnectAsync(server, WebifiTransport.LongPolling, "net2", cancellationToken).ConfigureAwait(false);
        // The three networks are taken: this pair's sender addresses its receiver's session id.
        await using var official = await Pair.ConnectAsync(server, server, WebifiTransport.WebSocket, null, cancellationToken, WebifiDialect.Official).ConfigureAwait(false);
        var losses = new List<string>();
        var peers = new List<(string, Func<Task<double>>)>
        {
            (LongPolling, async () => { await longPolling.WarmAsync(bench.Settings.Warmup, cancellationToken).ConfigureAwait(false); return await longPolling.RateAsync(bench.Settings.Window, losses, cancellationToken).ConfigureAwait(false); }),
            (Official, async () => { await official.WarmAsync(bench.Settings.Warmup, cancellationToken).ConfigureAwait(false); return await official.RateAsync(bench.Settings.Window, losses, cancellationToken).ConfigureAwait(false); }),
        };
        if (pythonMissing is null)
        {
            peers.Add((Python, async () =>
            {
                string output = await Bench.RunAsync(Peers.Python, new[] { Bench.PeerScript("webifi_ws.py"), relay.Host, Native.Text(relay.Port),
                    Native.Text(bench.Settings.Window.TotalSeconds), Native.Text(Payload), Native.Text(Window), "lab" }, bench.Settings.Window + TimeSpan.FromSeconds(60)).ConfigureAwait(false);
                using var json = JsonDocument.Parse(output);
                long sent = json.RootElement.GetProperty("sent").GetInt64(), received = json.RootElement.GetProperty("received").GetInt64();
                if (sent != received) losses.Add($"python3-websocket: {sent - received} of {sent} not received");
                return json.RootElement.GetProperty("messages").GetDouble();
            }));
        }
        var result = await bench.CompareAsync(window => webSocket.RateAsync(window, losses, cancellationToken), peers,
            warmup: window => webSocket.WarmAsync(window, cancellationToken)).ConfigureAwait(false);

        const string Measure = "WebSocket messages/s between two sessions (32 B, 256 in flight)";
        string value = Bench.Format(result.Value) + " messages/s";
        string? notes = losses.Count == 0 ? "every message arrived, both sides" : string.Join("; ", losses);
        bench.Add(new BenchRow(World, Measure, value, LongPolling, Bench.Format(result.PeerValue(LongPolling)) + " messages/s", result.Ratio(LongPolling),
            "WebSocket ≥ long polling", result.Ratio(LongPolling) >= 1.0, notes));
        bench.Add(new BenchRow(World, Measure, value, Official, Bench.Format(result.PeerValue(Official)) + " messages/s", result.Ratio(Official)));
        if (pythonMissing is null)
            bench.Add(new BenchRow(World, Measure, value, Python, Bench.Format(result.PeerValue(Python)) + " messages/s", result.Ratio(Python)));
        else
            bench.Skip(World, Measure, Python, pythonMissing);
    }

    /// <summary>A receiver on one network of the relay's sample account and a sender that listens on none, on one transport.</summary>
    internal sealed class Pair : IAsyncDisposable
    {
        private readonly string[] _toNetworks;
        private readonly int[] _toSessionIds;
        private readonly WebifiSession _receiver, _sender;
        private readonly EventBuffer<WebifiEvent>.EventReader _messages;
        private readonly WebifiTransport _transport;

        /// <summary>Messages received in the last <see cref="RateAsync"/>.</summary>
        public long Received { get; private set; }

        private Pair(WebifiSession receiver, WebifiSession sender, WebifiTransport transport, string? network)
        {
            _toNetworks = network is null ? Array.Empty<string>() : new[] { network };
            _toSessionIds = network is null ? new[] { receiver.SessionId } : Array.Empty<int>();
            _receiver = receiver;
            _sender = sender;
            _transport = transport;
            // The session's buffer holds its status changes too; only the data counts here.
            _messages = receiver.Events.OpenReader(item => item is WebifiMessage);
        }

        public static Task<Pair> ConnectAsync(Uri server, WebifiTransport transport, string network, CancellationToken cancellationToken) =>
            ConnectAsync(server, server, transport, network, cancellationToken);

        /// <summary>
        /// The receiver on one relay and the sender on another (relays sharing Redis, see WebifiRedisSuite); with no
        /// network the receiver listens to none and the sender addresses its session id.
        /// </summary>
        public static async Task<Pair> ConnectAsync(Uri receiverServer, Uri senderServer, WebifiTransport transport, string? network, CancellationToken cancellationToken,
            WebifiDialect dialect = WebifiDialect.DeviceShell)
        {
            var receiver = await WebifiSession.ConnectAsync(Options(receiverServer, transport, network) with { Dialect = dialect }, cancellationToken).ConfigureAwait(false);
            var sender = await WebifiSession.ConnectAsync(Options(senderServer, transport, null) with { Dialect = dialect }, cancellationToken).ConfigureAwait(false);
            return new Pair(receiver, sender, transport, network);
        }

        public Task<double> WarmAsync(TimeSpan window, CancellationToken cancellationToken) => RateAsync(window, new List<string>(), cancellationToken);

        /// <summary>Keeps <see cref="Window"/> sends in flight for <paramref name="window"/>, then waits for the rest; received per second.</summary>
        public async Task<double> RateAsync(TimeSpan window, List<string> losses, CancellationToken cancellationToken)
        {
            var payload = new string('x', Payload);
            long received = 0, sent = 0;
            var clock = Stopwatch.StartNew();
            var inFlight = new Queue<Task>();
            while (clock.Elapsed < window)
            {
                inFlight.Enqueue(_sender.SendAsync(WebifiOutgoing.Text(payload, "", _toNetworks, _toSessionIds), cancellationToken));
                sent++;
                if (inFlight.Count >= Window) await inFlight.Dequeue().ConfigureAwait(false);
                while ((await _messages.TakeAsync(TimeSpan.Zero, cancellationToken: cancellationToken).ConfigureAwait(false)).Taken) received++;
            }
            await Task.WhenAll(inFlight).ConfigureAwait(false);
            while (received < sent && (await _messages.TakeAsync(TimeSpan.FromSeconds(5), cancellationToken: cancellationToken).ConfigureAwait(false)).Taken) received++;
            double elapsed = clock.Elapsed.TotalSeconds;
            if (received != sent) losses.Add($"DeviceShell {_transport}: {sent - received} of {sent} not received");
            Received = received;
            return received / elapsed;
        }

        public async ValueTask DisposeAsync()
        {
            _messages.Dispose();
            await _sender.DisposeAsync().ConfigureAwait(false);
            await _receiver.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static WebifiConnectOptions Options(Uri server, WebifiTransport transport, string? network) => new()
    {
        Server = server,
        ConnectName = "webifi",
        ConnectPassword = new NetworkCredential(string.Empty, "pswd").SecurePassword,
        Networks = network is null ? Array.Empty<string>() : new[] { network },
        Transport = transport,
        Name = "bench " + (network ?? "sender"),
    };
}
