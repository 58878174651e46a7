using System.Net;
using System.Net.Sockets;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Tests.Bricks;

/// <summary>
/// docs/design/decisions.md §12.6: a daemon that accepts and then stops reading. Writes fill the socket buffers and then stall;
/// every write must still honour its caller's cancellation and the request timeout, and the link must be declared
/// dead (and auto-reconnect start) once its writes stall past the probe interval.
/// </summary>
public sealed class StalledWriteTests : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _accepted = new();
    private readonly CancellationTokenSource _stop = new();

    public StalledWriteTests()
    {
        // Small buffers on the daemon's side: the client's writes stall after a few kilobytes, not megabytes.
        _listener.Server.ReceiveBufferSize = 4096;
        _listener.Start();
        _ = AcceptAndNeverReadAsync();
    }

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private int AcceptedCount
    {
        get { lock (_accepted) { return _accepted.Count; } }
    }

    private async Task AcceptAndNeverReadAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                lock (_accepted) { _accepted.Add(socket); }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopped.
        }
    }

    private BrickConnectOptions Options(TimeSpan probeInterval) => new()
    {
        HostName = "127.0.0.1",
        Port = Port,
        Timeout = TimeSpan.FromSeconds(1),
        DisconnectProbeInterval = probeInterval,
        ReconnectInterval = TimeSpan.FromMilliseconds(50),
    };

    /// <summary>Sends 64-byte requests without response until one fails; returns how it failed.</summary>
    private static async Task<Exception> SendUntilFailureAsync(BrickSession session, CancellationToken cancellationToken)
    {
        var payload = new byte[TfpPacket.MaxPayloadLength];
        while (true)
        {
            try
            {
                await session.SendRequestAsync(12345, 5, payload, responseExpected: false, cancellationToken: cancellationToken);
            }
            catch (Exception ex)
            {
                return ex;
            }
        }
    }

    [Fact]
    public async Task A_send_without_response_honours_its_cancellation_once_the_socket_buffer_is_full()
    {
        // The probe is far away: only the caller's cancellation can end the stalled write here.
        await using var session = await BrickSession.ConnectAsync(Options(TimeSpan.FromMinutes(5)) with { Timeout = TimeSpan.FromMinutes(5) }).Within();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var error = await SendUntilFailureAsync(session, cancel.Token).Within(TestTimeouts.Long);
        Assert.IsAssignableFrom<OperationCanceledException>(error);
    }

    [Fact]
    public async Task A_send_without_response_fails_after_the_request_timeout_once_the_socket_buffer_is_full()
    {
        await using var session = await BrickSession.ConnectAsync(Options(TimeSpan.FromMinutes(5))).Within();
        var error = await SendUntilFailureAsync(session, CancellationToken.None).Within(TestTimeouts.Long);
        var deviceError = Assert.IsType<DeviceException>(error);
        Assert.Contains(deviceError.ErrorId, new[] { "RequestTimeout", "ConnectionLost" });
    }

    [Fact]
    public async Task A_link_whose_writes_stall_past_the_probe_interval_is_dropped_and_auto_reconnect_starts()
    {
        await using var session = await BrickSession.ConnectAsync(Options(TimeSpan.FromMilliseconds(500)) with { Timeout = TimeSpan.FromMinutes(5) }).Within();
        var disconnected = new TaskCompletionSource<BrickEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.Disconnected += (_, e) => disconnected.TrySetResult(e);
        // A writer in the background fills the buffer and then stalls; nobody cancels it.
        var writer = SendUntilFailureAsync(session, CancellationToken.None);
        var lost = await disconnected.Task.Within(TestTimeouts.Long);
        Assert.Equal(nameof(BrickDisconnectReason.Error), lost.Reason);
        Assert.IsType<DeviceException>(await writer.Within());
        // Auto-reconnect opens a new connection to the daemon.
        await Eventually.True(() => AcceptedCount >= 2, what: "auto-reconnect to open a new connection");
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_accepted) { foreach (var socket in _accepted) socket.Dispose(); }
        return ValueTask.CompletedTask;
    }
}
