using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DeviceShell.Engine.PiLink.Gpio;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.PiLink;

/// <summary>
/// A tcpcom-compatible server (docs/design/pilink-tcpcom.md §3): one client at a time, a newcomer closed at once with no event,
/// states PORT_IN_USE / LISTENING / CONNECTED / MESSAGE / TERMINATED with tcpcom's texts, optional idle timeout and
/// terminator. It is a <see cref="DeviceSession"/> of the PiLink world (decided so that one registry, Get-DeviceSession,
/// Receive-PiLinkMessage and Send-PiLinkMessage cover servers and clients alike): <see cref="DeviceSession.State"/>
/// is Connected while a client is connected, Disconnected while listening, Closed once terminated.
/// Fixed upstream bugs: a failed bind reports PORT_IN_USE (Python only printed), CONNECTED is queued before
/// the client's first MESSAGE (upstream started the reader first), and the idle timeout fires for any duration.
/// Hardened for exposed use (docs/design/decisions.md §12): TCP keep-alive on every accepted socket, messages bounded on the wire
/// (<see cref="PiLinkOptions.MaxMessageBytes"/>) and in the queue (<see cref="PiLinkOptions.QueueMaxBytes"/>), and an
/// accept loop that outlives descriptor exhaustion (<see cref="SocketAcceptLoop"/>).
/// </summary>
public sealed class PiLinkServer : PiLinkEndpoint
{
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private TcpListener? _listener;
    private Task? _acceptLoop;
    private ClientLink? _client;
    private int _linkState = (int)PiLinkState.Listening;
    private int _port;
    private long _refused;

    /// <summary>A server (not started yet) for <paramref name="port"/>; <see cref="Start"/> binds and listens.</summary>
    /// <param name="port">The TCP port, 0 to 65535 (0 lets the system choose; <see cref="Port"/> then tells which).</param>
    /// <param name="options">The link's settings; null for <see cref="PiLinkOptions.Default"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">For a port outside 0 to 65535.</exception>
    public PiLinkServer(int port, PiLinkOptions? options = null)
        : base($"{(options ?? PiLinkOptions.Default).BindAddress}:{port}", options ?? PiLinkOptions.Default)
    {
        if (port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "A port is 0 to 65535.");
        _port = port;
    }

    /// <summary>The listening port (the one chosen by the system when 0 was asked for).</summary>
    public int Port => Volatile.Read(ref _port);

    /// <summary>LISTENING, CONNECTED while a client is connected, PORT_IN_USE or TERMINATED.</summary>
    public override PiLinkState LinkState => (PiLinkState)Volatile.Read(ref _linkState);

    /// <summary>The connected client's IP address, or null.</summary>
    public string? ClientAddress
    {
        get { lock (_gate) { return _client?.Address; } }
    }

    /// <summary>Clients that were turned away because another one was connected.</summary>
    public long RefusedClients => Interlocked.Read(ref _refused);

    /// <summary>
    /// Called for every received message on the reader task; a non-null result is sent back to the client.
    /// Set before <see cref="Start"/>.
    /// </summary>
    public Func<string, string?>? Responder { get; init; }

    /// <summary>Hears the accept loop's trouble (descriptors exhausted and the like), one line per burst; null: nobody.</summary>
    public Action<string>? Warn { get; init; }

    /// <summary>The button this server reads (button servers only); closed with the server.</summary>
    public PiButton? Button { get; init; }

