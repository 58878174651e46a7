using System.Net;
using System.Net.Sockets;
using System.Text;
using DeviceShell.Engine.PiLink;

namespace DeviceShell.Engine.Tests.PiLink;

/// <summary>
/// A Pi link server of the engine on a free loopback port with short probe windows, and the clients a test connected
/// to it; the client of another peer (a Lab simulator, a raw socket) comes from <see cref="ConnectToAsync"/>.
/// </summary>
internal sealed class PiLinkFixture : SimulatorFixture<PiLinkSession>
{
    public static readonly PiLinkOptions Fast = new()
    {
        BindAddress = IPAddress.Loopback,
        OccupiedWait = TimeSpan.FromMilliseconds(200),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>
    /// For a client that must see SERVER_OCCUPIED: the refusal ends the probe as soon as it arrives, so a long window
    /// costs nothing and keeps a loaded test machine (a late accept loop) from turning the refusal into CONNECTED.
    /// </summary>
    public static readonly PiLinkOptions Patient = Fast with { OccupiedWait = TimeSpan.FromSeconds(5) };

    private PiLinkFixture(PiLinkServer server) => Server = server;

    public PiLinkServer Server { get; }

    public int Port => Server.Port;

    /// <summary>Starts a server (its LISTENING is left in its queue for the test).</summary>
    public static Task<PiLinkFixture> StartAsync(PiLinkOptions? options = null)
    {
        var server = new PiLinkServer(0, options ?? Fast);
        server.Start();
        return Task.FromResult(new PiLinkFixture(server));
    }

    /// <summary>A client of this server; the server's LISTENING and CONNECTED and the client's CONNECTING and CONNECTED are taken.</summary>
    public async Task<PiLinkSession> ConnectAsync(PiLinkOptions? options = null)
    {
        var client = Track(await ConnectToAsync(Port, options));
        await Server.ExpectAsync(PiLinkState.Listening);
        await Server.ExpectAsync(PiLinkState.Connected, "127.0.0.1");
        return client;
    }

    /// <summary>A client of any loopback port that went through CONNECTING and CONNECTED (both taken from its queue); the caller disposes it.</summary>
    public static async Task<PiLinkSession> ConnectToAsync(int port, PiLinkOptions? options = null)
    {
        var client = new PiLinkSession("127.0.0.1", port, options ?? Fast);
        Assert.Equal(PiLinkState.Connected, await client.ConnectAsync().Within());
        await client.ExpectAsync(PiLinkState.Connecting, $"127.0.0.1:{port}");
        await client.ExpectAsync(PiLinkState.Connected, $"127.0.0.1:{port}");
        return client;
    }

    /// <summary>A plain TCP client for checking the bytes on the wire.</summary>
    public static async Task<Socket> RawConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TestTimeouts.Short);
        return socket;
    }

    protected override ValueTask StopServerAsync() => Server.DisposeAsync();
}

/// <summary>Bounded waits on a Pi link endpoint's queue, and raw reads and writes for the wire tests.</summary>
internal static class PiLinkTestExtensions
{
    public static async Task<PiLinkMessage> NextAsync(this PiLinkEndpoint endpoint, TimeSpan? within = null)
    {
        var (taken, item) = await endpoint.Messages.TakeAsync(within ?? TestTimeouts.Short);
        Assert.True(taken, $"{endpoint} reported nothing in time.");
        return item;
    }

    public static async Task<PiLinkMessage> ExpectAsync(this PiLinkEndpoint endpoint, PiLinkState state, string? text = null)
    {
        var item = await endpoint.NextAsync();
        Assert.Equal(state, item.State);
        if (text is not null) Assert.Equal(text, item.Text);
        return item;
    }

    public static void ExpectQuiet(this PiLinkEndpoint endpoint)
    {
        bool any = endpoint.Messages.TryTake(out var item);
        Assert.False(any, $"unexpected {item}");
    }

    public static Task SendRawAsync(this Socket socket, string text) => socket.SendRawAsync(Encoding.UTF8.GetBytes(text));

    public static async Task SendRawAsync(this Socket socket, byte[] bytes)
    {
        int sent = 0;
        while (sent < bytes.Length) sent += await socket.SendAsync(bytes.AsMemory(sent)).AsTask().WaitAsync(TestTimeouts.Short);
    }

    /// <summary>Reads exactly up to and including the next <paramref name="terminator"/>; returns the bytes before it.</summary>
    public static async Task<byte[]> ReadBlockAsync(this Socket socket, byte terminator = 0)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            int read = await socket.ReceiveAsync(one.AsMemory()).AsTask().WaitAsync(TestTimeouts.Short);
            Assert.True(read == 1, "the peer closed before the terminator");
            if (one[0] == terminator) return bytes.ToArray();
            bytes.Add(one[0]);
        }
    }

    /// <summary>True when the peer closes the socket within the time given.</summary>
    public static async Task<bool> ClosedByPeerAsync(this Socket socket, TimeSpan within)
    {
        var buffer = new byte[64];
        try
        {
            return await socket.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(within) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
