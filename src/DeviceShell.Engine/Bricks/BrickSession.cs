using System.Collections.Concurrent;
using System.Security.Cryptography;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// A connection to a Brick Daemon (TFP over TCP) with everything the official IP Connection offers:
/// requests with sequence numbers and timeouts, enumerate, callbacks in arrival order, the disconnect
/// probe and auto-reconnect — which here also re-authenticates after every reconnect when a secret was given.
/// Thread-safe: any number of callers may issue requests at once; requests to one device are serialised
/// (as the bindings do, and as the devices handle them), requests to different devices overlap.
/// </summary>
public sealed partial class BrickSession : DeviceSession
{
    private readonly BrickConnectOptions _options;
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<uint, RequestSlot> _slots = new();
    private readonly ConcurrentDictionary<string, BrickDevice> _knownDevices = new(StringComparer.Ordinal);
    private readonly List<Action<BrickDevice>> _enumerateObservers = new();
    private readonly EventBuffer<BrickEvent> _events;
    private readonly CancellationTokenSource _closing = new();
    private EventHandler<BrickEvent>? _connected;
    private EventHandler<BrickEvent>? _disconnected;
    private EventHandler<BrickEvent>? _callbackReceived;
    private EventHandler<BrickEvent>? _enumerateReceived;
    private string? _secret;
    private Link? _link;
    private long _timeoutTicks;
    private volatile bool _autoReconnect;
    private volatile bool _userDisconnected;
    /// <summary>True while <see cref="ConnectAsync(CancellationToken)"/> opens a link (guarded by _gate).</summary>
    private bool _connecting;
    private int _reconnecting;
    private uint _clientNonce = (uint)RandomNumberGenerator.GetInt32(int.MaxValue);
    private long _staleResponses;
    private long _reconnects;

    private BrickSession(BrickConnectOptions options)
        : base(DeviceWorld.Brick, FormatEndpoint(options.HostName, options.Port))
    {
        _options = options;
        _timeoutTicks = options.Timeout.Ticks;
        _autoReconnect = options.AutoReconnect;
        _events = new EventBuffer<BrickEvent>(options.EventCapacity, this, options.EventMaxBytes, static e => e.Payload.Length + BrickEvent.Overhead);
    }

