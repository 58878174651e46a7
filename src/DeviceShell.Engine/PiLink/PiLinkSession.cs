using System.Globalization;
using System.Net.Sockets;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.PiLink;

/// <summary>
/// A tcpcom-compatible client (pilink-tcpcom.md §4): CONNECTING, then CONNECTION_FAILED, SERVER_OCCUPIED (followed by
/// DISCONNECTED, always in that order) or CONNECTED; MESSAGE per received message; DISCONNECTED("") when the link ends.
/// Fixed upstream bugs: <see cref="IsConnected"/> turns false when the server closes the link (upstream kept it true);
/// the occupied probe lasts <see cref="PiLinkOptions.OccupiedWait"/> instead of a fixed 2 s; the reply wait returns the reply
/// (<see cref="PiLinkEndpoint.SendAndReceiveReplyAsync"/>); messages that arrive during the probe are queued after CONNECTED.
/// A session connects once; after DISCONNECTED, connect a new one.
/// </summary>
public sealed class PiLinkSession : PiLinkEndpoint
{
    private readonly object _gate = new();
    private readonly TaskCompletionSource _linkEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _heldBack = new();
    private PiLinkConnection? _connection;
    private Task? _reader;
    private bool _announced;
    private int _connectStarted;

    public PiLinkSession(string hostName, int port, PiLinkOptions? options = null)
        : base($"{hostName}:{port.ToString(CultureInfo.InvariantCulture)}", options ?? PiLinkOptions.Default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostName);
        if (port is < 1 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "A port is 1 to 65535.");
        HostName = hostName;
        Port = port;
    }

    public string HostName { get; }

    public int Port { get; }

    /// <summary>True from CONNECTED until DISCONNECTED, whoever closed the link.</summary>
    public bool IsConnected
    {
        get { lock (_gate) { return _announced; } }
    }

    public override PiLinkState LinkState
    {
        get
        {
            lock (_gate)
            {
                if (_announced) return PiLinkState.Connected;
                return _connectStarted == 0 || _connection is not null && !_linkEnded.Task.IsCompleted ? PiLinkState.Connecting : PiLinkState.Disconnected;
            }
        }
    }

    /// <summary>
    /// Connects and reports the outcome as tcpcom's connect() would (its bool becomes the returned state):
    /// <see cref="PiLinkState.Connected"/>, <see cref="PiLinkState.ConnectionFailed"/> or <see cref="PiLinkState.ServerOccupied"/>.
    /// Every state change is queued for Receive-PiLinkMessage and raised as <see cref="PiLinkEndpoint.MessageReceived"/> as well.
    /// </summary>
    public async Task<PiLinkState> ConnectAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _connectStarted, 1) == 1)
            throw new InvalidOperationException("This Pi link session has been connected before; open a new one.");
        string peer = Endpoint;
        Report(PiLinkState.Connecting, peer, peer);
        SetState(DeviceSessionState.Connecting);

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(Options.ConnectTimeout);
            await socket.ConnectAsync(HostName, Port, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            LastError = ex is SocketException socketError ? socketError.Message : $"no answer within {Options.ConnectTimeout.TotalSeconds:0.###} s";
            Report(PiLinkState.ConnectionFailed, peer, peer);
            SetState(DeviceSessionState.Disconnected);
            return PiLinkState.ConnectionFailed;
        }

        var connection = new PiLinkConnection(socket, Options);
        lock (_gate)
        {
            _connection = connection;
            _reader = Task.Run(() => ReadAsync(connection, peer), CancellationToken.None);
        }

        // The probe: a server that already has a client closes this socket at once (one-client rule).
        bool refused = await Task.WhenAny(_linkEnded.Task, Task.Delay(Options.OccupiedWait, cancellationToken)).ConfigureAwait(false) == _linkEnded.Task;
        if (cancellationToken.IsCancellationRequested)
        {
            connection.Close();
            cancellationToken.ThrowIfCancellationRequested();
        }
        lock (_gate)
        {
            refused = refused || _linkEnded.Task.IsCompleted;
            if (refused)
            {
                LastError = "the server closed the connection at once: it serves another client";
                Report(PiLinkState.ServerOccupied, peer, peer);
                Report(PiLinkState.Disconnected, "", peer);
                SetState(DeviceSessionState.Disconnected);
                return PiLinkState.ServerOccupied;
            }
            _announced = true;
            Report(PiLinkState.Connected, peer, peer);
            foreach (string text in _heldBack) Deliver(text, peer);
            _heldBack.Clear();
            SetState(DeviceSessionState.Connected);
            return PiLinkState.Connected;
        }
    }

    /// <summary>Why the last connect did not end in CONNECTED (no secrets), else null.</summary>
    public string? LastError { get; private set; }

    private async Task ReadAsync(PiLinkConnection connection, string peer)
    {
        await connection.ReadAsync(frame =>
        {
            lock (_gate)
            {
                if (frame.IsOversized)
                    Report(PiLinkState.MessageTooLarge, $"{frame.OversizedBytes} bytes without a terminator (limit {Options.MaxMessageBytes})", peer);
                else if (_announced)
                    Deliver(frame.Text!, peer);
                else
                    _heldBack.Add(frame.Text!);
            }
            return ValueTask.CompletedTask;
        }).ConfigureAwait(false);
        connection.Close();
        lock (_gate)
        {
            _linkEnded.TrySetResult();
            if (!_announced) return; // refused during the probe: ConnectAsync reports it
            _announced = false;
            Report(PiLinkState.Disconnected, "", peer);
            SetState(DeviceSessionState.Disconnected);
        }
    }

    /// <summary>How long a disconnect waits for the server to close its end after ours.</summary>
    private static readonly TimeSpan ServerCloseWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// tcpcom's disconnect(): closes the link; DISCONNECTED("") is queued once the reader has seen it end.
    /// It half-closes first and waits (at most <see cref="ServerCloseWait"/>) for the server to close its end: a
    /// server frees its one client slot when it sees our end, so a connect right after a disconnect finds it free
    /// instead of being refused as SERVER_OCCUPIED by a server that has not yet noticed.
    /// </summary>
    public async Task DisconnectAsync()
    {
        PiLinkConnection? connection;
        Task? reader;
        lock (_gate)
        {
            connection = _connection;
            reader = _reader;
        }
        if (connection is null) return;
        connection.ShutdownSend();
        try
        {
            await reader!.WaitAsync(ServerCloseWait).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The server keeps its end open: close ours regardless.
        }
        connection.Close();
        await reader!.ConfigureAwait(false);
    }

    private protected override async Task SendCoreAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        PiLinkConnection? connection;
        lock (_gate) { connection = _announced ? _connection : null; }
        if (connection is null) throw NotConnected(ToString(), this);
        try
        {
            await connection.SendAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // As tcpcom does: a failed send ends the link.
            connection.Close();
            throw SendFailed(ex, this);
        }
    }

    protected override ValueTask CloseCoreAsync() => new(DisconnectAsync());
}
