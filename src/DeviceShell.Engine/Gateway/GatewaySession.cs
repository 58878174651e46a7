using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DeviceShell.Engine.Sessions;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Gsdk.Connect;

namespace DeviceShell.Engine.Gateway;

/// <summary>
/// A session with a Suprema device gateway: a lease on the gRPC channel (Grpc.Net.Client, one HTTP/2 connection over
/// TLS that trusts only the given CA) that every session to the same gateway and CA shares (<see cref="GatewayChannelPool"/>),
/// every Connect RPC with a per-call deadline, HTTP/2 keep-alive pings that detect a gateway gone silent, and a status
/// subscription of its own kept open in the background. When the
/// stream drops (or delivers a message that cannot be parsed), the session goes to Reconnecting,
/// resubscribes on its own and posts a gap marker into <see cref="StatusChanges"/>, because changes made
/// while it was away are not replayed. No protobuf or gRPC stub type leaves this class.
/// </summary>
public sealed partial class GatewaySession : DeviceSession
{
    /// <summary>
    /// Resubscription back-off: the first retry after <see cref="FirstResubscribeDelay"/>, doubling (with jitter) up to
    /// <see cref="MaxResubscribeDelay"/>. It starts over only after a stream that lived <see cref="StableStream"/>, so a
    /// gateway whose streams fail right after they open (a malformed message, a refusal) is not asked many times a second.
    /// </summary>
    private static readonly TimeSpan FirstResubscribeDelay = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan MaxResubscribeDelay = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan StableStream = TimeSpan.FromSeconds(30);

    /// <summary>The least deadline of a device Connect when none is given (the gateway holds the call while it reaches the device).</summary>
    public static readonly TimeSpan DefaultDeviceConnectTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// What one status change counts for in the session's byte bound: the change object and its buffer entry; a gap
    /// marker adds its message. Changes are small and fixed-size, so the item bound usually binds first.
    /// </summary>
    private const int StatusChangeSize = 96;

    private readonly GatewayChannelPool.Lease _channel;
    private readonly Connect.ConnectClient _client;
    private readonly CancellationTokenSource _closing = new();
    private readonly object _knownGate = new();
    private uint[] _knownDeviceIds = Array.Empty<uint>();
    private Task? _statusReader;
    private long _resubscriptions;
    private int _resubscribing; // 1 from a dropped stream until the gateway accepted the next subscription
    private string? _dropCause; // why the stream first dropped, for the gap marker
    private static readonly TimeSpan HeaderWait = TimeSpan.FromSeconds(1);
    private readonly TaskCompletionSource _headersReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private GatewaySession(GatewayConnectOptions options, GatewayChannelPool.Lease channel)
        : base(DeviceWorld.Gateway, $"{options.HostName}:{options.Port}")
    {
        _channel = channel;
        _client = new Connect.ConnectClient(channel.Channel.Intercept(new GatewayRecordingInterceptor(() => Recording)));
        HostName = options.HostName;
        Port = options.Port;
        CallTimeout = options.Timeout;
        StatusQueueSize = options.StatusQueueSize;
        StatusChanges = new EventBuffer<GatewayStatusChange>(options.EventCapacity, this, options.EventMaxBytes, change => StatusChangeSize + 2 * (change.Message?.Length ?? 0));
    }

    /// <summary>The gateway's host name, as given in <see cref="GatewayConnectOptions.HostName"/>.</summary>
    public string HostName { get; }

    /// <summary>The gateway's gRPC port.</summary>
    public int Port { get; }

    /// <summary>Deadline of each RPC (SearchDevice adds its own search time).</summary>
    public TimeSpan CallTimeout { get; set; }

    /// <summary>Status changes as they arrive, plus gap markers after a resubscription.</summary>
    internal EventBuffer<GatewayStatusChange> StatusChanges { get; }

    /// <summary>Raised (on the buffer's dispatcher task) for every status change; works with Register-ObjectEvent.</summary>
    public event EventHandler<GatewayStatusChange>? StatusChanged
    {
        add => StatusChanges.Received += value;
        remove => StatusChanges.Received -= value;
    }

    /// <inheritdoc/>
    public override long DroppedEvents => StatusChanges.Dropped;

    /// <inheritdoc/>
    public override int QueuedEvents => StatusChanges.Count;

    /// <summary>How many status changes the gateway may queue for this session's status stream (SubscribeStatus queueSize).</summary>
    public int StatusQueueSize { get; }

    /// <summary>How often the status stream had to be opened again after it dropped.</summary>
    public long Resubscriptions => Interlocked.Read(ref _resubscriptions);

