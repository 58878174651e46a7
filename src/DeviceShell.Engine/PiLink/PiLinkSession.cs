using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.PiLink;

/// <summary>
/// A tcpcom-compatible client (docs/design/pilink-tcpcom.md §4): CONNECTING, then CONNECTION_FAILED, SERVER_OCCUPIED (followed by
/// DISCONNECTED, always in that order) or CONNECTED; MESSAGE per received message; DISCONNECTED("") when the link ends.
/// Fixed upstream bugs: <see cref="IsConnected"/> turns false when the server closes the link (upstream kept it true);
/// the reply wait returns the reply (<see cref="PiLinkEndpoint.SendAndReceiveReplyAsync"/>); messages that arrive during
/// the probe are queued after CONNECTED. A session connects once; after DISCONNECTED, connect a new one.
/// <para>
/// Connect in milliseconds, SERVER_OCCUPIED kept (docs/design/decisions.md §13.5): tcpcom blocks 2 s after every connect to see whether the
/// server closes the socket at once (its one-client rule). A refusal costs the server one accept and the network one
/// trip, so this client watches only for <see cref="ProbeWindowFor"/> the measured TCP handshake (50 ms on loopback
/// and a LAN, longer on slow links) and then reports CONNECTED. A refusal that comes later still than that, within
/// tcpcom's 2 s and before either side sent anything, is what tcpcom would have called SERVER_OCCUPIED: it is reported
/// as SERVER_OCCUPIED then DISCONNECTED after the CONNECTED, so no refusal passes as an ordinary disconnect.
/// An explicit <see cref="PiLinkOptions.OccupiedWait"/> replaces the measured window, and then a close after it is
/// an ordinary DISCONNECTED: the user said how long a refusal may take.
/// </para>
/// </summary>
public sealed class PiLinkSession : PiLinkEndpoint
{
    private readonly object _gate = new();
    private readonly TaskCompletionSource _linkEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _heldBack = new();
    private PiLinkConnection? _connection;
    private Task? _reader;
    private bool _announced;
    private bool _disconnecting;
    private long _connectedAt;
    private int _connectStarted;

    /// <summary>The shortest probe window: a loaded server's accept loop may take some milliseconds to turn a client away.</summary>
    public static readonly TimeSpan MinimumProbeWindow = TimeSpan.FromMilliseconds(50);

    /// <summary>tcpcom's own probe window: a close within it, before any traffic, is its SERVER_OCCUPIED.</summary>
    public static readonly TimeSpan TcpcomProbeWindow = TimeSpan.FromSeconds(2);

    /// <summary>The probe window for a TCP handshake that took <paramref name="handshake"/>: four of them, at least
    /// <see cref="MinimumProbeWindow"/>, at most tcpcom's 2 s.</summary>
    public static TimeSpan ProbeWindowFor(TimeSpan handshake) =>
        TimeSpan.FromTicks(Math.Clamp(handshake.Ticks * 4, MinimumProbeWindow.Ticks, TcpcomProbeWindow.Ticks));

    /// <summary>How long the last connect watched for SERVER_OCCUPIED before CONNECTED (zero before a connect).</summary>
    public TimeSpan ProbeWindow { get; private set; }

    /// <summary>
    /// Connects a client: the session once it is CONNECTED (with CONNECTING and CONNECTED queued, as tcpcom reports
    /// them). A server that serves another client and closes the connection at once fails with PiLinkServerOccupied
    /// (SERVER_OCCUPIED), anything else that keeps the link from coming up with PiLinkConnectionFailed
    /// (CONNECTION_FAILED); the session is closed then. Cancellation throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task<PiLinkSession> ConnectAsync(PiLinkConnectOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var session = new PiLinkSession(options.HostName, options.Port, options.Link);
        PiLinkState outcome;
        try
        {
            outcome = await session.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        if (outcome == PiLinkState.Connected) return session;
        await session.DisposeAsync().ConfigureAwait(false);
        throw outcome == PiLinkState.ServerOccupied
            ? new DeviceException(DeviceErrorKind.ResourceUnavailable, "PiLinkServerOccupied",
                $"SERVER_OCCUPIED: {session.Endpoint} serves another client and closed this connection.", session.Endpoint)
            : new DeviceException(DeviceErrorKind.Connection, "PiLinkConnectionFailed",
                $"CONNECTION_FAILED: {session.Endpoint}: {session.LastError}.", session.Endpoint);
    }

