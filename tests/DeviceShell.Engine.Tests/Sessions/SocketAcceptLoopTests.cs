using System.Net;
using System.Net.Sockets;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Tests.Sessions;

public class SocketAcceptLoopTests
{
    [Theory]
    [InlineData(SocketError.TooManyOpenSockets)]
    [InlineData(SocketError.NoBufferSpaceAvailable)]
    [InlineData(SocketError.ConnectionAborted)]
    public void Resource_and_peer_errors_are_transient(SocketError error) => Assert.True(SocketAcceptLoop.IsTransient(error));

    [Fact]
    public void A_broken_listener_is_not_transient() => Assert.False(SocketAcceptLoop.IsTransient(SocketError.InvalidArgument));

    [Fact]
    public async Task Accepts_until_stopped()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var accepted = new List<Socket>();
        var two = new TaskCompletionSource();
        var loop = SocketAcceptLoop.RunAsync(listener, socket =>
        {
            lock (accepted) { accepted.Add(socket); if (accepted.Count == 2) two.TrySetResult(); }
        }, null, stop.Token);
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var first = new TcpClient();
        using var second = new TcpClient();
        await first.ConnectAsync(IPAddress.Loopback, port);
        await second.ConnectAsync(IPAddress.Loopback, port);
        await two.Task.WaitAsync(TestTimeouts.Short);
        stop.Cancel();
        await loop.WaitAsync(TestTimeouts.Short);
        listener.Stop();
        foreach (var socket in accepted) socket.Dispose();
    }
}
