using System.Net;
using System.Net.Sockets;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>A TCP listener on a free loopback port that hands every accepted connection to <see cref="ServeAsync"/> until disposed.</summary>
internal abstract class LoopbackListener : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private Task _accepting = Task.CompletedTask;

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Cancelled when the listener is disposed.</summary>
    protected CancellationTokenSource Stopping { get; } = new();

    /// <summary>Called by the derived constructor once its own fields are set, so no connection meets a half-built object.</summary>
    protected void StartListening()
    {
        _listener.Start();
        _accepting = AcceptLoopAsync();
    }

    /// <summary>Serves one connection; it runs concurrently with the others and owns <paramref name="client"/>.</summary>
    protected abstract Task ServeAsync(TcpClient client);

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(Stopping.Token);
                _ = ServeAsync(client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped (InvalidOperationException: the listener stopped before the next accept began).
        }
    }

    public virtual async ValueTask DisposeAsync()
    {
        Stopping.Cancel();
        _listener.Stop();
        await _accepting.WaitAsync(TestTimeouts.Short);
    }
}