    /// <summary>Connects (and authenticates when <see cref="BrickConnectOptions.Secret"/> is set).</summary>
    /// <exception cref="DeviceException">ConnectionFailed, ConnectTimeout, AuthenticationFailed, NonAsciiSecret.</exception>
    public static async Task<BrickSession> ConnectAsync(BrickConnectOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Secret is not null) CheckSecret(options.Secret);
        var session = new BrickSession(options) { _secret = options.Secret };
        try
        {
            var link = await session.OpenAuthenticatedLinkAsync(cancellationToken).ConfigureAwait(false);
            session.Adopt(link, BrickConnectReason.Request);
            return session;
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc/>
    public override long DroppedEvents => _events.Dropped;

    /// <inheritdoc/>
    public override int QueuedEvents => _events.Count;

    /// <summary>Callbacks, enumerate callbacks and connection events in arrival order (Receive-BrickCallback takes from it).</summary>
    internal EventBuffer<BrickEvent> Events => _events;

    /// <summary>The host name the session connects to, as given in <see cref="BrickConnectOptions.HostName"/>.</summary>
    public string HostName => _options.HostName;

    /// <summary>The TCP port the session connects to.</summary>
    public int Port => _options.Port;

    /// <summary>The state as the bindings' IP Connection reports it: Pending while connecting or reconnecting.</summary>
    public BrickConnectionState ConnectionState => State switch
    {
        DeviceSessionState.Connected => BrickConnectionState.Connected,
        DeviceSessionState.Reconnecting or DeviceSessionState.Connecting => BrickConnectionState.Pending,
        _ => BrickConnectionState.Disconnected,
    };

    /// <summary>Turning it on while a lost connection sits disconnected (not by request) starts reconnecting right away.</summary>
    public bool AutoReconnect
    {
        get => _autoReconnect;
        set
        {
            _autoReconnect = value;
            if (value && State == DeviceSessionState.Disconnected && !_userDisconnected && !_closing.IsCancellationRequested) StartReconnecting();
        }
    }

    /// <summary>The default time a request waits for its response.</summary>
    public TimeSpan Timeout
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _timeoutTicks));
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            Interlocked.Exchange(ref _timeoutTicks, value.Ticks);
        }
    }

    /// <summary>True when the session authenticates with a secret on every connect.</summary>
    public bool Authenticated => _secret is not null;

    /// <summary>Responses that arrived for no waiting request (late answers after a timeout) and were dropped.</summary>
    public long StaleResponses => Interlocked.Read(ref _staleResponses);

    /// <summary>How often auto-reconnect brought the connection back.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Devices seen in enumerate callbacks and not reported disconnected since (the -Uid completer uses them).</summary>
    public IReadOnlyList<BrickDevice> KnownDevices => _knownDevices.Values.OrderBy(d => d.Uid, StringComparer.Ordinal).ToArray();

    /// <summary>Raised for every connect (reason Request or AutoReconnect), on the event dispatcher, in order with the callbacks.</summary>
    public event EventHandler<BrickEvent>? Connected { add => _events.AddTypedHandler(ref _connected, value, RaiseTypedEvent); remove => _events.RemoveTypedHandler(ref _connected, value); }

    /// <summary>Raised for every disconnect (reason Request, Error or Shutdown).</summary>
    public event EventHandler<BrickEvent>? Disconnected { add => _events.AddTypedHandler(ref _disconnected, value, RaiseTypedEvent); remove => _events.RemoveTypedHandler(ref _disconnected, value); }

    /// <summary>Raised for every device callback (sequence number 0, except enumerate).</summary>
    public event EventHandler<BrickEvent>? CallbackReceived { add => _events.AddTypedHandler(ref _callbackReceived, value, RaiseTypedEvent); remove => _events.RemoveTypedHandler(ref _callbackReceived, value); }

    /// <summary>Raised for every enumerate callback (Available, Connected, Disconnected) that is not the answer to the module's own enumerate.</summary>
    public event EventHandler<BrickEvent>? EnumerateReceived { add => _events.AddTypedHandler(ref _enumerateReceived, value, RaiseTypedEvent); remove => _events.RemoveTypedHandler(ref _enumerateReceived, value); }

    /// <summary>Callbacks the .NET events above could not raise because the buffer dropped them first (a handler too slow for the flood).</summary>
    public long DroppedRaisedEvents => _events.DispatcherDropped;

    /// <summary>Authenticates the current connection and keeps the secret for the re-authentication after auto-reconnects.</summary>
    public async Task AuthenticateAsync(string secret, CancellationToken cancellationToken = default)
    {
        CheckSecret(secret);
        await AuthenticateLinkAsync(CurrentLink(), secret, cancellationToken).ConfigureAwait(false);
        _secret = secret;
    }

    /// <summary>
    /// Sends one request. With <paramref name="responseExpected"/> it waits for the response (up to
    /// <paramref name="timeout"/> or <see cref="Timeout"/>) and returns it whatever its error code; without, it returns null once sent.
    /// </summary>
    internal async Task<TfpPacket?> SendRequestAsync(uint uid, byte functionId, byte[] payload, bool responseExpected, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Length > TfpPacket.MaxPayloadLength)
            throw BrickErrors.Create(DeviceErrorKind.InvalidArgument, "PayloadTooLong", $"A payload has at most {TfpPacket.MaxPayloadLength} bytes; this one has {payload.Length}.", payload.Length);
        var link = CurrentLink();
        if (!responseExpected)
        {
            double start = Recording?.Now ?? 0;
            await SendAsync(link, new TfpPacket(uid, functionId, link.NextSequence(), false, 0, payload), timeout ?? Timeout, cancellationToken).ConfigureAwait(false);
            RecordUnansweredRequest(start, uid, functionId, payload);
            return null;
        }
        return await RequestOnLinkAsync(link, uid, functionId, payload, timeout ?? Timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Calls a device function that answers: header error codes become errors (InvalidParameter, FunctionNotSupported,
    /// UnknownErrorCode) and, with <paramref name="responsePayloadLength"/>, a response of another length is WrongResponseLength.
    /// </summary>
    public async Task<byte[]> CallAsync(uint uid, byte functionId, byte[] payload, int? responsePayloadLength = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var response = (await SendRequestAsync(uid, functionId, payload, true, timeout, cancellationToken).ConfigureAwait(false))!.Value;
        CheckResponse(response, responsePayloadLength);
        return response.Payload;
    }

    /// <summary>get_identity (function 255) of one device.</summary>
    public async Task<BrickDevice> GetIdentityAsync(uint uid, CancellationToken cancellationToken = default)
    {
        byte[] payload = await CallAsync(uid, TfpFunction.GetIdentity, Array.Empty<byte>(), BrickDevice.IdentityLength, null, cancellationToken).ConfigureAwait(false);
        var identity = BrickDevice.FromPayload(payload, this);
        RememberDeviceType(uid, identity.DeviceIdentifier);
        return identity;
    }

    /// <summary>
    /// Broadcasts enumerate and collects the Available answers: until <paramref name="wait"/> has passed, or
    /// sooner once answers came and then <paramref name="quiet"/> passed without a new one. One entry per UID.
    /// </summary>
    public async Task<IReadOnlyList<BrickDevice>> EnumerateAsync(TimeSpan wait, TimeSpan? quiet = null, CancellationToken cancellationToken = default)
    {
        var found = new ConcurrentDictionary<string, BrickDevice>(StringComparer.Ordinal);
        var arrived = new SemaphoreSlim(0);
        void Observe(BrickDevice device)
        {
            if (device.EnumerationType == BrickEnumerationType.Disconnected) return;
            if (found.TryAdd(device.Uid, device)) arrived.Release();
        }
        lock (_enumerateObservers) { _enumerateObservers.Add(Observe); }
        try
        {
            await SendRequestAsync(BrickUid.Broadcast, TfpFunction.Enumerate, Array.Empty<byte>(), false, null, cancellationToken).ConfigureAwait(false);
            var quietTime = quiet ?? TimeSpan.FromMilliseconds(250);
            var deadline = DateTime.UtcNow + wait;
            while (true)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) break;
                var slice = found.IsEmpty ? left : (quietTime < left ? quietTime : left);
                if (!await arrived.WaitAsync(slice, cancellationToken).ConfigureAwait(false) && !found.IsEmpty) break;
            }
        }
        finally
        {
            lock (_enumerateObservers) { _enumerateObservers.Remove(Observe); }
        }
        return found.Values.OrderBy(d => d.ConnectedUid, StringComparer.Ordinal).ThenBy(d => d.Position).ToArray();
    }

    /// <summary>
    /// Checks that the peer speaks TFP: asks the daemon itself (UID 1) for get_identity, a function it does not have,
    /// which a Brick Daemon answers at once with "not supported". Returns null when the answer was TFP, otherwise why the
    /// peer does not look like a Brick Daemon (a TCP connect alone succeeds with any server, e.g. an HTTP port).
    /// </summary>
    public async Task<string?> CheckPeerSpeaksTfpAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RequestOnLinkAsync(CurrentLink(), BrickUid.Daemon, TfpFunction.GetIdentity, Array.Empty<byte>(), Timeout, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (DeviceException ex) when (ex.ErrorId == "RequestTimeout")
        {
            return $"{Endpoint} did not answer a TFP request within {Timeout.TotalSeconds:0.###} s (a Brick Daemon that requires authentication stays silent until -Secret is given)";
        }
        catch (DeviceException ex) when (ex.ErrorId == "MalformedPacket")
        {
            return $"{Endpoint} answered a TFP request with bytes that are not TFP";
        }
        catch (DeviceException ex) when (ex.ErrorId is "ConnectionLost" or "NotConnected")
        {
            return $"{Endpoint} closed the connection on a TFP request";
        }
    }

    /// <summary>Disconnects (reason Request) and stops auto-reconnect. The session stays registered until disposed.</summary>
    public Task DisconnectAsync()
    {
        _userDisconnected = true;
        Link? link;
        lock (_gate) { link = _link; }
        if (link is not null) Drop(link, BrickDisconnectReason.Request, "disconnected on request");
        else if (State is not DeviceSessionState.Closed) SetState(DeviceSessionState.Disconnected);
        return Task.CompletedTask;
    }

    /// <summary>Disconnects, stops reconnecting and ends the event buffer (waiting Receive-BrickCallback calls return).</summary>
    protected override async ValueTask CloseCoreAsync()
    {
        await DisconnectAsync().ConfigureAwait(false);
        _closing.Cancel();
        _events.Dispose();
    }

    internal static void CheckSecret(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.Any(c => c > 0x7F))
            throw BrickErrors.Create(DeviceErrorKind.InvalidArgument, "NonAsciiSecret",
                "The secret contains characters outside ASCII; Brick Daemon secrets are ASCII only. Nothing was sent.");
    }

    internal static void CheckResponse(TfpPacket response, int? payloadLength)
    {
        string uid = BrickUid.Encode(response.Uid);
        switch (response.ErrorCode)
        {
            case 0:
                if (payloadLength is int expected && response.Payload.Length != expected)
                    throw BrickErrors.Create(DeviceErrorKind.Protocol, "WrongResponseLength",
                        $"Device {uid} answered function {response.FunctionId} with {response.Length} bytes instead of {TfpPacket.HeaderLength + expected}.", uid);
                return;
            case 1:
                throw BrickErrors.Create(DeviceErrorKind.InvalidArgument, "InvalidParameter",
                    $"Device {uid} rejected the parameters of function {response.FunctionId} (error code 1, invalid parameter).", uid);
            case 2:
                throw BrickErrors.Create(DeviceErrorKind.NotSupported, "FunctionNotSupported",
                    $"Device {uid} does not support function {response.FunctionId} (error code 2).", uid);
            default:
                throw BrickErrors.Create(DeviceErrorKind.Protocol, "UnknownErrorCode",
                    $"Device {uid} answered function {response.FunctionId} with the unknown error code {response.ErrorCode}.", uid);
        }
    }

    private static string FormatEndpoint(string host, int port) => host.Contains(':', StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";

    private bool RaiseTypedEvent(BrickEvent item)
    {
        var handlers = item.Kind switch
        {
            BrickEventKind.Connected => _connected,
            BrickEventKind.Disconnected => _disconnected,
            BrickEventKind.Enumerate => _enumerateReceived,
            _ => _callbackReceived,
        };
        return EventBuffer<BrickEvent>.InvokeEach(handlers, this, item);
    }
}
