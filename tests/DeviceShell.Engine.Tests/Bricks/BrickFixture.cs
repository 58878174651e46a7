using System.Net;
using System.Net.Sockets;
using DeviceShell.Engine.Bricks;
using DeviceShell.Lab.Bricks;
using DeviceShell.Lab.Hosting;

namespace DeviceShell.Engine.Tests.Bricks;

/// <summary>A Brick Daemon simulator on a free loopback port plus helpers to connect sessions to it.</summary>
internal sealed class BrickFixture : SimulatorFixture<BrickSession>
{
    private BrickFixture(BrickDaemonSimulator daemon, int port)
    {
        Daemon = daemon;
        Port = port;
    }

    public BrickDaemonSimulator Daemon { get; private set; }

    public int Port { get; }

    /// <summary>Starts a daemon with the default stack, or with <paramref name="devices"/>.</summary>
    public static async Task<BrickFixture> StartAsync(string? secret = null, int port = 0, IEnumerable<SimulatedBrickDevice>? devices = null)
    {
        var daemon = devices is null ? new BrickDaemonSimulator { Secret = secret } : new BrickDaemonSimulator(devices) { Secret = secret };
        var endpoint = await daemon.StartAsync(LabSimulatorOptions.Loopback(port), CancellationToken.None).Within();
        return new BrickFixture(daemon, endpoint.Port);
    }

    public BrickConnectOptions Options(string? secret = null, TimeSpan? timeout = null) => new()
    {
        HostName = "127.0.0.1",
        Port = Port,
        Secret = secret,
        Timeout = timeout ?? TimeSpan.FromSeconds(2),
        ReconnectInterval = TimeSpan.FromMilliseconds(50),
    };

    /// <summary>A connected session that the daemon has taken on, so that what the daemon broadcasts next reaches it.</summary>
    public async Task<BrickSession> ConnectAsync(BrickConnectOptions? options = null)
    {
        long takenOn = Daemon.ClientsTakenOn;
        var session = Track(await BrickSession.ConnectAsync(options ?? Options()).Within());
        await Eventually.True(() => Daemon.ClientsTakenOn > takenOn, what: "the daemon taking the client on");
        return session;
    }

    /// <summary>Stops the simulator (every client sees the connection drop) and starts a fresh one on the same port.</summary>
    public async Task RestartAsync(string? secret = null, TimeSpan? downtime = null)
    {
        await Daemon.DisposeAsync();
        if (downtime is not null) await Task.Delay(downtime.Value);
        Daemon = new BrickDaemonSimulator { Secret = secret };
        await Daemon.StartAsync(LabSimulatorOptions.Loopback(Port), CancellationToken.None).Within();
    }

    protected override ValueTask StopServerAsync() => Daemon.DisposeAsync();

    /// <summary>Takes queue items until one matches; fails after the limit.</summary>
    public static async Task<BrickEvent> NextEvent(BrickSession session, Func<BrickEvent, bool> match, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? Eventually.Patience);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) Assert.Fail("No matching event arrived in time.");
            var (taken, item) = await session.Events.TakeAsync(left);
            if (taken && match(item)) return item;
        }
    }
}

/// <summary>
/// A hostile peer on a raw socket: accepts one client at a time and runs a script against it
/// (answer garbage, close half way). Not a mock of the client — it is the misbehaving daemon.
/// </summary>
internal sealed class HostilePeer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _accepted;

    public HostilePeer(Func<Socket, int, Task> script)
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync(_stop.Token);
                }
                catch (Exception)
                {
                    return;
                }
                int index = Interlocked.Increment(ref _accepted);
                _ = Task.Run(async () =>
                {
                    using (socket)
                    {
                        try
                        {
                            await script(socket, index);
                        }
                        catch (Exception)
                        {
                            // The client went away; that is fine for a hostile peer.
                        }
                    }
                });
            }
        });
    }

    public int Port { get; }

    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Reads one request (8-byte header and its payload) from the client.</summary>
    public static async Task<byte[]> ReadRequestAsync(Socket socket)
    {
        var header = new byte[8];
        await ReadExactly(socket, header);
        var packet = new byte[header[4]];
        header.CopyTo(packet, 0);
        await ReadExactly(socket, packet.AsMemory(8));
        return packet;
    }

    private static async Task ReadExactly(Socket socket, Memory<byte> buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None);
            if (n == 0) throw new IOException("closed");
            read += n;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _loop.WaitAsync(TestTimeouts.Short);
    }
}
