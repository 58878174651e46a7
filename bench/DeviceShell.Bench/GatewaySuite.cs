using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using DeviceShell.Engine.Gateway;
using DeviceShell.Lab.Gateway;
using DeviceShell.Lab.Hosting;

namespace DeviceShell.Bench;

/// <summary>
/// The gateway world over gRPC/TLS/HTTP/2 on loopback against the Lab gateway with 1,000 simulated devices:
/// time until AddAsyncConnection of all 1,000 reports them connected on the status stream, unary
/// GetDeviceList calls per second with 1,000 managed devices, one at a time and 8 in flight, next to
/// Debian's grpcio client (bench/grpcio, /usr/bin/python3) against the same simulator in the same run (best of
/// three alternating rounds),
/// and status changes per second delivered into the session's queue (what Receive-GatewayStatus drains).
/// </summary>
public sealed class GatewaySuite : IBenchmarkSuite
{
    private const int Devices = 1000;
    private const int InFlight = 8;
    private const int Rounds = 3;
    private const string Python = "/usr/bin/python3";

    public string Name => "gateway";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
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

        // The build machine is shared: our client and grpcio take turns for a few rounds and each keeps its best
        // figure, so a burst of someone else's load does not land on one side only.
        double sequential = 0, parallel = 0, grpcioSequential = 0, grpcioParallel = 0;
        for (int round = 0; round < Rounds; round++)
        {
            sequential = Math.Max(sequential, await report.RatePerSecondAsync(() => session.GetDevicesAsync(cancellationToken), cancellationToken, warmup: 20).ConfigureAwait(false));
            parallel = Math.Max(parallel, await report.RatePerSecondAsync(() => session.GetDevicesAsync(cancellationToken), cancellationToken, warmup: 20, inFlight: InFlight).ConfigureAwait(false));
            var grpcio = await MeasureGrpcioAsync(endpoint, report.Duration, cancellationToken).ConfigureAwait(false);
            grpcioSequential = Math.Max(grpcioSequential, grpcio.Sequential);
            grpcioParallel = Math.Max(grpcioParallel, grpcio.Parallel);
        }
        report.Add(Name, $"reference: grpcio GetDeviceList calls with {Devices} managed devices, one at a time", grpcioSequential, "calls/s");
        report.Add(Name, $"reference: grpcio GetDeviceList calls with {Devices} managed devices, {InFlight} in flight", grpcioParallel, "calls/s");
        report.Add(Name, $"GetDeviceList calls with {Devices} managed devices, one at a time", sequential, "calls/s",
            BenchmarkReport.Ratio(sequential, grpcioSequential) + " of grpcio");
        report.Add(Name, $"GetDeviceList calls with {Devices} managed devices, {InFlight} in flight", parallel, "calls/s",
            BenchmarkReport.Ratio(parallel, grpcioParallel) + " of grpcio");

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

    /// <summary>Runs the grpcio client against <paramref name="endpoint"/>: GetDeviceList calls/s one at a time, then <see cref="InFlight"/> at a time.</summary>
    private static async Task<(double Sequential, double Parallel)> MeasureGrpcioAsync(LabSimulatorEndpoint endpoint, TimeSpan duration, CancellationToken cancellationToken)
    {
        string Metadata(string key) => typeof(GatewaySuite).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[]
        {
            Metadata("GrpcioClient"), Metadata("GatewayProtoRoot"), Metadata("WellKnownProtos"), endpoint.Host, endpoint.Port.ToString(CultureInfo.InvariantCulture),
            endpoint.CaCertificate!, duration.TotalSeconds.ToString(CultureInfo.InvariantCulture), InFlight.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }
        using var python = Process.Start(start)!;
        var output = python.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = python.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(duration * 2 + TimeSpan.FromSeconds(60));
        try
        {
            await python.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            python.Kill(entireProcessTree: true);
            throw;
        }
        if (python.ExitCode != 0) throw new InvalidOperationException($"The grpcio client failed ({python.ExitCode}): {await error.ConfigureAwait(false)}");
        using var figures = JsonDocument.Parse(await output.ConfigureAwait(false));
        return (figures.RootElement.GetProperty("sequential").GetDouble(), figures.RootElement.GetProperty("parallel").GetDouble());
    }
}