    /// <summary>Device ids seen in the last search or device list (for tab completion).</summary>
    public IReadOnlyList<uint> KnownDeviceIds
    {
        get { lock (_knownGate) { return _knownDeviceIds; } }
    }

    /// <summary>
    /// Leases the shared channel to the gateway (opening it when this is the first session to it with this CA) and checks
    /// it with GetAcceptFilter, whose answer is a few bytes (GetDeviceList would carry every managed device, up to thousands).
    /// <see cref="GatewayConnectOptions.CaCertificateFile"/> (PEM or DER) is the only trusted root. Fails with
    /// CaCertificateNotFound / CaCertificateInvalid / GatewayTlsFailed / GatewayUnavailable / GatewayDeadlineExceeded.
    /// </summary>
    public static async Task<GatewaySession> ConnectAsync(GatewayConnectOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        string caCertificateFile = options.CaCertificateFile;
        if (!File.Exists(caCertificateFile))
            throw new DeviceException(DeviceErrorKind.NotFound, "CaCertificateNotFound", $"The CA certificate file '{caCertificateFile}' does not exist.", caCertificateFile);
        X509Certificate2 ca;
        try
        {
            ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(caCertificateFile, cancellationToken).ConfigureAwait(false));
        }
        catch (CryptographicException)
        {
            try
            {
                ca = new X509Certificate2(await File.ReadAllBytesAsync(caCertificateFile, cancellationToken).ConfigureAwait(false));
            }
            catch (CryptographicException ex)
            {
                throw new DeviceException(DeviceErrorKind.InvalidArgument, "CaCertificateInvalid", $"'{caCertificateFile}' holds no readable certificate (PEM or DER).", caCertificateFile, ex);
            }
        }
        var channel = GatewayChannelPool.Shared.Acquire(options.HostName, options.Port, ca, options.MaxReceiveMessageSize, options.KeepAlive);
        var session = new GatewaySession(options, channel);
        // The status subscription goes out beside the connect check rather than after its answer: on a new channel both
        // wait for the one connection, and the first process to connect compiles both paths at once (docs/benchmarks.md
        // "Gateway cold start"). A check that fails ends the subscription with the session.
        session._statusReader = Task.Run(() => session.ReadStatusAsync(session._closing.Token), CancellationToken.None); // outlives the connect call
        try
        {
            await session.CallAsync("GetAcceptFilter", options => session._client.GetAcceptFilterAsync(new GetAcceptFilterRequest(), options), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        if (Volatile.Read(ref session._resubscribing) == 0) session.SetState(DeviceSessionState.Connected);
        // Status changes made right after Connect-Gateway returns should not be missed: wait briefly for the
        // stream's response headers. Gateways that send them only with the first change are not waited for.
        try
        {
            await session._headersReceived.Task.WaitAsync(TimeSpan.FromTicks(Math.Min(options.Timeout.Ticks, HeaderWait.Ticks)), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The subscription request is out; the stream goes on in the background.
        }
        catch (OperationCanceledException)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return session;
    }

    /// <summary>SearchDevice: the devices the gateway finds on its subnet within <paramref name="searchTime"/>; their ids are remembered for tab completion.</summary>
    /// <param name="searchTime">How long the gateway searches; the call's deadline is this plus <paramref name="timeout"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="timeout">The call's deadline; null for <see cref="CallTimeout"/>.</param>
    /// <exception cref="DeviceException">Gateway&lt;Status&gt; for a gRPC failure (GatewayUnavailable, GatewayDeadlineExceeded, GatewayPermissionDenied, ...) or SessionClosed.</exception>
    public async Task<IReadOnlyList<GatewaySearchResult>> SearchAsync(TimeSpan searchTime, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var request = new SearchDeviceRequest { Timeout = (uint)Math.Clamp(searchTime.TotalMilliseconds, 0, uint.MaxValue) };
        var response = await CallAsync("SearchDevice", options => _client.SearchDeviceAsync(request, options), cancellationToken, searchTime + (timeout ?? CallTimeout)).ConfigureAwait(false);
        var found = response.DeviceInfos.Select(d => new GatewaySearchResult
        {
            DeviceId = d.DeviceID, Type = (GatewayDeviceType)d.Type, UseDhcp = d.UseDHCP, ConnectionMode = (GatewayConnectionMode)d.ConnectionMode,
            IPAddress = d.IPAddr, Port = d.Port, UseSsl = d.UseSSL, ServerAddress = d.ServerAddr,
        }).ToArray();
        Remember(found.Select(d => d.DeviceId));
        return found;
    }

    /// <summary>
    /// Synchronous Connect: returns the device id the gateway reports. The gateway answers only once it reached the
    /// device (or gave up), so the deadline is <see cref="DefaultDeviceConnectTimeout"/> (or <see cref="CallTimeout"/> when longer) unless given.
    /// </summary>
    public async Task<uint> ConnectDeviceAsync(string ipAddress, int port, bool useSsl, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var request = new ConnectRequest { ConnectInfo = new ConnectInfo { IPAddr = ipAddress, Port = port, UseSSL = useSsl } };
        return (await CallAsync("Connect", options => _client.ConnectAsync(request, options), cancellationToken,
            timeout ?? (CallTimeout > DefaultDeviceConnectTimeout ? CallTimeout : DefaultDeviceConnectTimeout), $"{ipAddress}:{port}").ConfigureAwait(false)).DeviceID;
    }

    /// <summary>AddAsyncConnection: registers devices the gateway connects to and reconnects on its own.</summary>
    /// <param name="connections">The devices to add, with address, port and whether to use TLS.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="timeout">The call's deadline; null for <see cref="CallTimeout"/>.</param>
    /// <exception cref="DeviceException">Gateway&lt;Status&gt; for a gRPC failure (GatewayUnavailable, GatewayDeadlineExceeded, GatewayPermissionDenied, ...) or SessionClosed.</exception>
    public Task AddAsyncConnectionsAsync(IEnumerable<GatewayAsyncConnection> connections, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var request = new AddAsyncConnectionRequest();
        request.ConnectInfos.AddRange(connections.Select(c => new AsyncConnectInfo { DeviceID = c.DeviceId, IPAddr = c.IPAddress, Port = c.Port, UseSSL = c.UseSsl }));
        return CallAsync("AddAsyncConnection", options => _client.AddAsyncConnectionAsync(request, options), cancellationToken, timeout);
    }

    /// <summary>DeleteAsyncConnection: removes async connections; the gateway disconnects those devices.</summary>
    /// <param name="deviceIds">The devices to remove.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="timeout">The call's deadline; null for <see cref="CallTimeout"/>.</param>
    /// <exception cref="DeviceException">Gateway&lt;Status&gt; for a gRPC failure (GatewayUnavailable, GatewayDeadlineExceeded, GatewayPermissionDenied, ...) or SessionClosed.</exception>
    public Task DeleteAsyncConnectionsAsync(IEnumerable<uint> deviceIds, CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        CallAsync("DeleteAsyncConnection", options => _client.DeleteAsyncConnectionAsync(new DeleteAsyncConnectionRequest { DeviceIDs = { deviceIds } }, options), cancellationToken, timeout);

    /// <summary>GetAcceptFilter: which device-to-server devices the gateway admits.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="timeout">The call's deadline; null for <see cref="CallTimeout"/>.</param>
    /// <exception cref="DeviceException">Gateway&lt;Status&gt; for a gRPC failure (GatewayUnavailable, GatewayDeadlineExceeded, GatewayPermissionDenied, ...) or SessionClosed.</exception>
    public async Task<GatewayAcceptFilter> GetAcceptFilterAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var response = await CallAsync("GetAcceptFilter", options => _client.GetAcceptFilterAsync(new GetAcceptFilterRequest(), options), cancellationToken, timeout).ConfigureAwait(false);
        var filter = response.Filter ?? new AcceptFilter();
        return new GatewayAcceptFilter { AllowAll = filter.AllowAll, DeviceId = filter.DeviceIDs.ToArray(), IPAddress = filter.IPAddrs.ToArray(), SubnetMask = filter.SubnetMasks.ToArray() };
    }

    /// <summary>SetAcceptFilter: replaces the accept filter as a whole.</summary>
    /// <param name="filter">The new filter; empty and not AllowAll admits none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="timeout">The call's deadline; null for <see cref="CallTimeout"/>.</param>
    /// <exception cref="DeviceException">Gateway&lt;Status&gt; for a gRPC failure (GatewayUnavailable, GatewayDeadlineExceeded, GatewayPermissionDenied, ...) or SessionClosed.</exception>
    public Task SetAcceptFilterAsync(GatewayAcceptFilter filter, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var request = new SetAcceptFilterRequest
        {
            Filter = new AcceptFilter { AllowAll = filter.AllowAll, DeviceIDs = { filter.DeviceId }, IPAddrs = { filter.IPAddress }, SubnetMasks = { filter.SubnetMask } },
        };
        return CallAsync("SetAcceptFilter", options => _client.SetAcceptFilterAsync(request, options), cancellationToken, timeout);
    }

    /// <summary>GetPendingList: device-to-server devices that tried to connect but the accept filter did not admit.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="timeout">The call's deadline; null for <see cref="CallTimeout"/>.</param>
    /// <exception cref="DeviceException">Gateway&lt;Status&gt; for a gRPC failure (GatewayUnavailable, GatewayDeadlineExceeded, GatewayPermissionDenied, ...) or SessionClosed.</exception>
    public async Task<IReadOnlyList<GatewayPendingDevice>> GetPendingDevicesAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var response = await CallAsync("GetPendingList", options => _client.GetPendingListAsync(new GetPendingListRequest(), options), cancellationToken, timeout).ConfigureAwait(false);
        return response.DeviceInfos.Select(d => new GatewayPendingDevice
        {
            DeviceId = d.DeviceID, Type = (GatewayDeviceType)d.Type, IPAddress = d.IPAddr, LastTry = DateTimeOffset.FromUnixTimeSeconds(d.LastTry).LocalDateTime,
        }).ToArray();
    }

    /// <summary>GetDeviceList: the devices the gateway manages, with their status; their ids are remembered for tab completion.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="timeout">The call's deadline; null for <see cref="CallTimeout"/>.</param>
    /// <exception cref="DeviceException">Gateway&lt;Status&gt; for a gRPC failure (GatewayUnavailable, GatewayDeadlineExceeded, GatewayPermissionDenied, ...) or SessionClosed.</exception>
    public async Task<IReadOnlyList<GatewayDevice>> GetDevicesAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var response = await CallAsync("GetDeviceList", options => _client.GetDeviceListAsync(new GetDeviceListRequest(), options), cancellationToken, timeout).ConfigureAwait(false);
        var devices = response.DeviceInfos.Select(d => new GatewayDevice
        {
            DeviceId = d.DeviceID, Type = (GatewayDeviceType)d.Type, ConnectionMode = (GatewayConnectionMode)d.ConnectionMode, IPAddress = d.IPAddr,
            Port = d.Port, Status = (GatewayDeviceStatus)d.Status, AutoReconnect = d.AutoReconnect, UseSsl = d.UseSSL,
        }).ToArray();
        Remember(devices.Select(d => d.DeviceId));
        return devices;
    }

