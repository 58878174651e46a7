using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Webifi;

/// <summary>
/// A Webifi client session (docs/design/webifi.md §4, §6): credentials, then WebSocket or long polling; networks, sending,
/// receiving, discovery, counters. It speaks the official dialect unless the relay answered the DeviceShell
/// capability at login (<see cref="WebifiDialect"/>). When its link breaks it logs in again (a new session id) after
/// a growing pause (<see cref="ReconnectBackoff"/>);
/// a WebSocket that merely dropped is first reconnected by the link itself with the same session id. Nothing is
/// lost: every send stays queued until the relay acknowledged it (<c>rt=s</c> or the upload's <c>~e</c>), and what
/// was not acknowledged goes out again, in order, after the reconnect. Separate
/// sends are never merged into one message (the Python library's coalescing is deliberately not reproduced).
/// A wrong connect name or password is never retried.
/// </summary>
public sealed partial class WebifiSession : DeviceSession, IWebifiLinkOwner
{
    /// <summary>Replaced (never changed) by <see cref="SetTransportAsync"/>; read afresh at every login.</summary>
    private volatile WebifiConnectOptions _options;
    private readonly WebifiCounters _counters = new();

    /// <summary>
    /// The process's HttpClient for this trust, looked up when used rather than kept: a WebSocket session logs in and
    /// upgrades on connections of its own (RelayConnection), so unless a proxy is set it never loads .NET's HTTP stack.
    /// </summary>
    private HttpClient Http => WebifiLogin.SharedHttpClient(_options.TrustedCertificate);
    private readonly ReconnectBackoff _backoff;
    /// <summary>Made on the first numbered message: a session that receives none does not keep one.</summary>
    private WebifiRepeatFilter? _repeats;
    private long _droppedRepeats;
    private readonly object _gate = new();
    private readonly LinkedList<PendingSend> _outgoing = new();
    private TaskCompletionSource _outgoingPosted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Whether a send loop runs (<see cref="StartSendingLocked"/>); under <see cref="_gate"/>.</summary>
    private bool _sending;
    private Task _sender = Task.CompletedTask;
    private readonly CancellationTokenSource _closing = new();
    /// <summary>Completed when the session closes: the supervisor waits on it and on the link, not on a send loop.</summary>
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Action<WebifiDevice>> _discoveryCollectors = new();
    private IReadOnlyList<string> _networks;
    private IReadOnlyDictionary<int, string>? _errorTable;
    private WebifiLink? _link;
    private Task? _supervisor;
    private volatile bool _discoverable;
    private volatile string _name;
    private volatile WebifiError? _lastError;
    private int _sessionId = -1;
    private long _downloadTimeoutTicks;
    private long _reconnects;
    private volatile DeviceException? _refused;
    private volatile WebifiDialect _dialect;
    /// <summary>Set by <see cref="SetTransportAsync"/> until the next link is up.</summary>
    private TaskCompletionSource? _relinked;

    private WebifiSession(WebifiConnectOptions options)
        : base(DeviceWorld.Webifi, options.Server.GetLeftPart(UriPartial.Authority))
    {
        _options = options;
        _networks = options.Networks.Where(n => n.Length > 0).ToArray();
        _discoverable = options.Discoverable;
        _name = options.Name;
        _downloadTimeoutTicks = options.DownloadTimeout.Ticks;
        _backoff = new ReconnectBackoff(options.MaxReconnectDelay);
        Events = new EventBuffer<WebifiEvent>(10_000, this, options.MaxEventBytes, SizeOf);
    }

    /// <summary>The relay's number for this login (-1 before the first); it changes after every reconnect.</summary>
    public int SessionId => Volatile.Read(ref _sessionId);

    /// <summary>The listen-to networks the session has joined (a copy).</summary>
    public string[] Networks
    {
        get { lock (_gate) { return _networks.ToArray(); } }
    }

    /// <summary>WebSocket or long polling, as connected.</summary>
    public WebifiTransport Transport => _options.Transport;

    /// <summary>True when every request goes over TLS (-UseEncryption, or an https:// server).</summary>
    public bool UseEncryption => _options.Encrypted;

    /// <summary>Official unless the relay answered the DeviceShell capability at the last login.</summary>
    public WebifiDialect Dialect => _dialect;

    /// <summary>The credentials server the session logged in through.</summary>
    public Uri Server => _options.Server;

    /// <summary>The connect name (the account) the session logged in with.</summary>
    public string ConnectName => _options.ConnectName;

    /// <summary>The name the session answers discovery requests with.</summary>
    public string Name => _name;

    /// <summary>Whether the session answers discovery requests.</summary>
    public bool Discoverable => _discoverable;

