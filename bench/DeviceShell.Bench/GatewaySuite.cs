using System.Diagnostics;
using DeviceShell.Engine.Gateway;
using DeviceShell.Lab.Gateway;
using DeviceShell.Lab.Hosting;

namespace DeviceShell.Bench;

/// <summary>
/// The gateway world over gRPC/TLS/HTTP/2 on loopback against the Lab gateway with 1,000 simulated devices:
/// time until AddAsyncConnection of all 1,000 reports them connected on the status stream, unary
/// GetDeviceList calls per second with 1,000 managed devices (next to TCP echo round trips), and status
/// changes per second delivered into the session's queue (what Receive-GatewayStatus drains).
/// </summary>
public sealed class GatewaySuite : IBenchmarkSuite
{
    private const int Devices = 1000;

    public string Name => "gateway";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        double echo = await EchoSuite.MeasureAsync(report, 32, cancellationToken).ConfigureAwait(false);

        await using var simulator = new GatewaySimulator { ReconnectInterval = TimeSpan.FromMilliseconds(200) };
        var settings = new Dictionary<string, string> { ["devices"] = Devices.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var endpoint = await simulator.StartAsync(LabSimulatorOptions.Loopback(settings: settings), cancellationToken).ConfigureAwait(false);
        await using var session = await GatewaySession.ConnectAsync("127.0.0.1", endpoint.Port, endpoint.CaCertificate!, TimeSpan.FromSeconds(30), cancellationToken,
            statusQueueSize: 100_000, eventCapacity: 100_000).ConfigureAwait(false);

        var found = await session.SearchAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        await session.AddAsyncConnectionsAsync(found.Select(d => new GatewayAsyncConnection(d.DeviceId, d.IPAddress, d.Port)), cancellationToken).ConfigureAwait(false);
        var connected = new HashSet<uint>();
        while (connected.Count < found.Count)
        {
            var (taken, change) = await session.StatusChanges.TakeAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            if (!taken) throw new TimeoutException($"Only {connected.Count} of {found.Count} devices reported connected.");
            if (change.Status == GatewayDeviceStatus.TcpConnected) connected.Add(change.DeviceId);
        }
        report.Add(Name, $"AddAsyncConnection of {found.Count} devices until all report connected", clock.Elapsed.TotalMilliseconds, "ms");

        double unary = await report.RatePerSecondAsync(() => session.GetDevicesAsync(cancellationToken), cancellationToken, warmup: 20).ConfigureAwait(false);
        report.Add(Name, $"GetDeviceList calls with {Devices} managed devices", unary, "calls/s", BenchmarkReport.Ratio(unary, echo) + " of TCP echo round trips");

        // A producer flaps one device of a small subnet (so the simulator's bookkeeping does not limit the rate)
        // while the consumer takes changes off the session's queue.
        await using var small = new GatewaySimulator();
        var smallEndpoint = await small.StartAsync(LabSimulatorOptions.Loopback(), cancellationToken).ConfigureAwait(false);
        await using var watcher = await GatewaySession.ConnectAsync("127.0.0.1", smallEndpoint.Port, smallEndpoint.CaCertificate!, TimeSpan.FromSeconds(30), cancellationToken,
            statusQueueSize: 100_000, eventCapacity: 100_000).ConfigureAwait(false);
        const uint Flapping = 544140286;
        await watcher.AddAsyncConnectionsAsync(new[] { new GatewayAsyncConnection(Flapping, "192.168.0.110") }, cancellationToken).ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                small.RemoveDevice(Flapping);
                small.AddDevice(Flapping, "BIOENTRY_W2", "192.168.0.110");
            }
        }, CancellationToken.None);
        long delivered = 0;
        clock.Restart();
        while (clock.Elapsed < report.Duration)
        {
            var (taken, _) = await watcher.StatusChanges.TakeAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            if (taken) delivered++;
        }
        double elapsed = clock.Elapsed.TotalSeconds;
        stop.Cancel();
        await producer.ConfigureAwait(false);
        report.Add(Name, "status changes delivered to the session queue (Receive-GatewayStatus)", delivered / elapsed, "changes/s",
            $"{small.DroppedStatusChanges} dropped by the gateway queue, {watcher.DroppedEvents} by the session queue");
    }
}
