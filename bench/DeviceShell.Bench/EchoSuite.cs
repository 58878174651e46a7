using System.Net.Sockets;
using DeviceShell.Lab.Echo;
using DeviceShell.Lab.Hosting;

namespace DeviceShell.Bench;

/// <summary>
/// The reference every socket benchmark is compared with: round trips of a small packet to the Lab's
/// TCP echo server over loopback, on the same socket stack and machine. Worlds call <see cref="MeasureAsync"/>
/// in their own run so their ratios come from one run.
/// </summary>
public sealed class EchoSuite : IBenchmarkSuite
{
    public string Name => "echo";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        double rate = await MeasureAsync(report, 32, cancellationToken).ConfigureAwait(false);
        report.Add(Name, "TCP echo round trips (32 bytes)", rate, "round trips/s");
    }

    /// <summary>Round trips per second of <paramref name="size"/>-byte packets through a fresh echo simulator.</summary>
    public static async Task<double> MeasureAsync(BenchmarkReport report, int size, CancellationToken cancellationToken)
    {
        await using var echo = new EchoSimulator();
        var endpoint = await echo.StartAsync(LabSimulatorOptions.Loopback(), cancellationToken).ConfigureAwait(false);
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken).ConfigureAwait(false);
        var stream = client.GetStream();
        var packet = new byte[size];
        var answer = new byte[size];
        return await report.RatePerSecondAsync(async () =>
        {
            await stream.WriteAsync(packet, cancellationToken).ConfigureAwait(false);
            await stream.ReadExactlyAsync(answer, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }
}
