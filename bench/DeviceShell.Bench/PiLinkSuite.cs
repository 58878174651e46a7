using System.Diagnostics;
using DeviceShell.Engine.PiLink;
using DeviceShell.Lab.Hosting;
using DeviceShell.Lab.PiLink;

namespace DeviceShell.Bench;

/// <summary>
/// Pi link figures against the Lab's pibutton simulator on loopback: <c>go</c> → reply round trips (next to the TCP echo
/// reference of the same run), one-way messages to a server, and the time from connect to CONNECTED (mostly the
/// occupied probe window, measured with tcpcom's 2 s replaced by the default and by a short one).
/// </summary>
public sealed class PiLinkSuite : IBenchmarkSuite
{
    public string Name => "pilink";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        double echo = await EchoSuite.MeasureAsync(report, 16, cancellationToken).ConfigureAwait(false);
        report.Add(Name, "reference: TCP echo round trips (16 bytes)", echo, "round trips/s");

        await using var simulator = new PiButtonSimulator();
        var endpoint = await simulator.StartAsync(LabSimulatorOptions.Loopback(), cancellationToken).ConfigureAwait(false);
        var fast = new PiLinkOptions { OccupiedWait = TimeSpan.FromMilliseconds(20) };
        await using (var client = await ConnectAsync(endpoint.Port, fast, cancellationToken).ConfigureAwait(false))
        {
            double roundTrips = await report.RatePerSecondAsync(
                () => client.SendAndReceiveReplyAsync(PiButtonServer.Command, TimeSpan.FromSeconds(5), cancellationToken), cancellationToken).ConfigureAwait(false);
            report.Add(Name, "go → Button released round trips", roundTrips, "round trips/s", $"{BenchmarkReport.Ratio(roundTrips, echo)} of TCP echo");
        }

        await using (var server = new PiLinkServer(0, new PiLinkOptions { BindAddress = System.Net.IPAddress.Loopback }))
        {
            server.Start();
            await using var client = await ConnectAsync(server.Port, fast, cancellationToken).ConfigureAwait(false);
            report.Add(Name, "one-way messages client → server", await OneWayRateAsync(client, server, report.Duration, cancellationToken).ConfigureAwait(false), "messages/s");
        }

        foreach (var (label, wait) in new[] { ("default probe 0.5 s", TimeSpan.FromMilliseconds(500)), ("probe 0.05 s", TimeSpan.FromMilliseconds(50)) })
        {
            var clock = Stopwatch.StartNew();
            await using (await ConnectAsync(endpoint.Port, new PiLinkOptions { OccupiedWait = wait }, cancellationToken).ConfigureAwait(false))
                report.Add(Name, $"connect → CONNECTED ({label}; tcpcom: 2 s)", clock.Elapsed.TotalMilliseconds, "ms");
        }
    }

    private static async Task<PiLinkSession> ConnectAsync(int port, PiLinkOptions options, CancellationToken cancellationToken)
    {
        var client = new PiLinkSession("127.0.0.1", port, options);
        var outcome = await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
        if (outcome != PiLinkState.Connected) throw new InvalidOperationException($"The benchmark client could not connect: {outcome}.");
        return client;
    }

    /// <summary>Sends small messages as fast as the client can while the server's queue is drained; counts what the server received.</summary>
    private static async Task<double> OneWayRateAsync(PiLinkSession client, PiLinkServer server, TimeSpan duration, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var drain = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
                await server.Messages.TakeAsync(TimeSpan.FromMilliseconds(100), CancellationToken.None).ConfigureAwait(false);
        }, CancellationToken.None);
        long before = server.MessagesReceived;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration) await client.SendAsync("button pressed", cancellationToken).ConfigureAwait(false);
        // Count only what arrived: wait until the server has read everything that was sent.
        long sent = client.MessagesSent;
        while (server.MessagesReceived - before < sent && clock.Elapsed < duration * 3) await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        double rate = (server.MessagesReceived - before) / clock.Elapsed.TotalSeconds;
        await stop.CancelAsync().ConfigureAwait(false);
        await drain.ConfigureAwait(false);
        return rate;
    }
}
