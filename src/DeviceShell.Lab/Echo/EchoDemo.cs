using System.Diagnostics;
using System.Net.Sockets;
using DeviceShell.Lab.Demo;

namespace DeviceShell.Lab.Echo;

/// <summary>A few round trips through the echo server: the floor every protocol's latency is measured against.</summary>
public sealed class EchoDemo : ILabDemo
{
    public string Simulator => "echo";

    public async Task RunAsync(LabDemoContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.Endpoint;
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken).ConfigureAwait(false);
        var stream = client.GetStream();
        var buffer = new byte[5];
        var clock = Stopwatch.StartNew();
        const int roundTrips = 1000;
        for (int i = 0; i < roundTrips; i++)
        {
            await stream.WriteAsync("hello"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        context.Say($"{roundTrips} TCP round trips to {endpoint.Host}:{endpoint.Port} in {clock.ElapsedMilliseconds} ms; last answer '{System.Text.Encoding.ASCII.GetString(buffer)}'");
    }
}
