using System.Net;
using System.Net.Sockets;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Hosting;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.Echo;

/// <summary>
/// A plain TCP echo server. It is the reference peer of the benchmarks (the cost of a loopback round
/// trip on this socket stack with no protocol on top) and a quick way to check that a lab runs.
/// </summary>
[LabSimulator("echo", "TCP echo server (benchmark reference)")]
public sealed class EchoSimulator : ILabSimulator
{
    private readonly CancellationTokenSource _stop = new();
    private TcpListener? _listener;
    private Task? _acceptLoop;
    private ILogger _log = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public Task<LabSimulatorEndpoint> StartAsync(LabSimulatorOptions options, CancellationToken cancellationToken)
    {
        _log = options.LoggerFactory.CreateLogger<EchoSimulator>();
        _listener = new TcpListener(options.Address, options.Port);
        _listener.Start();
        var bound = (IPEndPoint)_listener.LocalEndpoint;
        _acceptLoop = AcceptLoopAsync(_listener, _stop.Token);
        _log.LogInformation("Echo server listening on {Endpoint}", bound);
        return Task.FromResult(new LabSimulatorEndpoint(bound.Address.ToString(), bound.Port));
    }

    private Task AcceptLoopAsync(TcpListener listener, CancellationToken stop) =>
        SocketAcceptLoop.RunAsync(listener, socket =>
        {
            if (DescriptorBudget.TryTake()) _ = EchoAsync(socket, stop);
            else socket.Dispose();
        }, warning => _log.LogWarning("Echo server: {Warning}", warning), stop);

    private static async Task EchoAsync(Socket socket, CancellationToken stop)
    {
        using (socket)
        {
            socket.NoDelay = true;
            using var stream = new NetworkStream(socket, ownsSocket: false);
            var buffer = new byte[16 * 1024];
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer, stop).ConfigureAwait(false)) > 0)
                    await stream.WriteAsync(buffer.AsMemory(0, read), stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away or the lab is stopping.
            }
            finally
            {
                DescriptorBudget.Return();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener?.Stop();
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
