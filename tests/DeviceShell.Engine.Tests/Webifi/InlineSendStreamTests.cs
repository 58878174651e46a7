using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// The relay connection's stream writes on the caller's thread while the socket takes the bytes. A relay that stops
/// reading must not hold that thread: the write that finds the kernel's buffer full goes on asynchronously, and the
/// caller's cancellation ends it. Bytes written through both paths arrive whole and in order.
/// </summary>
public sealed class InlineSendStreamTests : IDisposable
{
    private readonly Socket _listener = new(SocketType.Stream, ProtocolType.Tcp);

    private async Task<(InlineSendStream Client, Socket Peer)> ConnectAsync()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(1);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_listener.LocalEndPoint!).WaitAsync(TestTimeouts.Short);
        var peer = await _listener.AcceptAsync().WaitAsync(TestTimeouts.Short);
        return (new InlineSendStream(socket), peer);
    }

    [Fact]
    public async Task A_write_to_a_peer_that_stopped_reading_returns_unfinished_and_ends_with_the_cancellation()
    {
        var (client, peer) = await ConnectAsync();
        using var _ = peer;
        await using var __ = client;
        var chunk = new byte[64 * 1024];
        using var cancel = new CancellationTokenSource();
        // On a thread of its own: were the write blocking, the test fails at the bound instead of hanging.
        var pending = await Task.Run<Task?>(() =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                var write = client.WriteAsync(chunk, cancel.Token);
                if (!write.IsCompleted) return write.AsTask();
            }
            return null;
        }).WaitAsync(TestTimeouts.Short);
        Assert.NotNull(pending);
        await Task.Delay(100);
        Assert.False(pending.IsCompleted, "the write ended although the peer reads nothing");
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending).WaitAsync(TestTimeouts.Short);
    }

    [Fact]
    public async Task Bytes_written_inline_and_after_a_full_buffer_arrive_whole_and_in_order()
    {
        var (client, peer) = await ConnectAsync();
        using var _ = peer;
        await using var __ = client;
        byte[] sent = RandomNumberGenerator.GetBytes(16 * 1024 * 1024);
        var received = new byte[sent.Length];
        // The peer starts reading late, so some writes find the buffer full and finish asynchronously.
        var reading = Task.Run(async () =>
        {
            await Task.Delay(200);
            int at = 0;
            while (at < received.Length)
            {
                int read = await peer.ReceiveAsync(received.AsMemory(at, Math.Min(4096, received.Length - at)), SocketFlags.None);
                if (read == 0) break;
                at += read;
            }
            return at;
        });
        for (int at = 0; at < sent.Length; at += 100_000)
            await client.WriteAsync(sent.AsMemory(at, Math.Min(100_000, sent.Length - at))).AsTask().WaitAsync(TestTimeouts.Short);
        Assert.Equal(sent.Length, await reading.WaitAsync(TestTimeouts.Short));
        Assert.True(sent.AsSpan().SequenceEqual(received), "the bytes arrived changed or out of order");
    }

    [Fact]
    public async Task A_write_after_the_peer_went_away_fails_with_an_IOException()
    {
        var (client, peer) = await ConnectAsync();
        await using var _ = client;
        peer.LingerState = new LingerOption(true, 0);
        peer.Dispose();
        var error = await Assert.ThrowsAsync<IOException>(async () =>
        {
            // The first write may still be taken by the kernel before the reset is seen.
            for (int i = 0; i < 100; i++)
            {
                await client.WriteAsync(new byte[1024]).AsTask().WaitAsync(TestTimeouts.Short);
                await Task.Delay(10);
            }
        });
        Assert.IsType<SocketException>(error.InnerException);
    }

    public void Dispose() => _listener.Dispose();
}