    /// <summary>A client not yet connected; <see cref="ConnectAsync(CancellationToken)"/> connects it once.</summary>
    internal PiLinkSession(string hostName, int port, PiLinkOptions? options = null)
        : base($"{hostName}:{port.ToString(CultureInfo.InvariantCulture)}", options ?? PiLinkOptions.Default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostName);
        if (port is < 1 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "A port is 1 to 65535.");
        HostName = hostName;
        Port = port;
    }

    /// <summary>The server's host name, as given.</summary>
    public string HostName { get; }

    /// <summary>The server's port.</summary>
    public int Port { get; }

    /// <summary>True from CONNECTED until DISCONNECTED, whoever closed the link.</summary>
    public bool IsConnected
    {
        get { lock (_gate) { return _announced; } }
    }

    /// <summary>CONNECTING, CONNECTED, CONNECTION_FAILED, SERVER_OCCUPIED or DISCONNECTED, as tcpcom's client reports it.</summary>
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
    internal async Task<PiLinkState> ConnectAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _connectStarted, 1) == 1)
            throw new InvalidOperationException("This Pi link session has been connected before; open a new one.");
        string peer = Endpoint;
        Report(PiLinkState.Connecting, peer, peer);
        SetState(DeviceSessionState.Connecting);

        Socket socket;
        long handshakeStarted = Stopwatch.GetTimestamp();
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(Options.ConnectTimeout);
            socket = await BlockingSocket.ConnectAsync(HostName, Port, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            LastError = ex is SocketException socketError ? socketError.Message : $"no answer within {Options.ConnectTimeout.TotalSeconds:0.###} s";
            Report(PiLinkState.ConnectionFailed, peer, peer);
            SetState(DeviceSessionState.Disconnected);
            return PiLinkState.ConnectionFailed;
        }

        ProbeWindow = Options.OccupiedWait ?? ProbeWindowFor(KernelRoundTrip(socket) ?? Stopwatch.GetElapsedTime(handshakeStarted));
        var connection = new PiLinkConnection(socket, Options);
        lock (_gate)
        {
            _connection = connection;
            _connectedAt = Environment.TickCount64;
            _reader = Task.Run(() => ReadAsync(connection, peer), CancellationToken.None);
        }

        // The probe: a server that already has a client closes this socket at once (one-client rule).
        bool refused = await Task.WhenAny(_linkEnded.Task, Task.Delay(ProbeWindow, cancellationToken)).ConfigureAwait(false) == _linkEnded.Task;
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
                LastError = OccupiedError;
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

    /// <summary>
    /// The round trip the kernel measured on the handshake (Linux TCP_INFO tcpi_rtt), or null where it cannot be read.
    /// Preferred over timing ConnectAsync, which on a busy machine times our thread scheduling rather than the network;
    /// the fallback includes name resolution, which only lengthens the window.
    /// </summary>
    private static TimeSpan? KernelRoundTrip(Socket socket)
    {
        if (!OperatingSystem.IsLinux()) return null;
        Span<byte> info = stackalloc byte[TcpInfoRttOffset + sizeof(uint)];
        try
        {
            int length = socket.GetRawSocketOption(IpProtocolTcp, TcpInfo, info);
            return length < info.Length ? null : TimeSpan.FromMicroseconds(MemoryMarshal.Read<uint>(info[TcpInfoRttOffset..]));
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private const int IpProtocolTcp = 6;
    private const int TcpInfo = 11;

    /// <summary>Where struct tcp_info (linux/tcp.h) holds tcpi_rtt, microseconds: after 8 one-byte fields and 15 u32s.</summary>
    private const int TcpInfoRttOffset = 68;

    /// <summary>Why the last connect did not end in CONNECTED, or why the link was refused after it (no secrets), else null.</summary>
    public string? LastError { get; private set; }

    private const string OccupiedError = "the server closed the connection at once: it serves another client";

    private async Task ReadAsync(PiLinkConnection connection, string peer)
    {
        await connection.ReadAsync(frame =>
        {
            lock (_gate)
            {
                if (frame.IsOversized)
                    ReportOversized(frame.OversizedBytes, peer);
                else if (_announced)
                    Deliver(frame.Text!, peer);
                else
                    _heldBack.Add(frame.Text!);
            }
        }).ConfigureAwait(false);
        connection.Close();
        lock (_gate)
        {
            _linkEnded.TrySetResult();
            if (!_announced) return; // refused during the probe: ConnectAsync reports it
            _announced = false;
            if (IsLateRefusal())
            {
                LastError = OccupiedError;
                Report(PiLinkState.ServerOccupied, peer, peer);
            }
            Report(PiLinkState.Disconnected, "", peer);
            SetState(DeviceSessionState.Disconnected);
        }
        FailPendingReplies();
    }

    /// <summary>With a measured probe: the server closed within tcpcom's probe window, before either side sent a message (under the gate).</summary>
    private bool IsLateRefusal() =>
        Options.OccupiedWait is null
        && !_disconnecting
        && Environment.TickCount64 - _connectedAt < (long)TcpcomProbeWindow.TotalMilliseconds
        && MessagesReceived == 0 && MessagesSent == 0 && _heldBack.Count == 0;

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
            _disconnecting = true;
        }
        if (connection is null) return;
        // So that a replay can tell the client's own disconnect from a dropped link (docs/recording-format.md).
        if (Recording is not null) Record("close");
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

    /// <summary>Disconnects (DISCONNECTED is reported if the link was up).</summary>
    protected override ValueTask CloseCoreAsync() => new(DisconnectAsync());
}