    /// <summary>Starts listening and queues LISTENING(port).</summary>
    /// <exception cref="DeviceException">PiLinkPortInUse (ResourceUnavailable) after queueing PORT_IN_USE(port);
    /// PiLinkAddressNotAvailable (InvalidArgument) when the bind address is not one of this machine's.</exception>
    public void Start()
    {
        if (_listener is not null || LinkState != PiLinkState.Listening)
            throw new InvalidOperationException("A Pi link server starts once; create a new one to listen again.");
        var listener = new TcpListener(Options.BindAddress, Port);
        try
        {
            listener.Start(10);
        }
        catch (SocketException ex)
        {
            SetLinkState(PiLinkState.PortInUse);
            Report(PiLinkState.PortInUse, PortText, null);
            SetState(DeviceSessionState.Disconnected);
            if (ex.SocketErrorCode == SocketError.AddressNotAvailable)
                throw new DeviceException(DeviceErrorKind.InvalidArgument, "PiLinkAddressNotAvailable",
                    $"The server cannot listen on {Options.BindAddress}: it is not an address of this machine ({ex.Message}).", Options.BindAddress.ToString(), ex);
            throw new DeviceException(DeviceErrorKind.ResourceUnavailable, "PiLinkPortInUse",
                $"PORT_IN_USE: the server cannot listen on {Options.BindAddress}:{Port} ({ex.Message}).", Port, ex);
        }
        _listener = listener;
        Volatile.Write(ref _port, ((IPEndPoint)listener.LocalEndpoint).Port);
        Endpoint = $"{Options.BindAddress}:{Port}";
        BecomeListening();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    private string PortText => Port.ToString(CultureInfo.InvariantCulture);

    private void SetLinkState(PiLinkState state) => Volatile.Write(ref _linkState, (int)state);

    private void BecomeListening()
    {
        SetLinkState(PiLinkState.Listening);
        Report(PiLinkState.Listening, PortText, null);
        SetState(DeviceSessionState.Disconnected);
    }

    private Task AcceptLoopAsync() =>
        SocketAcceptLoop.RunAsync(_listener!, Accept, message => Warn?.Invoke($"Pi link server on port {Port}: {message}"), _stopping.Token);

    /// <summary>Takes an accepted socket as the client, or turns it away; never blocks the accept loop.</summary>
    private void Accept(Socket socket)
    {
        var connection = new PiLinkConnection(socket, Options);
        string address;
        try
        {
            address = ((IPEndPoint)socket.RemoteEndPoint!).Address.MapToIPv4().ToString();
        }
        catch (SocketException)
        {
            connection.Close(); // the peer reset before we looked at it
            return;
        }
        lock (_gate)
        {
            if (_client is not null || _stopping.IsCancellationRequested)
            {
                // tcpcom's one-client rule: the newcomer is closed at once and the server says nothing.
                Interlocked.Increment(ref _refused);
                connection.Close();
                return;
            }
            var link = new ClientLink(connection, address);
            _client = link;
            SetLinkState(PiLinkState.Connected);
            Report(PiLinkState.Connected, address, address);
            SetState(DeviceSessionState.Connected);
            link.Reader = Task.Run(() => ServeAsync(link));
        }
    }

    /// <summary>
    /// Serves one client until it leaves. The idle timeout counts from the last complete message: bytes that never
    /// make a message (a peer trickling data with no terminator) do not keep a silent client's hold on the server.
    /// </summary>
    private async Task ServeAsync(ClientLink link)
    {
        using var idle = Options.IdleTimeout is TimeSpan limit
            ? new Timer(_ => EndLink(link), null, limit, Timeout.InfiniteTimeSpan)
            : null;
        await link.Connection.ReadAsync(frame =>
        {
            if (frame.IsOversized)
            {
                ReportOversized(frame.OversizedBytes, link.Address);
                return;
            }
            idle?.Change(Options.IdleTimeout!.Value, Timeout.InfiniteTimeSpan);
            Deliver(frame.Text!, link.Address);
            string? answer = Answer(frame.Text!);
            if (answer is null) return;
            try
            {
                // On the reader thread, as tcpcom's server thread answers: the send is a blocking write that completes
                // at once unless the client stopped reading, and then the next message would wait for it anyway.
                SendAsync(answer, _stopping.Token).GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is DeviceException or OperationCanceledException)
            {
                // The client left while we answered; the reader ends on its own.
            }
        }).ConfigureAwait(false);
        EndLink(link);
        FailPendingReplies();
    }

    /// <summary>
    /// Frees the client slot, then closes the connection (idempotent). In that order so that a client that waits for
    /// our close (a disconnecting PiLinkSession, or one that was timed out) can connect again at once.
    /// </summary>
    private void EndLink(ClientLink link)
    {
        lock (_gate)
        {
            if (_client == link)
            {
                _client = null;
                if (!_stopping.IsCancellationRequested) BecomeListening();
            }
        }
        link.Connection.Close();
    }

    private string? Answer(string text)
    {
        if (Responder is null) return null;
        try
        {
            return Responder(text);
        }
        catch (DeviceException)
        {
            return null; // e.g. the GPIO line went away: no answer rather than a dead reader
        }
    }

    /// <summary>Closes the current client's connection (tcpcom's disconnect()); the server keeps listening.</summary>
    public async Task DisconnectClientAsync()
    {
        ClientLink? link;
        lock (_gate) { link = _client; }
        if (link is null) return;
        EndLink(link);
        await link.Reader!.ConfigureAwait(false);
    }

    private protected override async Task SendCoreAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        ClientLink? link;
        lock (_gate) { link = _client; }
        if (link is null) throw NotConnected($"No client of the server on port {Port}", this);
        try
        {
            await link.Connection.SendAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            throw SendFailed(ex, this);
        }
    }

    /// <summary>tcpcom's terminate(): closes the client and the listener, then queues TERMINATED("").</summary>
    protected override async ValueTask CloseCoreAsync()
    {
        ClientLink? link;
        lock (_gate)
        {
            _stopping.Cancel();
            link = _client;
        }
        _listener?.Stop();
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        if (link is not null)
        {
            link.Connection.Close();
            await link.Reader!.ConfigureAwait(false);
        }
        if (LinkState != PiLinkState.PortInUse)
        {
            SetLinkState(PiLinkState.Terminated);
            Report(PiLinkState.Terminated, "", null);
        }
        Button?.Dispose();
    }

    /// <summary>Id, port and tcpcom's state name, e.g. "PiLink server 3 (port 22000, LISTENING)".</summary>
    public override string ToString() => $"PiLink server {Id} (port {Port}, {PiLinkMessage.NameOf(LinkState)})";

    private sealed class ClientLink
    {
        public ClientLink(PiLinkConnection connection, string address)
        {
            Connection = connection;
            Address = address;
        }

        public PiLinkConnection Connection { get; }

        public string Address { get; }

        public Task? Reader { get; set; }
    }
}
