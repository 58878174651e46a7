using System.Diagnostics;
using DeviceShell.Engine.Bricks;
using DeviceShell.Lab.Bricks;
using DeviceShell.Lab.Hosting;

namespace DeviceShell.Bench;

/// <summary>
/// The Bricks engine against the in-process Brick Daemon simulator on loopback: getter round trips on one
/// device, requests with 8 devices in parallel on one session, and callbacks drained from the session queue
/// (what Receive-BrickCallback does), next to the TCP echo round trip measured in the same run.
/// </summary>
public sealed class BricksSuite : IBenchmarkSuite
{
    private static readonly string[] EightDevices = { "4ER", "b1Q", "Pdw", "Xyz", "23Qx", "6qY", "Bx1", "Bx2" };

    public string Name => "bricks";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        var devices = SimulatedDevices.DefaultStack().Concat(new[]
        {
            SimulatedDevices.Create(TemperatureV2Bricklet.Identifier, "Bx1", "6qY", 'f'),
            SimulatedDevices.Create(TemperatureV2Bricklet.Identifier, "Bx2", "6qY", 'g'),
        });
        await using var daemon = new BrickDaemonSimulator(devices);
        var endpoint = await daemon.StartAsync(LabSimulatorOptions.Loopback(), cancellationToken).ConfigureAwait(false);
        await using var session = await BrickSession.ConnectAsync(new BrickConnectOptions { HostName = endpoint.Host, Port = endpoint.Port }, cancellationToken).ConfigureAwait(false);

        double echo = await EchoSuite.MeasureAsync(report, 10, cancellationToken).ConfigureAwait(false);
        report.Add(Name, "reference: TCP echo round trips (10 bytes)", echo, "round trips/s");

        uint thermometer = BrickUid.Parse("4ER");
        double sequential = await report.RatePerSecondAsync(
            () => session.CallAsync(thermometer, 1, Array.Empty<byte>(), 2, null, cancellationToken), cancellationToken).ConfigureAwait(false);
        report.Add(Name, "sequential getter round trips, one device", sequential, "round trips/s", BenchmarkReport.Ratio(sequential, echo) + " of TCP echo");

        double parallel = await ParallelRateAsync(report, session, cancellationToken).ConfigureAwait(false);
        report.Add(Name, "requests, 8 devices in parallel on one session", parallel, "requests/s", BenchmarkReport.Ratio(parallel, echo) + " of TCP echo");

        double callbacks = await CallbackRateAsync(report, session, cancellationToken).ConfigureAwait(false);
        report.Add(Name, "callbacks delivered to a queue consumer (5 sensors, 1 ms period)", callbacks, "callbacks/s");
    }

    private static async Task<double> ParallelRateAsync(BenchmarkReport report, BrickSession session, CancellationToken cancellationToken)
    {
        long total = 0;
        var clock = Stopwatch.StartNew();
        var workers = EightDevices.Select(uid => Task.Run(async () =>
        {
            uint value = BrickUid.Parse(uid);
            while (clock.Elapsed < report.Duration && !cancellationToken.IsCancellationRequested)
            {
                await session.CallAsync(value, TfpFunction.GetIdentity, Array.Empty<byte>(), BrickDevice.IdentityLength, null, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref total);
            }
        }, cancellationToken));
        await Task.WhenAll(workers).ConfigureAwait(false);
        return total / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> CallbackRateAsync(BenchmarkReport report, BrickSession session, CancellationToken cancellationToken)
    {
        var sensors = EightDevices.Where(uid => uid is "4ER" or "Bx1" or "Bx2").Select(uid => new TemperatureV2Bricklet(session, uid))
            .Concat<BrickDeviceClient>(new[] { new HumidityV2Bricklet(session, "b1Q") }).ToList();
        // Humidity and temperature V2 share the configuration layout (fid 2, 16-bit thresholds).
        foreach (var sensor in sensors)
            await session.CallAsync(sensor.UidValue, 2, new byte[] { 1, 0, 0, 0, 0, (byte)'x', 0, 0, 0, 0 }, 0, null, cancellationToken).ConfigureAwait(false);
        await session.CallAsync(BrickUid.Parse("Pdw"), 2, new byte[] { 1, 0, 0, 0, 0, (byte)'x', 0, 0, 0, 0, 0, 0, 0, 0 }, 0, null, cancellationToken).ConfigureAwait(false);
        while (session.Events.TryTake(out _)) { }
        long delivered = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < report.Duration && !cancellationToken.IsCancellationRequested)
        {
            var (taken, item) = await session.Events.TakeAsync(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
            if (taken && item.Kind == BrickEventKind.Callback) delivered++;
        }
        double rate = delivered / clock.Elapsed.TotalSeconds;
        foreach (var sensor in sensors)
            await session.CallAsync(sensor.UidValue, 2, new byte[] { 0, 0, 0, 0, 0, (byte)'x', 0, 0, 0, 0 }, 0, null, cancellationToken).ConfigureAwait(false);
        return rate;
    }
}