    /// <summary>The long-polling hold time in seconds (see <see cref="SetDownloadTimeout"/>).</summary>
    public double DownloadTimeoutSec => TimeSpan.FromTicks(Interlocked.Read(ref _downloadTimeoutTicks)).TotalSeconds;

    /// <summary>Uploads (WebSocket data frames or /Upload requests, plus cancels), as the Python library counts them.</summary>
    public long UploadCount => _counters.Uploads;

    /// <summary>/Download requests (stays 0 over WebSocket).</summary>
    public long DownloadCount => _counters.Downloads;

    /// <summary>Sends queued and not yet acknowledged by the relay.</summary>
    public int BufferedCount
    {
        get { lock (_gate) { return _outgoing.Count; } }
    }

    /// <summary>True while the session is logged in and its transport is up.</summary>
    public bool Connected => State == DeviceSessionState.Connected;

    /// <summary>How often the session logged in again after a drop.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>The last error code met in the background (networks not set, download errors, a refused re-login).</summary>
    public WebifiError? LastError => _lastError;

    /// <summary>
    /// Received data and status changes, oldest first (Receive-WebifiData and Receive-WebifiStatus take from it).
    /// Discovery requests answered automatically, and Discovery Responses collected by <see cref="DiscoverAsync"/>, are not included.
    /// </summary>
    internal EventBuffer<WebifiEvent> Events { get; }

    /// <inheritdoc/>
    public override long DroppedEvents => Events.Dropped;

    /// <summary>
    /// Messages that arrived a second time and were not passed on (a sender's window sent again after a dropped socket,
    /// or what a relay that was killed had written); only relays that number messages make this possible, see
    /// about_DeviceShell, WEBIFI: EXACTLY ONCE.
    /// </summary>
    public long DroppedRepeats => Interlocked.Read(ref _droppedRepeats);

    /// <inheritdoc/>
    public override int QueuedEvents => Events.Count;

    private EventHandler<WebifiMessage>? _messageReceived;
    private EventHandler<WebifiStatusChange>? _statusChanged;
    private EventHandler<WebifiError>? _errorOccurred;

    /// <summary>Raised (on the buffer's dispatcher task) for every received message; works with Register-ObjectEvent.</summary>
    public event EventHandler<WebifiMessage>? MessageReceived { add => Events.AddTypedHandler(ref _messageReceived, value, RaiseTypedEvent); remove => Events.RemoveTypedHandler(ref _messageReceived, value); }

    /// <summary>Raised for every connection-status change and background error, in order with the messages.</summary>
    public event EventHandler<WebifiStatusChange>? StatusChanged { add => Events.AddTypedHandler(ref _statusChanged, value, RaiseTypedEvent); remove => Events.RemoveTypedHandler(ref _statusChanged, value); }

    /// <summary>Raised for every background error code (the <see cref="WebifiStatusKind.Error"/> status changes).</summary>
    public event EventHandler<WebifiError>? ErrorOccurred { add => Events.AddTypedHandler(ref _errorOccurred, value, RaiseTypedEvent); remove => Events.RemoveTypedHandler(ref _errorOccurred, value); }

