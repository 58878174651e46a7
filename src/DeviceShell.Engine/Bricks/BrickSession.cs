using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
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

    public override long DroppedEvents => _events.Dropped;

    public override int QueuedEvents => _events.Count;

    /// <summary>Callbacks, enumerate callbacks and connection events in arrival order (Receive-BrickCallback takes from it).</summary>
    internal EventBuffer<BrickEvent> Events => _events;

    public string HostName => _options.HostName;

    public int Port => _options.Port;

    public BrickConnectionState ConnectionState => State switch
    {
        DeviceSessionState.Connected => BrickConnectionState.Connected,
        DeviceSessionState.Reconnecting => BrickConnectionState.Pending,
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
            await SendAsync(link, new TfpPacket(uid, functionId, link.NextSequence(), false, 0, payload), timeout ?? Timeout, cancellationToken).ConfigureAwait(false);
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

    private Link CurrentLink()
    {
        lock (_gate)
        {
            if (_link is not null) return _link;
        }
        string why = State == DeviceSessionState.Reconnecting ? "it is reconnecting" : "it is disconnected";
        throw BrickErrors.Create(DeviceErrorKind.Connection, "NotConnected", $"The Brick session to {Endpoint} cannot send: {why}.", Endpoint);
    }

    private async Task<Link> OpenAuthenticatedLinkAsync(CancellationToken cancellationToken)
    {
        var link = await OpenLinkAsync(cancellationToken).ConfigureAwait(false);
        if (_secret is null) return link;
        try
        {
            await AuthenticateLinkAsync(link, _secret, cancellationToken).ConfigureAwait(false);
            return link;
        }
        catch
        {
            Drop(link, BrickDisconnectReason.Request, "authentication failed");
            throw;
        }
    }

    private async Task<Link> OpenLinkAsync(CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(_options.HostName, out var literal)
                ? new[] { literal }
                : await Dns.GetHostAddressesAsync(_options.HostName, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw BrickErrors.Create(DeviceErrorKind.Connection, "HostNotFound", $"The host name '{_options.HostName}' could not be resolved: {ex.Message}", _options.HostName, ex);
        }
        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(_options.ConnectTimeout);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, _options.Port), attempt.Token).ConfigureAwait(false);
                var link = new Link(this, socket);
                link.Start();
                return link;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                last = BrickErrors.Create(DeviceErrorKind.Timeout, "ConnectTimeout",
                    $"Connecting to {address}:{_options.Port} took longer than {_options.ConnectTimeout.TotalSeconds:0.###} s.", Endpoint);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        if (last is DeviceException timeout) throw timeout;
        throw BrickErrors.Create(DeviceErrorKind.Connection, "ConnectionFailed",
            $"Could not connect to the Brick Daemon at {Endpoint}: {last?.Message ?? "no address"}.", Endpoint, last);
    }

    private async Task AuthenticateLinkAsync(Link link, string secret, CancellationToken cancellationToken)
    {
        try
        {
            var nonceResponse = await RequestOnLinkAsync(link, BrickUid.Daemon, TfpFunction.GetAuthenticationNonce, Array.Empty<byte>(), Timeout, cancellationToken).ConfigureAwait(false);
            CheckResponse(nonceResponse, 4);
            uint clientNonce = Interlocked.Increment(ref _clientNonce);
            var payload = new byte[24];
            BinaryPrimitives.WriteUInt32LittleEndian(payload, clientNonce);
            ComputeDigest(secret, nonceResponse.Payload, payload.AsSpan(0, 4)).CopyTo(payload, 4);
            var done = await RequestOnLinkAsync(link, BrickUid.Daemon, TfpFunction.Authenticate, payload, Timeout, cancellationToken).ConfigureAwait(false);
            CheckResponse(done, 0);
        }
        catch (DeviceException ex) when (ex.ErrorId is "ConnectionLost")
        {
            throw BrickErrors.Create(DeviceErrorKind.Authentication, "AuthenticationFailed",
                $"The Brick Daemon at {Endpoint} closed the connection during authentication: the secret is wrong, or authentication is disabled on the daemon.", Endpoint, ex);
        }
    }

    /// <summary>HMAC-SHA1 keyed with the ASCII secret over server nonce then client nonce (docs/design/bricks-tfp.md §4).</summary>
    public static byte[] ComputeDigest(string secret, ReadOnlySpan<byte> serverNonce, ReadOnlySpan<byte> clientNonce)
    {
        Span<byte> message = stackalloc byte[8];
        serverNonce[..4].CopyTo(message);
        clientNonce[..4].CopyTo(message[4..]);
        return HMACSHA1.HashData(Encoding.ASCII.GetBytes(secret), message);
    }

    private async Task<TfpPacket> RequestOnLinkAsync(Link link, uint uid, byte functionId, byte[] payload, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var slot = _slots.GetOrAdd(uid, static _ => new RequestSlot());
        if (!await slot.Lock.WaitAsync(timeout, cancellationToken).ConfigureAwait(false)) throw TimedOut(uid, functionId, timeout);
        try
        {
            var request = new TfpPacket(uid, functionId, link.NextSequence(), true, 0, payload);
            long id = slot.Arm(link, uid, functionId, request.Sequence, timeout);
            // Drop marks the link dead before failing the armed slots: whichever runs second sees the other.
            if (link.IsDead)
            {
                slot.TryFail(id, link.LostError ?? LinkLost("closed"));
            }
            else
            {
                try
                {
                    await SendAsync(link, request, timeout, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is DeviceException or OperationCanceledException)
                {
                    slot.TryFail(id, ex);
                }
            }
            // The link's sweep fails the slot at its deadline; Drop fails it when the link ends.
            using var cancellation = cancellationToken.CanBeCanceled
                ? cancellationToken.UnsafeRegister(static state => ((RequestSlot.Cancellation)state!).Fire(), new RequestSlot.Cancellation(slot, id, cancellationToken))
                : default;
            try
            {
                return await slot.Response.ConfigureAwait(false);
            }
            catch (DeviceException) when (cancellationToken.IsCancellationRequested)
            {
                // The caller's cancellation dropped the link (a half-sent packet): it asked to stop, so it hears that.
                throw new OperationCanceledException(cancellationToken);
            }
        }
        finally
        {
            slot.Lock.Release();
        }
    }

    private static DeviceException TimedOut(uint uid, byte functionId, TimeSpan timeout)
    {
        string target = BrickUid.Encode(uid);
        return BrickErrors.Create(DeviceErrorKind.Timeout, "RequestTimeout",
            $"Device {target} did not answer function {functionId} within {timeout.TotalSeconds:0.###} s (unknown UID, unplugged device, or a daemon without that device).", target);
    }

    /// <summary>
    /// Writes one packet. Waiting for the write lock honours <paramref name="cancellationToken"/> and <paramref name="timeout"/>;
    /// a write that is cancelled or fails half way leaves part of a packet on the wire, so the link is dropped then. A write
    /// that stalls (the daemon stopped reading) past the timeout or the probe interval is ended by the link's sweep.
    /// </summary>
    private async ValueTask SendAsync(Link link, TfpPacket packet, TimeSpan timeout, CancellationToken cancellationToken)
    {
        byte[] bytes = packet.ToBytes();
        if (!await link.WriteLock.WaitAsync(timeout, cancellationToken).ConfigureAwait(false))
            throw BrickErrors.Create(DeviceErrorKind.Timeout, "RequestTimeout",
                $"The request to device {BrickUid.Encode(packet.Uid)} could not be sent within {timeout.TotalSeconds:0.###} s: earlier writes to {Endpoint} are stalled.", Endpoint);
        try
        {
            if (link.IsDead) throw link.LostError ?? LinkLost("closed");
            link.BeginWrite(timeout);
            await link.Stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            link.EndWrite();
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            link.EndWrite();
            bool cancelled = cancellationToken.IsCancellationRequested;
            Drop(link, BrickDisconnectReason.Error, cancelled ? "a write was cancelled before it completed" : "sending failed: " + ex.Message);
            if (cancelled) throw new OperationCanceledException("The write was cancelled; the connection was dropped because part of a packet may have been sent.", ex, cancellationToken);
            throw link.LostError ?? LinkLost(ex.Message);
        }
        finally
        {
            link.WriteLock.Release();
        }
    }

    private DeviceException LinkLost(string why) =>
        BrickErrors.Create(DeviceErrorKind.Connection, "ConnectionLost", $"The connection to the Brick Daemon at {Endpoint} was lost ({why}).", Endpoint);

    /// <summary>Makes a fresh link the session's connection and announces it.</summary>
    private void Adopt(Link link, BrickConnectReason reason)
    {
        lock (_gate)
        {
            if (_userDisconnected || State == DeviceSessionState.Closed)
            {
                link.Close();
                return;
            }
            _link = link;
        }
        SetState(DeviceSessionState.Connected);
        _events.Post(new BrickEvent(this, BrickEventKind.Connected, null, 0, Array.Empty<byte>(), null, reason.ToString()));
        if (link.IsDead) AfterLoss(link); // the reader gave up before the link was adopted
    }

    /// <summary>
    /// Ends one link: fails its waiting requests with <paramref name="error"/> (default: ConnectionLost naming <paramref name="why"/>)
    /// and, if it was the session's connection, handles the loss.
    /// </summary>
    private void Drop(Link link, BrickDisconnectReason reason, string why, DeviceException? error = null)
    {
        if (!link.MarkDead(reason, error ?? LinkLost(why))) return;
        link.Close();
        foreach (var (_, slot) in _slots) slot.FailIfOn(link, link.LostError!);
        AfterLoss(link);
    }

    /// <summary>Announces the disconnect of the session's connection and, unless the user asked for it, starts auto-reconnect.</summary>
    private void AfterLoss(Link link)
    {
        lock (_gate)
        {
            if (_link != link || !link.ClaimLoss()) return;
            _link = null;
        }
        var reason = link.DropReason;
        _events.Post(new BrickEvent(this, BrickEventKind.Disconnected, null, 0, Array.Empty<byte>(), null, reason.ToString()));
        if (reason != BrickDisconnectReason.Request && _autoReconnect && !_userDisconnected && !_closing.IsCancellationRequested)
        {
            StartReconnecting();
        }
        else if (State is not DeviceSessionState.Closed)
        {
            SetState(DeviceSessionState.Disconnected);
        }
    }

    private void StartReconnecting()
    {
        SetState(DeviceSessionState.Reconnecting);
        if (Interlocked.Exchange(ref _reconnecting, 1) == 0) _ = Task.Run(ReconnectLoopAsync);
    }

    private async Task ReconnectLoopAsync()
    {
        Link? link = null;
        try
        {
            while (link is null && _autoReconnect && !_userDisconnected && !_closing.IsCancellationRequested)
            {
                await Task.Delay(_options.ReconnectInterval, _closing.Token).ConfigureAwait(false);
                try
                {
                    link = await OpenAuthenticatedLinkAsync(_closing.Token).ConfigureAwait(false);
                }
                catch (DeviceException)
                {
                    // Daemon still away (or refusing our secret): keep trying until the user disconnects.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The session is closing.
        }
        // Let the next loss start a new loop before the link is adopted: it may die at once.
        Interlocked.Exchange(ref _reconnecting, 0);
        if (link is not null)
        {
            Interlocked.Increment(ref _reconnects);
            Adopt(link, BrickConnectReason.AutoReconnect);
        }
        else if (!_userDisconnected && State == DeviceSessionState.Reconnecting)
        {
            SetState(DeviceSessionState.Disconnected);
        }
    }

    /// <summary>Runs on the reader task: responses go straight to their waiting caller, callbacks into the queue.</summary>
    private void Dispatch(Link link, TfpPacket packet)
    {
        if (packet.Sequence != 0)
        {
            // Completes the caller inline, on this reader task: no thread-pool hand-off per round trip.
            if (!_slots.TryGetValue(packet.Uid, out var slot) || !slot.TryAnswer(link, packet))
                Interlocked.Increment(ref _staleResponses);
            return;
        }
        if (packet.FunctionId == TfpFunction.CallbackEnumerate)
        {
            // The bindings ignore enumerate callbacks of any other length; so do we.
            if (packet.Payload.Length != BrickDevice.IdentityLength + 1) return;
            var device = BrickDevice.FromPayload(packet.Payload, this);
            if (device.EnumerationType == BrickEnumerationType.Disconnected) _knownDevices.TryRemove(device.Uid, out _);
            else _knownDevices[device.Uid] = device;
            ForgetDeviceType(packet.Uid);
            Action<BrickDevice>[] observers;
            lock (_enumerateObservers) { observers = _enumerateObservers.ToArray(); }
            foreach (var observe in observers) observe(device);
            // Available answers while EnumerateAsync collects are the answer to the module's own request, not background events.
            if (observers.Length > 0 && device.EnumerationType == BrickEnumerationType.Available) return;
            _events.Post(new BrickEvent(this, BrickEventKind.Enumerate, device.Uid, packet.FunctionId, packet.Payload, device, null));
            return;
        }
        if (packet.FunctionId == 0) return; // CALLBACK_FORCED_ACK of a WIFI Extension: not a callback
        _events.Post(new BrickEvent(this, BrickEventKind.Callback, BrickUid.Encode(packet.Uid), packet.FunctionId, packet.Payload, null, null));
        AssembleStreamCallback(packet);
    }

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

    /// <summary>How often each link looks for requests past their deadline, stalled writes and the need to probe.</summary>
    private static readonly TimeSpan SweepPeriod = TimeSpan.FromMilliseconds(50);

    /// <summary>One TCP connection: its socket, its reader task, its sweep (timeouts, stalls, probe) and its sequence counter.</summary>
    private sealed class Link
    {
        private readonly BrickSession _session;
        private readonly Socket _socket;
        private int _sequence;
        private int _traffic;
        private long _writeStartedAt;
        private long _writeLimitMs;
        private int _dead;
        private int _lossClaimed;

        public Link(BrickSession session, Socket socket)
        {
            _session = session;
            _socket = socket;
            Stream = new NetworkStream(socket, ownsSocket: true);
        }

        public NetworkStream Stream { get; }

        public SemaphoreSlim WriteLock { get; } = new(1, 1);

        public CancellationTokenSource Stop { get; } = new();

        public bool IsDead => Volatile.Read(ref _dead) != 0;

        public BrickDisconnectReason DropReason { get; private set; }

        public DeviceException? LostError { get; private set; }

        /// <summary>1, 2, ..., 15, 1, ... (0 is reserved for callbacks).</summary>
        public byte NextSequence() => (byte)((uint)(Interlocked.Increment(ref _sequence) - 1) % 15 + 1);

        public void MarkTraffic() => Volatile.Write(ref _traffic, 1);

        /// <summary>A write starts: the sweep drops the link if it is still running after <paramref name="timeout"/> or the probe interval.</summary>
        public void BeginWrite(TimeSpan timeout)
        {
            long limit = (long)Math.Min(timeout.TotalMilliseconds, _session._options.DisconnectProbeInterval.TotalMilliseconds);
            Volatile.Write(ref _writeLimitMs, Math.Max(1, limit));
            Volatile.Write(ref _writeStartedAt, Environment.TickCount64);
        }

        public void EndWrite()
        {
            Volatile.Write(ref _writeStartedAt, 0);
            MarkTraffic();
        }

        public bool MarkDead(BrickDisconnectReason reason, DeviceException error)
        {
            if (Interlocked.Exchange(ref _dead, 1) != 0) return false;
            DropReason = reason;
            LostError = error;
            return true;
        }

        /// <summary>True for the one caller that gets to announce this link's loss.</summary>
        public bool ClaimLoss() => Interlocked.Exchange(ref _lossClaimed, 1) == 0;

        public void Start()
        {
            _ = Task.Run(ReadLoopAsync);
            _ = Task.Run(SweepLoopAsync);
        }

        public void Close()
        {
            Stop.Cancel();
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already gone.
            }
            Stream.Dispose();
        }

        private async Task ReadLoopAsync()
        {
            var framer = new TfpFramer();
            var reason = BrickDisconnectReason.Error;
            string why;
            DeviceException? error = null;
            try
            {
                while (true)
                {
                    int read = await Stream.ReadAsync(framer.FreeSpace, Stop.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        reason = BrickDisconnectReason.Shutdown;
                        why = "the daemon closed the connection";
                        break;
                    }
                    MarkTraffic();
                    framer.Advance(read);
                    while (framer.TryTake(out var packet)) _session.Dispatch(this, packet);
                }
            }
            catch (InvalidDataException ex)
            {
                // There is no way to find the next header in a TCP stream once a length is wrong: start afresh.
                why = "malformed packet: " + ex.Message;
                // Not STREAM_OUT_OF_SYNC: the bindings mean chunks of a high-level stream by that (BrickSession.Streams.cs).
                error = BrickErrors.Create(DeviceErrorKind.Protocol, "MalformedPacket",
                    $"The byte stream from {_session.Endpoint} is out of sync ({ex.Message}): the connection was dropped; is the peer a Brick Daemon?", _session.Endpoint, ex);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                why = "receive failed: " + ex.Message;
            }
            _session.Drop(this, reason, why, error);
        }

        /// <summary>
        /// The link's one timer: fails requests past their deadline, drops the link when a write has stalled (the daemon
        /// stopped reading), and sends the disconnect probe when nothing went over the link for the probe interval.
        /// </summary>
        private async Task SweepLoopAsync()
        {
            // The bindings take the probe's sequence number once per connection.
            var probe = new TfpPacket(BrickUid.Broadcast, TfpFunction.DisconnectProbe, NextSequence(), false, 0, Array.Empty<byte>());
            var probeInterval = _session._options.DisconnectProbeInterval;
            long quietSince = Environment.TickCount64;
            using var timer = new PeriodicTimer(SweepPeriod);
            try
            {
                while (await timer.WaitForNextTickAsync(Stop.Token).ConfigureAwait(false))
                {
                    long now = Environment.TickCount64;
                    foreach (var (_, slot) in _session._slots) slot.ExpireIfDue(this, now, _session); // lock-free, unlike .Values
                    long writing = Volatile.Read(ref _writeStartedAt);
                    if (writing != 0 && now - writing > Volatile.Read(ref _writeLimitMs))
                    {
                        _session.Drop(this, BrickDisconnectReason.Error, $"a write stalled for {(now - writing) / 1000.0:0.#} s: the daemon stopped reading");
                        return;
                    }
                    if (Interlocked.Exchange(ref _traffic, 0) != 0) quietSince = now;
                    else if (now - quietSince >= probeInterval.TotalMilliseconds && WriteLock.CurrentCount > 0)
                    {
                        quietSince = now;
                        _ = ProbeAsync(probe, probeInterval);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The link ended.
            }
        }

        private async Task ProbeAsync(TfpPacket probe, TimeSpan probeInterval)
        {
            try
            {
                await _session.SendAsync(this, probe, probeInterval, Stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or DeviceException)
            {
                // The link ended; Drop has run (SendAsync drops the link when the probe cannot be written).
            }
        }
    }
}
