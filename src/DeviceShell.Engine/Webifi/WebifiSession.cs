using System.Net.WebSockets;
using System.Text;
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
public sealed class WebifiSession : DeviceSession
{
    /// <summary>Messages handed to the link at once in the DeviceShell dialect: one /Upload, or a few WebSocket frames.</summary>
    private const int BatchSize = 64;

    /// <summary>
    /// Messages sent and not yet acknowledged in the DeviceShell dialect (WebSocket; long polling has one upload in
    /// flight at a time). The official dialect has one.
    /// </summary>
    private const int Window = 512;

    /// <summary>A link that lived this long was healthy: the next re-login after it breaks starts the back-off over.</summary>
    private static readonly TimeSpan HealthyLinkAge = TimeSpan.FromMinutes(1);
    private const string DiscoveryType = "Discovery";
    private const string DiscoveryResponseType = "Discovery Response";

    /// <summary>Replaced (never changed) by <see cref="SetTransportAsync"/>; read afresh at every login.</summary>
    private volatile WebifiConnectOptions _options;
    private readonly HttpClient _http;
    private readonly WebifiCounters _counters = new();
    private readonly ReconnectBackoff _backoff;
    private readonly WebifiRepeatFilter _repeats = new();
    private long _droppedRepeats;
    private readonly object _gate = new();
    private readonly LinkedList<PendingSend> _outgoing = new();
    private TaskCompletionSource _outgoingPosted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _closing = new();
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
        _http = WebifiLogin.SharedHttpClient(options.TrustedCertificate);
        _networks = options.Networks.Where(n => n.Length > 0).ToArray();
        _discoverable = options.Discoverable;
        _name = options.Name;
        _downloadTimeoutTicks = options.DownloadTimeout.Ticks;
        _backoff = new ReconnectBackoff(options.MaxReconnectDelay);
        Events = new EventBuffer<WebifiEvent>(10_000, this, options.MaxEventBytes, SizeOf);
    }

    /// <summary>The relay's number for this login (-1 before the first); it changes after every reconnect.</summary>
    public int SessionId => Volatile.Read(ref _sessionId);

    public string[] Networks
    {
        get { lock (_gate) { return _networks.ToArray(); } }
    }

    public WebifiTransport Transport => _options.Transport;

    /// <summary>True when every request goes over TLS (-UseEncryption, or an https:// server).</summary>
    public bool UseEncryption => _options.Encrypted;

    /// <summary>Official unless the relay answered the DeviceShell capability at the last login.</summary>
    public WebifiDialect Dialect => _dialect;

    public Uri Server => _options.Server;

    public string ConnectName => _options.ConnectName;

    public string Name => _name;

    public bool Discoverable => _discoverable;

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

    public override long DroppedEvents => Events.Dropped;

    /// <summary>
    /// Messages that arrived a second time and were not passed on (a sender's window sent again after a dropped socket,
    /// or what a relay that was killed had written); only relays that number messages make this possible, see
    /// about_DeviceShell, WEBIFI: EXACTLY ONCE.
    /// </summary>
    public long DroppedRepeats => Interlocked.Read(ref _droppedRepeats);

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
            session._supervisor = Task.Run(() => session.SuperviseAsync(link));
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

    /// <summary>
    /// Queues a send and returns a task that completes when the relay acknowledged it, or fails with the relay's
    /// error code. While disconnected it stays queued and goes out after the reconnect.
    /// </summary>
    public Task SendAsync(WebifiOutgoing message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Data.Length > _options.MaxPayloadBytes)
            throw new DeviceException(DeviceErrorKind.InvalidArgument, "WebifiPayloadTooLarge",
                $"The payload has {message.Data.Length} bytes; a Webifi message may have at most {_options.MaxPayloadBytes}.", message);
        if (_closing.IsCancellationRequested)
            throw new DeviceException(DeviceErrorKind.InvalidOperation, "WebifiSessionClosed", "The Webifi session is closed.", this);
        if (_refused is not null) throw _refused;
        TaskCompletionSource posted;
        var pending = new PendingSend(message);
        lock (_gate)
        {
            pending.Node = _outgoing.AddLast(pending);
            posted = _outgoingPosted;
        }
        posted.TrySetResult();
        return pending.Acknowledged.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Sends a discovery request and collects the Discovery Responses that arrive within <paramref name="timeout"/>,
    /// which bounds the whole call: a relay that does not acknowledge the request in that time is a
    /// <see cref="DeviceErrorKind.Timeout"/> (the request stays queued and may still go out).
    /// </summary>
    public async Task<IReadOnlyList<WebifiDevice>> DiscoverAsync(IReadOnlyList<string>? networks, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        var found = new List<WebifiDevice>();
        Action<WebifiDevice> collect = device => { lock (found) { found.Add(device); } };
        lock (_discoveryCollectors) { _discoveryCollectors.Add(collect); }
        try
        {
            using (var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                bound.CancelAfter(timeout);
                try
                {
                    await SendAsync(WebifiOutgoing.Text("?", DiscoveryType, networks), bound.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new DeviceException(DeviceErrorKind.Timeout, "WebifiTimeout",
                        $"The Webifi relay did not acknowledge the discovery request within {timeout.TotalSeconds:0.#} s (session {State}).", this, ex);
                }
            }
            var left = deadline - DateTime.UtcNow;
            if (left > TimeSpan.Zero) await Task.Delay(left, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_discoveryCollectors) { _discoveryCollectors.Remove(collect); }
        }
        IReadOnlyList<WebifiDevice> devices;
        lock (found) { devices = found.GroupBy(d => d.SessionId).Select(g => g.First()).ToList(); }
        KnownDevices = devices;
        return devices;
    }

    /// <summary>The devices the last discovery found (for tab completion of recipients).</summary>
    public IReadOnlyList<WebifiDevice> KnownDevices { get; private set; } = Array.Empty<WebifiDevice>();

    /// <summary>Replaces the listen-to networks (kept for later logins too). Error 5 means some are not the account's.</summary>
    public async Task SetNetworksAsync(IReadOnlyList<string> networks, CancellationToken cancellationToken = default)
    {
        var names = networks.Where(n => n.Length > 0).ToArray();
        lock (_gate) { _networks = names; }
        var link = _link;
        if (link is null || link.IsBroken) return; // applied at the next login
        int code = await link.SetNetworksAsync(names, cancellationToken).ConfigureAwait(false);
        if (code == WebifiErrorCode.NotAllNetworksSet) throw ErrorFor(code, await KeepKnownNetworksAsync(link, cancellationToken).ConfigureAwait(false), names);
        if (code != WebifiErrorCode.NetworksSet) throw ErrorFor(code, "networks", names);
    }

    /// <summary>
    /// After error 5 for a set of networks: the relay answers for the set as a whole, so to name the networks it
    /// refused (and not claim to listen to them) each is tried on its own, then the known ones are set together and
    /// kept for later logins. Costs a request per network, on this error path only. Returns the error's context.
    /// </summary>
    private async Task<string> KeepKnownNetworksAsync(WebifiLink link, CancellationToken cancellationToken)
    {
        var known = new List<string>();
        var refused = new List<string>();
        foreach (string name in Networks)
        {
            int code = await link.SetNetworksAsync(new[] { name }, cancellationToken).ConfigureAwait(false);
            (code == WebifiErrorCode.NetworksSet ? known : refused).Add(name);
        }
        if (known.Count > 0) await link.SetNetworksAsync(known, cancellationToken).ConfigureAwait(false);
        lock (_gate) { _networks = known.ToArray(); }
        return "unknown networks: " + string.Join(", ", refused);
    }

    public void SetDiscoverable(bool discoverable) => _discoverable = discoverable;

    public void SetName(string name) => _name = name;

    /// <summary>The long-polling hold time, used from the next login on (10 to 1800 s, as the Python library clamps it).</summary>
    public void SetDownloadTimeout(TimeSpan timeout) =>
        Interlocked.Exchange(ref _downloadTimeoutTicks, Math.Clamp(timeout.Ticks, TimeSpan.FromSeconds(10).Ticks, TimeSpan.FromSeconds(1800).Ticks));

    /// <summary>
    /// Switches transport and/or encryption on the running session, as the official library's set_use_websocket and
    /// set_use_encryption do: the relay session is closed politely and the session logs in again at once with the new
    /// settings. Queued sends stay queued and go out on the new link (one in flight at the switch may arrive twice,
    /// the new login numbering afresh); returns when the new link is up, or fails after three reply timeouts while the
    /// session keeps trying in the background.
    /// </summary>
    public async Task SetTransportAsync(WebifiTransport? transport, bool? useEncryption, CancellationToken cancellationToken = default)
    {
        if (_closing.IsCancellationRequested) throw new DeviceException(DeviceErrorKind.InvalidOperation, "WebifiSessionClosed", "The Webifi session is closed.", this);
        if (_refused is not null) throw _refused;
        var current = _options;
        var wanted = current with { Transport = transport ?? current.Transport, UseEncryption = useEncryption ?? current.UseEncryption };
        if (wanted.Transport == current.Transport && wanted.Encrypted == current.Encrypted) return;
        var relinked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _options = wanted;
            _relinked = relinked;
        }
        if (_link is { } link)
        {
            using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                limit.CancelAfter(current.ReplyTimeout);
                await link.CloseAsync(limit.Token).ConfigureAwait(false);
            }
            link.Break(new DeviceException(DeviceErrorKind.Connection, "WebifiSwitching", $"The session is switching to {wanted.Transport}{(wanted.Encrypted ? " with TLS" : "")}."));
        }
        var limitOfWait = wanted.ReplyTimeout * 3;
        try
        {
            await relinked.Task.WaitAsync(limitOfWait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new DeviceException(DeviceErrorKind.Timeout, "WebifiTimeout",
                $"The session did not log in again with {wanted.Transport} within {limitOfWait.TotalSeconds:0.#} s; it keeps trying (state {State}).", this, ex);
        }
    }

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

    private async Task<WebifiLink> OpenLinkAsync(CancellationToken cancellationToken)
    {
        var credentials = await WebifiLogin.RequestAsync(_http, _options, cancellationToken).ConfigureAwait(false);
        if (credentials.ErrorTable is not null) _errorTable = credentials.ErrorTable;
        var options = _options with { DownloadTimeout = TimeSpan.FromTicks(Interlocked.Read(ref _downloadTimeoutTicks)) };
        WebifiLink link = options.Transport == WebifiTransport.WebSocket
            ? new WebSocketLink(credentials, options, _counters, _backoff, OnReceived, OnReport, ChangeState)
            : new LongPollingLink(_http, credentials, options, _counters, _backoff, OnReceived, OnReport, ChangeState);
        try
        {
            int code = await link.OpenAsync(Networks, cancellationToken).ConfigureAwait(false);
            if (code == WebifiErrorCode.NotAllNetworksSet) OnReport(code, await KeepKnownNetworksAsync(link, cancellationToken).ConfigureAwait(false));
            else if (code != WebifiErrorCode.NetworksSet) OnReport(code, "networks");
        }
        catch
        {
            await link.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        Volatile.Write(ref _sessionId, credentials.SessionId);
        _dialect = credentials.Dialect;
        _link = link;
        ChangeState(DeviceSessionState.Connected);
        TakeRelinked()?.TrySetResult();
        return link;
    }

    private TaskCompletionSource? TakeRelinked()
    {
        lock (_gate)
        {
            var relinked = _relinked;
            _relinked = null;
            return relinked;
        }
    }

    /// <summary>Runs the send loop on a link until it breaks, then logs in again, until the session closes.</summary>
    private async Task SuperviseAsync(WebifiLink link)
    {
        var closing = _closing.Token;
        while (!closing.IsCancellationRequested)
        {
            var openedAt = DateTime.UtcNow;
            var sender = SendLoopAsync(link, closing);
            await Task.WhenAny(link.Broken, sender).ConfigureAwait(false);
            if (closing.IsCancellationRequested)
            {
                await sender.ConfigureAwait(false);
                return;
            }
            link.Break(link.BreakReason);
            await sender.ConfigureAwait(false);
            await link.DisposeAsync().ConfigureAwait(false);
            _link = null;
            ChangeState(DeviceSessionState.Reconnecting);
            if (DateTime.UtcNow - openedAt >= HealthyLinkAge) _backoff.Reset();
            var next = await ReconnectAsync(closing).ConfigureAwait(false);
            if (next is null) return;
            link = next;
        }
    }

    /// <summary>
    /// Logs in again, each attempt after the back-off's pause (none for a switch asked for by
    /// <see cref="SetTransportAsync"/>): a relay that breaks every link right after the login sees a few logins, not a
    /// storm. Null when closing or when the login is refused (error 8, not retried).
    /// </summary>
    private async Task<WebifiLink?> ReconnectAsync(CancellationToken closing)
    {
        bool switching;
        lock (_gate) switching = _relinked is not null;
        while (!closing.IsCancellationRequested)
        {
            try
            {
                if (!switching) await Task.Delay(_backoff.Next(), closing).ConfigureAwait(false);
                switching = false;
                var link = await OpenLinkAsync(closing).ConfigureAwait(false);
                Interlocked.Increment(ref _reconnects);
                return link;
            }
            catch (DeviceException ex) when (ex.Kind == DeviceErrorKind.Authentication)
            {
                // The account changed under us: retrying cannot help, and waiting sends must not hang.
                _refused = ex;
                OnReport(WebifiErrorCode.InvalidCredentials, "login");
                ChangeState(DeviceSessionState.Disconnected);
                FailQueued(ex);
                TakeRelinked()?.TrySetException(ex);
                return null;
            }
            catch (Exception ex) when (ex is DeviceException or HttpRequestException or WebSocketException or IOException
                                       || (ex is OperationCanceledException && !closing.IsCancellationRequested))
            {
                // The relay is not back yet: try again after a pause.
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
        return null;
    }

    /// <summary>
    /// Sends the queue in order. In the DeviceShell dialect it keeps up to <see cref="Window"/> messages in flight: new
    /// batches go out while the relay's answers to earlier ones are still coming, and answers are settled one by one,
    /// in order; in the official dialect one message goes at a time, the next after its answer. An item leaves
    /// the queue only when acknowledged. When the WebSocket drops, what was in flight is not acknowledged and goes out
    /// again, from the oldest, once the link has authenticated on the next socket. Ends when the link breaks.
    /// </summary>
    private async Task SendLoopAsync(WebifiLink link, CancellationToken closing)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(closing, link.BrokenToken);
        var inFlight = new Queue<(PendingSend Pending, Task<int> Reply)>();
        LinkedListNode<PendingSend>? lastSent = null;
        int socket = 0;
        bool pipelined = link.Credentials.Dialect == WebifiDialect.DeviceShell;
        int window = pipelined ? Window : 1;
        int batchSize = pipelined ? BatchSize : 1;
        try
        {
            while (!link.IsBroken && !closing.IsCancellationRequested)
            {
                if (!Settle(link, inFlight, ref lastSent)) return;
                Task posted;
                var batch = new List<PendingSend>();
                int room = Math.Min(batchSize, window - inFlight.Count);
                lock (_gate)
                {
                    if (_outgoingPosted.Task.IsCompleted) _outgoingPosted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    posted = _outgoingPosted.Task;
                    for (var node = lastSent is null ? _outgoing.First : lastSent.Next; node is not null && batch.Count < room; node = node.Next)
                        batch.Add(node.Value);
                }
                // As Nagle's algorithm does for TCP: a full batch goes at once, a short one only when nothing is in
                // flight. Under load the sends that arrive meanwhile fill the next frame instead of each taking a frame
                // (and an answer frame) of its own; a lone send still goes at once.
                if (batch.Count > 0 && (batch.Count == room || inFlight.Count == 0))
                {
                    try
                    {
                        // In flight already: the batch must go on the same socket, or the window would be resent out of order.
                        var sent = await link.SendAsync(batch.Select(p => p.NumberedFor(link)).ToList(), inFlight.Count > 0 ? socket : null, closing).ConfigureAwait(false);
                        socket = sent.Socket;
                        for (int i = 0; i < batch.Count; i++) inFlight.Enqueue((batch[i], sent.Replies[i]));
                        lastSent = batch[^1].Node;
                    }
                    catch (DeviceException) when (!link.IsBroken)
                    {
                        // The WebSocket dropped: the window's answers have failed, and the next turn settles them.
                    }
                    continue;
                }
                if (inFlight.Count == 0) await posted.WaitAsync(stop.Token).ConfigureAwait(false);
                else if (inFlight.Count >= window) await WhenDoneAsync(inFlight.Peek().Reply, stop.Token).ConfigureAwait(false);
                else await Task.WhenAny(inFlight.Peek().Reply, posted).WaitAsync(stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The link broke (what is in flight stays queued) or the session is closing.
        }
        catch (Exception ex)
        {
            // Whatever went wrong, the cure is the same: drop this link and log in again; the queue stays.
            link.Break(ex);
        }
    }

    /// <summary>
    /// Settles the answered head of the window in order; false when the relay forgot the session (the link is broken
    /// and everything not acknowledged goes out again after the new login). When the relay ended the connection before
    /// answering the head <see cref="WebifiConnectOptions.MaxRefusals"/> times in a row, it refuses what this session
    /// sends (a dialect it does not accept, a payload it will not take): every queued send fails with the cause
    /// (WebifiSendRefused) instead of being retried forever.
    /// </summary>
    private bool Settle(WebifiLink link, Queue<(PendingSend Pending, Task<int> Reply)> inFlight, ref LinkedListNode<PendingSend>? lastSent)
    {
        while (inFlight.Count > 0 && inFlight.Peek().Reply.IsCompleted)
        {
            var (pending, reply) = inFlight.Dequeue();
            if (!reply.IsCompletedSuccessfully)
            {
                // The socket dropped: nothing after this one was answered either; all of it goes again, in order.
                var cause = reply.Exception?.InnerException;
                inFlight.Clear();
                lastSent = null;
                if (cause is DeviceException { ErrorId: "WebifiConnectionLost" } lost && ++pending.Refusals >= _options.MaxRefusals)
                {
                    FailQueued(new DeviceException(DeviceErrorKind.Connection, "WebifiSendRefused",
                        $"The Webifi relay ended the connection right after this message {pending.Refusals} times in a row, so it refuses what this session sends; every queued send was ended. The last time: {lost.Message}",
                        pending.Message.DataType, lost));
                }
                return true;
            }
            int code = reply.Result;
            if (code == WebifiErrorCode.SessionExpired)
            {
                link.Break(ErrorFor(code, "send"));
                return false;
            }
            lock (_gate)
            {
                if (pending.Node!.List is not null) _outgoing.Remove(pending.Node);
                if (inFlight.Count == 0) lastSent = null;
            }
            if (code == WebifiErrorCode.Success) pending.Acknowledged.TrySetResult();
            else pending.Acknowledged.TrySetException(ErrorFor(code, "send", pending.Message.DataType));
        }
        return true;
    }

    private static async Task WhenDoneAsync(Task reply, CancellationToken cancellationToken)
    {
        try
        {
            await reply.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DeviceException)
        {
            // Settled on the next turn.
        }
    }

    private void OnReceived(int from, string dataType, byte[] data, WebifiMessageId? id)
    {
        if (id is { } messageId && !_repeats.IsNew(from, messageId))
        {
            Interlocked.Increment(ref _droppedRepeats);
            return;
        }
        if (dataType == DiscoveryType && _discoverable && data is [(byte)'?'])
        {
            // Answered for the application, as the official libraries do; not passed on.
            _ = SendAsync(WebifiOutgoing.Text(_name, DiscoveryResponseType, toSessionIds: new[] { from })).ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
            return;
        }
        var now = DateTime.Now;
        if (dataType == DiscoveryResponseType)
        {
            var device = new WebifiDevice(Encoding.UTF8.GetString(data), from, now);
            lock (_discoveryCollectors)
            {
                foreach (var collect in _discoveryCollectors) collect(device);
                // Collected as the answer to the module's own discovery: not a background message.
                if (_discoveryCollectors.Count > 0) return;
            }
        }
        Events.Post(new WebifiMessage(data, dataType, from, now));
    }

    private void OnReport(int code, string context)
    {
        var error = new WebifiError(code, GetErrorText(code), context, DateTime.Now);
        _lastError = error;
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

    protected override async ValueTask CloseCoreAsync()
    {
        _closing.Cancel();
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

    private void FailQueued(DeviceException reason)
    {
        List<PendingSend> unsent;
        lock (_gate)
        {
            unsent = _outgoing.ToList();
            _outgoing.Clear();
        }
        foreach (var pending in unsent) pending.Acknowledged.TrySetException(reason);
    }

    public override string ToString() => $"Webifi session {Id} ({ConnectName}@{Endpoint}, {Transport}, session id {SessionId}, {State})";

    private sealed class PendingSend
    {
        private WebifiLink? _numberedOn;
        private WebifiMessageId _id;

        public PendingSend(WebifiOutgoing message) => Message = message;

        /// <summary>Its place in the queue, so that acknowledging it costs nothing.</summary>
        public LinkedListNode<PendingSend>? Node { get; set; }

        public WebifiOutgoing Message { get; }

        /// <summary>How often the relay ended the connection right after this message, before answering it.</summary>
        public int Refusals { get; set; }

        /// <summary>
        /// The message with its id on <paramref name="link"/>: numbered when first sent on it (the send loop goes in queue
        /// order, so the numbers follow the wire order), and sent again under the same number on the same link.
        /// </summary>
        public NumberedOutgoing NumberedFor(WebifiLink link)
        {
            if (_numberedOn != link)
            {
                _id = new WebifiMessageId(link.MessageSender, link.NextSequence());
                _numberedOn = link;
            }
            return new NumberedOutgoing(Message, _id);
        }

        public TaskCompletionSource Acknowledged { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