    /// <summary>Disconnect: the gateway drops these devices (async connections are reconnected by the gateway later).</summary>
    /// <param name="deviceIds">The devices to disconnect.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="timeout">The call's deadline; null for <see cref="CallTimeout"/>.</param>
    /// <exception cref="DeviceException">Gateway&lt;Status&gt; for a gRPC failure (GatewayUnavailable, GatewayDeadlineExceeded, GatewayPermissionDenied, ...) or SessionClosed.</exception>
    public Task DisconnectDevicesAsync(IEnumerable<uint> deviceIds, CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        CallAsync("Disconnect", options => _client.DisconnectAsync(new DisconnectRequest { DeviceIDs = { deviceIds } }, options), cancellationToken, timeout);

    /// <summary>DisconnectAll: the gateway drops every device it is connected to.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="timeout">The call's deadline; null for <see cref="CallTimeout"/>.</param>
    /// <exception cref="DeviceException">Gateway&lt;Status&gt; for a gRPC failure (GatewayUnavailable, GatewayDeadlineExceeded, GatewayPermissionDenied, ...) or SessionClosed.</exception>
    public Task DisconnectAllDevicesAsync(CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        CallAsync("DisconnectAll", options => _client.DisconnectAllAsync(new DisconnectAllRequest(), options), cancellationToken, timeout);

    /// <summary>SetConnectionModeMulti; returns the devices that failed (empty when all changed).</summary>
    public Task<IReadOnlyList<GatewayDeviceError>> SetConnectionModeAsync(IReadOnlyCollection<uint> deviceIds, GatewayConnectionMode mode, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var request = new SetConnectionModeMultiRequest { DeviceIDs = { deviceIds }, ConnectionMode = (ConnectionMode)mode };
        return MultiAsync("SetConnectionModeMulti", options => _client.SetConnectionModeMultiAsync(request, options), r => r.DeviceErrors, timeout, cancellationToken);
    }

    /// <summary>EnableSSLMulti / DisableSSLMulti; returns the devices that failed.</summary>
    public Task<IReadOnlyList<GatewayDeviceError>> SetSslAsync(IReadOnlyCollection<uint> deviceIds, bool enabled, CancellationToken cancellationToken, TimeSpan? timeout = null) => enabled
        ? MultiAsync("EnableSSLMulti", options => _client.EnableSSLMultiAsync(new EnableSSLMultiRequest { DeviceIDs = { deviceIds } }, options), r => r.DeviceErrors, timeout, cancellationToken)
        : MultiAsync("DisableSSLMulti", options => _client.DisableSSLMultiAsync(new DisableSSLMultiRequest { DeviceIDs = { deviceIds } }, options), r => r.DeviceErrors, timeout, cancellationToken);

    /// <summary>GetSlaveDevice: the RS-485 and Wiegand slaves registered under each parent device.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="timeout">The call's deadline; null for <see cref="CallTimeout"/>.</param>
    /// <exception cref="DeviceException">Gateway&lt;Status&gt; for a gRPC failure (GatewayUnavailable, GatewayDeadlineExceeded, GatewayPermissionDenied, ...) or SessionClosed.</exception>
    public async Task<IReadOnlyList<GatewaySlaveDevice>> GetSlaveDevicesAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var response = await CallAsync("GetSlaveDevice", options => _client.GetSlaveDeviceAsync(new GetSlaveDeviceRequest(), options), cancellationToken, timeout).ConfigureAwait(false);
        return response.SlaveDeviceInfos.Select(s => new GatewaySlaveDevice
        {
            DeviceId = s.DeviceID, Rs485SlaveDeviceId = s.Rs485SlaveDeviceIDs.ToArray(), WiegandSlaveDeviceId = s.WiegandSlaveDeviceIDs.ToArray(),
        }).ToArray();
    }

    /// <summary>SetSlaveDevice: registers the RS-485 and Wiegand slaves of each parent device given.</summary>
    /// <param name="slaves">One entry per parent device; its lists replace that parent's slaves.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="timeout">The call's deadline; null for <see cref="CallTimeout"/>.</param>
    /// <exception cref="DeviceException">Gateway&lt;Status&gt; for a gRPC failure (GatewayUnavailable, GatewayDeadlineExceeded, GatewayPermissionDenied, ...) or SessionClosed.</exception>
    public Task SetSlaveDevicesAsync(IEnumerable<GatewaySlaveDevice> slaves, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var request = new SetSlaveDeviceRequest();
        request.SlaveDeviceInfos.AddRange(slaves.Select(s => new SlaveDeviceInfo
        {
            DeviceID = s.DeviceId, Rs485SlaveDeviceIDs = { s.Rs485SlaveDeviceId }, WiegandSlaveDeviceIDs = { s.WiegandSlaveDeviceId },
        }));
        return CallAsync("SetSlaveDevice", options => _client.SetSlaveDeviceAsync(request, options), cancellationToken, timeout);
    }

    private void Remember(IEnumerable<uint> deviceIds)
    {
        lock (_knownGate) { _knownDeviceIds = deviceIds.Distinct().ToArray(); }
    }

    /// <summary>One unary RPC with its deadline (<see cref="CallTimeout"/> unless given); a non-OK status becomes a <see cref="DeviceException"/> naming the gateway.</summary>
    private async Task<TResponse> CallAsync<TResponse>(string method, Func<CallOptions, AsyncUnaryCall<TResponse>> call, CancellationToken cancellationToken,
        TimeSpan? deadline = null, object? target = null)
    {
        if (State == DeviceSessionState.Closed)
            throw new DeviceException(DeviceErrorKind.InvalidOperation, "SessionClosed", $"{this} is closed.", this);
        try
        {
            using var pending = call(new CallOptions(deadline: DateTime.UtcNow + (deadline ??= CallTimeout), cancellationToken: cancellationToken));
            return await pending.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C in a cmdlet: an OperationCanceledException, not a gateway error. (The channel's option to throw it
            // directly would also turn a passed deadline into one, losing GatewayDeadlineExceeded.)
            throw new OperationCanceledException($"{method} was cancelled.", ex, cancellationToken);
        }
        catch (RpcException ex)
        {
            throw GatewayErrors.From(ex, method, target ?? Endpoint, Endpoint, deadline);
        }
    }

    private async Task<IReadOnlyList<GatewayDeviceError>> MultiAsync<TResponse>(string method, Func<CallOptions, AsyncUnaryCall<TResponse>> call,
        Func<TResponse, IEnumerable<Gsdk.Err.ErrorResponse>> legacyErrors, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        try
        {
            var response = await CallAsync(method, call, cancellationToken, timeout).ConfigureAwait(false);
            // Gateways before V1.4 listed the failures in the response body instead of the status.
            return legacyErrors(response).Select(e => new GatewayDeviceError(e.DeviceID, (StatusCode)e.Code, e.Msg)).ToArray();
        }
        catch (DeviceException ex) when (ex.InnerException is RpcException rpc && GatewayErrors.UnpackMulti(rpc.Trailers) is { Count: > 0 } perDevice)
        {
            return perDevice;
        }
    }
}