    /// <summary>Logs in and opens the transport. Fails at once (no retry) when the server cannot be reached or refuses the login.</summary>
    public static async Task<WebifiSession> ConnectAsync(WebifiConnectOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ConnectName.Length == 0 || options.ConnectPassword.Length == 0)
            throw new DeviceException(DeviceErrorKind.InvalidArgument, "WebifiCredentialMissing", "A Webifi login needs a connect name and a connect password (error 8).");
        var session = new WebifiSession(options);
        try
        {
            var link = await session.OpenLinkAsync(cancellationToken).ConfigureAwait(false);
            session._supervisor = session.SuperviseAsync(link);
            return session;
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The description of <paramref name="code"/> from the relay's table, else the official fallback text.</summary>
    public string GetErrorText(int code)
    {
        var table = _errorTable;
        return WebifiErrorCode.Describe(code, table);
    }

    /// <summary>Whether the session answers discovery requests, from now on.</summary>
    public void SetDiscoverable(bool discoverable) => _discoverable = discoverable;

    /// <summary>The name the session answers discovery requests with, from now on.</summary>
    public void SetName(string name) => _name = name;

    /// <summary>The long-polling hold time, used from the next login on (10 to 1800 s, as the Python library clamps it).</summary>
    public void SetDownloadTimeout(TimeSpan timeout) =>
        Interlocked.Exchange(ref _downloadTimeoutTicks, Math.Clamp(timeout.Ticks, TimeSpan.FromSeconds(10).Ticks, TimeSpan.FromSeconds(1800).Ticks));

    /// <summary>Turns a Webifi error code into the exception the cmdlets write as an error record.</summary>
    public DeviceException ErrorFor(int code, string context, object? target = null)
    {
        var table = _errorTable;
        string text = table is not null && table.TryGetValue(code, out string? own) ? own
            : WebifiErrorCode.DefaultDescriptions.TryGetValue(code, out string? known) ? known : WebifiErrorCode.FallbackText;
        var (kind, id) = code switch
        {
            WebifiErrorCode.NotDelivered => (DeviceErrorKind.NotFound, "WebifiNotDelivered"),
            WebifiErrorCode.NotAllNetworksSet => (DeviceErrorKind.InvalidArgument, "WebifiNetworkNotSet"),
            WebifiErrorCode.InvalidCredentials => (DeviceErrorKind.Authentication, "WebifiAuthenticationFailed"),
            WebifiErrorCode.SessionExpired or WebifiErrorCode.ConnectionFailed => (DeviceErrorKind.Connection, "WebifiConnectionFailed"),
            _ => (DeviceErrorKind.Protocol, "WebifiProtocolError"),
        };
        return new DeviceException(kind, id, $"Webifi error {code} ({context}): {text}", target ?? this);
    }

    void IWebifiLinkOwner.Deliver(int from, string dataType, byte[] data, WebifiMessageId? id) => OnReceived(from, dataType, data, id);

    void IWebifiLinkOwner.Report(int code, string context) => OnReport(code, context);

    void IWebifiLinkOwner.ChangeState(DeviceSessionState state) => ChangeState(state);

    private void OnReceived(int from, string dataType, byte[] data, WebifiMessageId? id)
    {
        if (id is { } messageId && !LazyInitializer.EnsureInitialized(ref _repeats).IsNew(from, messageId))
        {
            Interlocked.Increment(ref _droppedRepeats);
            return;
        }
        RecordReceived(from, dataType, data, id);
        var now = DateTime.Now;
        if (TakeDiscovery(from, dataType, data, now)) return;
        Events.Post(new WebifiMessage(data, dataType, from, now));
    }

    private void OnReport(int code, string context)
    {
        var error = new WebifiError(code, GetErrorText(code), context, DateTime.Now);
        _lastError = error;
        RecordBackgroundError(code, context);
        Events.Post(new WebifiStatusChange(WebifiStatusKind.Error, error, error.At));
    }

    /// <summary>Sets the session state and reports a real change as a status change, in order with the messages.</summary>
    private void ChangeState(DeviceSessionState state)
    {
        var previous = State;
        SetState(state);
        if (previous == state) return;
        var kind = state switch
        {
            DeviceSessionState.Connected => WebifiStatusKind.Connected,
            DeviceSessionState.Reconnecting => WebifiStatusKind.Reconnecting,
            _ => WebifiStatusKind.Disconnected,
        };
        Events.Post(new WebifiStatusChange(kind, null, DateTime.Now));
    }

    /// <summary>What an event counts for against <see cref="WebifiConnectOptions.MaxEventBytes"/>: its payload and data type plus the objects around them.</summary>
    private static int SizeOf(WebifiEvent item) => item switch
    {
        WebifiMessage message => message.Bytes.Length + 2 * message.DataType.Length + 2 * EventBuffer<WebifiEvent>.DefaultItemSize,
        _ => EventBuffer<WebifiEvent>.DefaultItemSize,
    };

    private bool RaiseTypedEvent(WebifiEvent item) => item switch
    {
        WebifiMessage message => EventBuffer<WebifiEvent>.InvokeEach(_messageReceived, this, message),
        WebifiStatusChange { Error: { } error } change =>
            EventBuffer<WebifiEvent>.InvokeEach(_statusChanged, this, change) | EventBuffer<WebifiEvent>.InvokeEach(_errorOccurred, this, error),
        WebifiStatusChange change => EventBuffer<WebifiEvent>.InvokeEach(_statusChanged, this, change),
        _ => false,
    };

    /// <summary>Stops the supervisor, closes the link within 2 s, fails the unacknowledged sends with WebifiSessionClosed and ends the event buffer.</summary>
    protected override async ValueTask CloseCoreAsync()
    {
        _closing.Cancel();
        _closed.TrySetResult();
        if (_supervisor is not null) await _supervisor.ConfigureAwait(false);
        var link = _link;
        if (link is not null)
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await link.CloseAsync(limit.Token).ConfigureAwait(false);
            await link.DisposeAsync().ConfigureAwait(false);
        }
        FailQueued(new DeviceException(DeviceErrorKind.InvalidOperation, "WebifiSessionClosed", "The Webifi session was closed before the relay acknowledged this send.", this));
        Events.Dispose();
    }

    /// <summary>Id, connect name, endpoint, transport, relay session id and state.</summary>
    public override string ToString() => $"Webifi session {Id} ({ConnectName}@{Endpoint}, {Transport}, session id {SessionId}, {State})";
}
