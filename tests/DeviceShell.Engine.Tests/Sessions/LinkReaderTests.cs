using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Tests.PiLink;

namespace DeviceShell.Engine.Tests.Sessions;

/// <summary>
/// docs/design/decisions.md §13.8: a link's reader is a thread while the link is in use and none while it idles; the
/// idle-link watcher hands a parked socket back to a new reader thread when bytes or the end of the stream arrive.
/// </summary>
public sealed class LinkReaderTests : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentQueue<string> _received = new();
    private Socket? _client;
    private Socket? _server;

    private async Task<LinkReader> ConnectedReaderAsync()
    {
        _listener.Start();
        var accepted = _listener.AcceptSocketAsync();
        _client = await BlockingSocket.ConnectAsync("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port, CancellationToken.None).WaitAsync(TestTimeouts.Short);
        _server = await accepted.WaitAsync(TestTimeouts.Short);
        var reader = new LinkReader(_client, bytes =>
        {
            _received.Enqueue(Encoding.ASCII.GetString(bytes));
            return true;
        });
        reader.Start();
        return reader;
    }

    private string ReceivedText => string.Concat(_received);

    [Fact]
    public async Task An_idle_reader_gives_up_its_thread_and_a_new_one_reads_the_next_bytes()
    {
        var reader = await ConnectedReaderAsync();
        _server!.Send("one"u8);
        await Eventually.True(() => ReceivedText == "one", what: "the first bytes");
        await Eventually.True(() => reader.IsParked, what: "the reader parked after a second of quiet");

        // Without the watcher nothing would read them: the parked reader has no thread.
        _server.Send("two"u8);
        await Eventually.True(() => ReceivedText == "onetwo", what: "the bytes sent to the parked link");
        Assert.False(reader.Completion.IsCompleted);
    }

    [Fact]
    public async Task A_parked_reader_hears_the_peer_close()
    {
        var reader = await ConnectedReaderAsync();
        await Eventually.True(() => reader.IsParked, what: "the reader parked");
        _server!.Shutdown(SocketShutdown.Both);
        Assert.Null(await reader.Completion.WaitAsync(TestTimeouts.Short));
    }

    [Fact]
    public async Task Closing_a_parked_link_ends_its_reading()
    {
        var reader = await ConnectedReaderAsync();
        await Eventually.True(() => reader.IsParked, what: "the reader parked");
        _client!.Dispose();
        reader.Stop();
        // Ended by Stop, or by a new reader thread that the watcher started when the close woke its poll.
        await reader.Completion.WaitAsync(TestTimeouts.Short);
        Assert.False(reader.IsParked);
    }

    /// <summary>
    /// A parked socket closed by someone who does not stop its reader: the watcher's poll() refuses the closed socket,
    /// and must end that reader (with the close) rather than poll the same list again and again.
    /// </summary>
    [Fact]
    public async Task A_parked_link_closed_without_stopping_its_reader_still_ends_its_reading()
    {
        var reader = await ConnectedReaderAsync();
        await Eventually.True(() => reader.IsParked, what: "the reader parked");
        _client!.Dispose();
        Assert.IsType<ObjectDisposedException>(await reader.Completion.WaitAsync(TestTimeouts.Short));
    }

    [Fact]
    public async Task Closing_a_link_that_is_read_ends_the_blocked_read_with_the_close()
    {
        var reader = await ConnectedReaderAsync();
        _client!.Dispose();
        reader.Stop();
        Assert.IsAssignableFrom<Exception>(await reader.Completion.WaitAsync(TestTimeouts.Short));
    }

    [Fact]
    public async Task A_receiver_that_throws_ends_the_reading_with_its_exception_not_the_process()
    {
        _listener.Start();
        var accepted = _listener.AcceptSocketAsync();
        _client = await BlockingSocket.ConnectAsync("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port, CancellationToken.None).WaitAsync(TestTimeouts.Short);
        _server = await accepted.WaitAsync(TestTimeouts.Short);
        var reader = new LinkReader(_client, _ => throw new InvalidOperationException("a receiver's bug"));
        reader.Start();
        _server.Send("x"u8);
        var failure = await reader.Completion.WaitAsync(TestTimeouts.Short);
        Assert.Equal("a receiver's bug", Assert.IsType<InvalidOperationException>(failure).Message);
    }

    /// <summary>
    /// A Pi link send is a blocking write: one that a peer which stopped reading holds up must still end when the caller
    /// cancels, and the link with it, since part of the message may be on the wire.
    /// </summary>
    [Fact]
    public async Task A_pi_link_send_held_up_by_a_peer_that_stopped_reading_ends_with_the_cancellation_and_the_link()
    {
        _listener.Start();
        var accepted = _listener.AcceptSocketAsync();
        var options = new PiLinkConnectOptions
        {
            HostName = "127.0.0.1",
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port,
            Link = PiLinkOptions.Default with { OccupiedWait = TimeSpan.Zero },
        };
        await using var session = await PiLinkSession.ConnectAsync(options, CancellationToken.None).WaitAsync(TestTimeouts.Short);
        _server = await accepted.WaitAsync(TestTimeouts.Short);
        string big = new('x', options.Link.MaxMessageBytes - 1);
        using var cancel = new CancellationTokenSource();
        var sending = Task.Run(async () =>
        {
            while (true) await session.SendAsync(big, cancel.Token);
        });
        await Task.Delay(500);
        Assert.False(sending.IsCompleted, "the peer's window should have filled up and held the send");
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending.WaitAsync(TestTimeouts.Short));
        await Eventually.True(() => session.LinkState == PiLinkState.Disconnected, what: "the link ended with the cancelled send");
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        _server?.Dispose();
        _listener.Stop();
        await Task.CompletedTask;
    }
}
