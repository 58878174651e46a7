using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Tests.Sessions;

/// <summary>
/// docs/design/decisions.md §13.8: Brick and Pi link connects are blocking connect() calls on a thread of their own.
/// A peer that never answers the handshake must still end in the connect timeout's error, at the timeout, and the
/// session must be able to connect once the peer answers.
/// </summary>
public sealed class BlockingConnectTests : IDisposable
{
    private readonly Socket _listener = new(SocketType.Stream, ProtocolType.Tcp);
    private readonly List<Socket> _queued = new();

    /// <summary>
    /// A loopback port that takes no more handshakes: a listener that never accepts, with its accept queue full, so the
    /// kernel drops further SYNs as a peer behind a dead route would.
    /// </summary>
    private int SilentPort()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(0);
        int port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        for (int i = 0; i < 4; i++)
        {
            var queued = new Socket(SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
            try
            {
                queued.Connect(IPAddress.Loopback, port);
            }
            catch (SocketException)
            {
                // In progress: it fills the queue or waits for it.
            }
            _queued.Add(queued);
        }
        return port;
    }

    [Fact]
    public async Task A_brick_connect_to_a_peer_that_never_answers_ends_at_its_timeout_with_ConnectTimeout()
    {
        int port = SilentPort();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeviceException>(() => BrickSession.ConnectAsync(new BrickConnectOptions
        {
            HostName = "127.0.0.1",
            Port = port,
            ConnectTimeout = TimeSpan.FromMilliseconds(500),
        })).WaitAsync(TestTimeouts.Short);
        Assert.Equal(("ConnectTimeout", DeviceErrorKind.Timeout), (error.ErrorId, error.Kind));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(450), $"gave up after {clock.ElapsedMilliseconds} ms, before the timeout");
    }

    [Fact]
    public async Task A_pi_link_connect_to_a_peer_that_never_answers_is_CONNECTION_FAILED_naming_the_timeout()
    {
        int port = SilentPort();
        var error = await Assert.ThrowsAsync<DeviceException>(() => PiLinkSession.ConnectAsync(new PiLinkConnectOptions
        {
            HostName = "127.0.0.1",
            Port = port,
            Link = PiLinkOptions.Default with { ConnectTimeout = TimeSpan.FromMilliseconds(500) },
        }, CancellationToken.None)).WaitAsync(TestTimeouts.Short);
        Assert.Equal("PiLinkConnectionFailed", error.ErrorId);
        Assert.Contains("no answer within 0.5 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_brick_connect_that_waits_for_the_handshake_ends_it_at_once()
    {
        int port = SilentPort();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => BrickSession.ConnectAsync(new BrickConnectOptions
        {
            HostName = "127.0.0.1",
            Port = port,
            ConnectTimeout = TimeSpan.FromSeconds(60),
        }, cancel.Token)).WaitAsync(TestTimeouts.Short);
    }

    public void Dispose()
    {
        foreach (var queued in _queued) queued.Dispose();
        _listener.Dispose();
    }
}
