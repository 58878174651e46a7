using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Bench;

/// <summary>
/// The Webifi relay scaled out on Redis (<c>--webifi-redis</c>): messages per second from a sender on relay A to a
/// receiver on relay B, against the same pair on relay A alone (same Redis path, no hop between relays) and against the
/// in-process relay without Redis. Debian's redis-server on a free loopback port; skipped with one line without it.
/// </summary>
public sealed class WebifiRedisSuite : IBenchmarkSuite
{
    private const string World = "Webifi";
    private const string Measure = "messages/s across two relays on Redis (WebSocket, 32 B, 256 in flight)";
    private const string SameRelay = "same pair on one relay on Redis", InProcess = "same pair on the relay without Redis";
    private const string RedisServer = "/usr/bin/redis-server";

    public string Name => "webifi-redis";

    public async Task RunAsync(Bench bench, CancellationToken cancellationToken)
    {
        if (!File.Exists(RedisServer))
        {
            bench.Skip(World, Measure, SameRelay, "redis-server (Debian package, .ci/apt-packages.txt) is not installed");
            return;
        }
        int port = FreePort();
        using var redis = Process.Start(new ProcessStartInfo(RedisServer)
        {
            ArgumentList = { "--port", Native.Text(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        try
        {
            await WaitForPortAsync(port, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            string endpoint = "127.0.0.1:" + Native.Text(port);
            await using var relayA = await Bench.StartLabAsync("--webifi", "0", "--webifi-redis", endpoint).ConfigureAwait(false);
            await using var relayB = await Bench.StartLabAsync("--webifi", "0", "--webifi-redis", endpoint).ConfigureAwait(false);
            await using var alone = await Bench.StartLabAsync("--webifi", "0").ConfigureAwait(false);
            Uri a = Server(relayA), b = Server(relayB);
            await using var across = await WebifiSuite.Pair.ConnectAsync(b, a, WebifiTransport.WebSocket, "net1", cancellationToken).ConfigureAwait(false);
            await using var oneRelay = await WebifiSuite.Pair.ConnectAsync(a, a, WebifiTransport.WebSocket, "net2", cancellationToken).ConfigureAwait(false);
            await using var inProcess = await WebifiSuite.Pair.ConnectAsync(Server(alone), Server(alone), WebifiTransport.WebSocket, "net1", cancellationToken).ConfigureAwait(false);
            var losses = new List<string>();
            var result = await bench.CompareAsync(window => across.RateAsync(window, losses, cancellationToken), new List<(string, Func<Task<double>>)>
            {
                (SameRelay, () => oneRelay.RateAsync(bench.Settings.Window, losses, cancellationToken)),
                (InProcess, () => inProcess.RateAsync(bench.Settings.Window, losses, cancellationToken)),
            }, warmup: async window =>
            {
                await oneRelay.WarmAsync(window, cancellationToken).ConfigureAwait(false);
                await inProcess.WarmAsync(window, cancellationToken).ConfigureAwait(false);
                return await across.WarmAsync(window, cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
            string value = Bench.Format(result.Value) + " messages/s";
            using var clients = Process.GetCurrentProcess();
            using var relayAProcess = Process.GetProcessById(relayA.ProcessId);
            using var relayBProcess = Process.GetProcessById(relayB.ProcessId);
            using var aloneProcess = Process.GetProcessById(alone.ProcessId);
            string commands = await CommandsPerMessageAsync(port, across, bench.Settings.Window, losses, cancellationToken).ConfigureAwait(false);
            string acrossCpu = await CpuPerMessageAsync(across, bench.Settings.Window,
                [("relay A", relayAProcess), ("relay B", relayBProcess), ("Redis", redis), ("clients", clients)],
                losses, cancellationToken).ConfigureAwait(false);
            string aloneCpu = await CpuPerMessageAsync(inProcess, bench.Settings.Window,
                [("relay", aloneProcess), ("clients", clients)], losses, cancellationToken).ConfigureAwait(false);
            string notes = (losses.Count == 0 ? "every message arrived" : string.Join("; ", losses))
                + "; Redis commands per message across: " + commands + "; CPU µs per message across: " + acrossCpu + ", without Redis: " + aloneCpu;
            foreach (string peer in new[] { SameRelay, InProcess })
                bench.Add(new BenchRow(World, Measure, value, peer, Bench.Format(result.PeerValue(peer)) + " messages/s", result.Ratio(peer), Notes: notes));
        }
        finally
        {
            redis.Kill();
            await redis.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The CPU time each process spent per message received over one more window of <paramref name="pair"/>: where
    /// the time goes, process by process (the clients are this process, sender and receiver).
    /// </summary>
    private static async Task<string> CpuPerMessageAsync(WebifiSuite.Pair pair, TimeSpan window, (string Name, Process Process)[] processes, List<string> losses, CancellationToken cancellationToken)
    {
        var cpu = processes.Select(p => { p.Process.Refresh(); return p.Process.TotalProcessorTime; }).ToArray();
        await pair.RateAsync(window, losses, cancellationToken).ConfigureAwait(false);
        double messages = Math.Max(1, pair.Received);
        return string.Join(", ", processes.Select((p, i) =>
        {
            p.Process.Refresh();
            return $"{p.Name} {Bench.Format((p.Process.TotalProcessorTime - cpu[i]).TotalMicroseconds / messages, "N2")}";
        }));
    }

    /// <summary>
    /// Redis's own count (<c>INFO commandstats</c>, commands run by scripts included) over one more window of the pair
    /// across the relays, per message received: the total and the commands that make up most of it.
    /// </summary>
    private static async Task<string> CommandsPerMessageAsync(int port, WebifiSuite.Pair across, TimeSpan window, List<string> losses, CancellationToken cancellationToken)
    {
        await RedisCliAsync(port, cancellationToken, "CONFIG", "RESETSTAT").ConfigureAwait(false);
        await across.RateAsync(window, losses, cancellationToken).ConfigureAwait(false);
        string stats = await RedisCliAsync(port, cancellationToken, "INFO", "commandstats").ConfigureAwait(false);
        var calls = new List<(string Command, long Calls)>();
        foreach (string line in stats.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            // cmdstat_xadd:calls=123,usec=...
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal)) continue;
            string command = line["cmdstat_".Length..line.IndexOf(':', StringComparison.Ordinal)];
            if (command is "info" or "config") continue;
            string field = line.Split(':', ',').First(part => part.StartsWith("calls=", StringComparison.Ordinal));
            calls.Add((command, long.Parse(field["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture)));
        }
        double messages = Math.Max(1, across.Received);
        string top = string.Join(", ", calls.OrderByDescending(c => c.Calls).Take(6).Select(c => $"{c.Command} {Bench.Format(c.Calls / messages, "N2")}"));
        return $"{Bench.Format(calls.Sum(c => c.Calls) / messages, "N2")} ({top})";
    }

    private static async Task<string> RedisCliAsync(int port, CancellationToken cancellationToken, params string[] arguments)
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-p");
        start.ArgumentList.Add(Native.Text(port));
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var cli = Process.Start(start)!;
        string output = await cli.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await cli.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        return output;
    }

    private static Uri Server(DeviceShell.Engine.Lab.DeviceLab lab) => new($"http://{lab["webifi"]!.Host}:{lab["webifi"]!.Port}/");

    /// <summary>Redis takes no port 0: a port the system just handed out and released.</summary>
    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static async Task WaitForPortAsync(int port, TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
