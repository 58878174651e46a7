using System.Net;
using System.Net.Sockets;

namespace DeviceShell.Engine.Tests.Gateway;

/// <summary>
/// A loopback TCP relay in front of a gateway that can go silent: from <see cref="GoSilent"/> on, every open
/// connection keeps both sockets open and keeps reading, but forwards nothing in either direction (no FIN, no
/// RST) — a peer that vanished behind a NAT or a pulled cable. Connections made after <see cref="Resume"/>
/// forward again; the silenced ones stay silent.
/// </summary>
internal sealed class SilentRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = new();
    private readonly List<TcpClient> _sockets = new();
    private readonly Task _accepting;
    private volatile int _generation; // bumped by GoSilent: connections of an older generation are silenced
    private volatile bool _silent;

    private SilentRelay(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static SilentRelay Start(int targetPort) => new(targetPort);

    public void GoSilent()
    {
        _generation++;
        _silent = true;
    }

    public void Resume() => _silent = false;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var server = new TcpClient();
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            int generation = _silent ? -1 : _generation;
            lock (_pumps)
            {
                _sockets.Add(client);
                _sockets.Add(server);
                _pumps.Add(PumpAsync(client, server, generation));
                _pumps.Add(PumpAsync(server, client, generation));
            }
        }
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/> until the relay stops; drops the bytes once its connection is silenced.</summary>
    private async Task PumpAsync(TcpClient from, TcpClient to, int generation)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int read = await from.GetStream().ReadAsync(buffer, _stop.Token);
                if (read == 0) return;
                if (generation == _generation) await to.GetStream().WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The relay stopped or a side closed.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting.Within();
        Task[] pumps;
        lock (_pumps) { pumps = _pumps.ToArray(); }
        await Task.WhenAll(pumps).Within();
        foreach (var socket in _sockets) socket.Dispose();
        _stop.Dispose();
    }
}
