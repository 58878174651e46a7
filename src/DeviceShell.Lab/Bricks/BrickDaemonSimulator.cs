using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Hosting;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.Bricks;

/// <summary>
/// A Brick Daemon (brickd) with a simulated stack, behaving as docs/design/bricks-tfp.md §4, §5 and §8 describe:
/// packet validation that closes the connection, the authentication state machine, routing by UID,
/// error replies from the daemon itself (UID 1), callbacks broadcast to every authenticated client,
/// responses to the requester only, and enumerate CONNECTED/DISCONNECTED callbacks when devices are
/// plugged or unplugged at run time (Lab commands add-device, remove-device).
/// The stack is the default one (<see cref="SimulatedDevices.DefaultStack"/>) unless the constructor or the
/// <c>--brick-stack</c> setting gives another (see <see cref="SimulatedDevices.ParseStack"/>).
/// <c>--brick-replay FILE</c> serves a Bricks recording (<see cref="BrickReplay"/>) with the recorded devices as the
/// stack, answering what it does not cover as that stack would; <c>--brick-replay-speed X</c> scales its pace (default 1).
/// A replaying daemon accepts clients with any secret or none: the recording holds no secret to check against.
/// </summary>
[LabSimulator("brick", "Tinkerforge Brick Daemon (TFP over TCP) with a simulated stack")]
public sealed partial class BrickDaemonSimulator : ILabSimulator, ILabControllable, IReplayReporter
{
    private readonly ConcurrentDictionary<uint, SimulatedBrickDevice> _devices = new();
    private readonly List<Client> _clients = new();
    private long _clientsTakenOn;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _callbacksChanged = new(0);
    private TcpListener? _listener;
    private Task? _acceptLoop;
    private BrickReplay? _replay;
    private Task? _callbackLoop;
    private ILogger _log = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private int _wrongSecrets;
    private SecretGuessThrottle _guesses = new(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
    private string? _secret;
    private uint _nextNonce;
    private long _probes;
    private int _disposed;

    public BrickDaemonSimulator() : this(SimulatedDevices.DefaultStack()) { }

    public BrickDaemonSimulator(IEnumerable<SimulatedBrickDevice> devices)
    {
        foreach (var device in devices) Attach(device);
    }

    private void Attach(SimulatedBrickDevice device)
    {
        _devices[device.UidValue] = device;
        device.CallbacksChanged = () => _callbacksChanged.Release();
    }

    /// <summary>Authenticate requests whose digest was checked and wrong (turned-away requests are not checked).</summary>
    public int WrongSecrets => Volatile.Read(ref _wrongSecrets);

    /// <summary>The authentication secret; set it before starting, or pass <c>--brick-secret</c> to the Lab.</summary>
    public string? Secret
    {
        get => _secret;
        init => _secret = string.IsNullOrEmpty(value) ? null : value;
    }

    public IPEndPoint? Endpoint { get; private set; }

    public IReadOnlyList<SimulatedBrickDevice> Devices => _devices.Values.OrderBy(d => d.ConnectedUid, StringComparer.Ordinal).ThenBy(d => d.Position).ToArray();

    public int ClientCount
    {
        get { lock (_clients) { return _clients.Count; } }
    }

    /// <summary>
    /// Clients taken on since the start, never decreasing. A client's connect completes before the simulator has taken
    /// it on (the kernel finishes the handshake), and a broadcast reaches only the clients taken on: a test waits for this
    /// to grow before it makes the simulator broadcast.
    /// </summary>
    public long ClientsTakenOn => Interlocked.Read(ref _clientsTakenOn);

    /// <summary>Disconnect probes received (brickd drops them silently).</summary>
    public long ProbesReceived => Interlocked.Read(ref _probes);

    public Task<LabSimulatorEndpoint> StartAsync(LabSimulatorOptions options, CancellationToken cancellationToken)
    {
        _log = options.LoggerFactory.CreateLogger<BrickDaemonSimulator>();
        _guesses = new SecretGuessThrottle(_log);
        _secret ??= string.IsNullOrEmpty(options.Setting("secret")) ? null : options.Setting("secret");
        if (options.Setting("stack") is string stack)
        {
            _devices.Clear();
            foreach (var device in SimulatedDevices.ParseStack(stack)) Attach(device);
        }
        if (ReplaySetting.From(options, "brick") is var (recording, speed)) ServeReplay(BrickReplay.Load(recording, speed));
        if (_secret is not null)
        {
            if (_secret.Length > 64 || _secret.Any(c => c < 0x20 || c > 0x7E))
                throw new ArgumentException("The Brick Daemon secret must be at most 64 printable ASCII characters.");
            // brickd starts its nonce counter at a random value and hands out the next one per connection.
            _nextNonce = (uint)RandomNumberGenerator.GetInt32(int.MaxValue);
        }
        // No ReuseAddress: on Linux .NET maps it to SO_REUSEPORT as well, which let a second lab share a taken port.
        // .NET's own bind on Unix still allows taking a port whose old connections linger in TIME_WAIT.
        _listener = new TcpListener(options.Address, options.Port);
        _listener.Start();
        Endpoint = (IPEndPoint)_listener.LocalEndpoint;
        _acceptLoop = AcceptLoopAsync(_listener, _stop.Token);
        _callbackLoop = Task.Run(() => CallbackLoopAsync(_stop.Token), CancellationToken.None); // outlives the start call
        _log.LogInformation("Brick Daemon simulator on {Endpoint} with {Count} devices, authentication {Auth}", Endpoint, _devices.Count, _secret is null ? "off" : "on");
        return Task.FromResult(new LabSimulatorEndpoint(Endpoint.Address.ToString(), Endpoint.Port));
    }

    /// <summary>Callbacks go to every client that may receive device traffic (authenticated, or auth disabled).</summary>
    private void Broadcast(TfpPacket packet) => Broadcast(packet.ToBytes());

    private void Broadcast(byte[] bytes)
    {
        Client[] clients;
        lock (_clients) { clients = _clients.ToArray(); }
        foreach (var client in clients)
            if (client.MayReceiveDeviceTraffic) client.Send(bytes);
    }

    /// <summary>Serves every accepted socket; a transient accept failure (descriptors exhausted) pauses the loop, never ends it.</summary>
    private Task AcceptLoopAsync(TcpListener listener, CancellationToken stop) =>
        SocketAcceptLoop.RunAsync(listener, socket =>
        {
            if (!DescriptorBudget.TryTake())
            {
                _log.LogDebug("Refused client {Remote}: the Lab holds {Count} connections, its descriptor budget", socket.RemoteEndPoint, DescriptorBudget.Connections);
                socket.Dispose();
                return;
            }
            socket.NoDelay = true;
            var client = new Client(this, socket, _secret is not null ? AuthState.Enabled : _replay is not null ? AuthState.AnySecret : AuthState.Disabled);
            lock (_clients) { _clients.Add(client); }
            Interlocked.Increment(ref _clientsTakenOn);
            _log.LogDebug("Client {Remote} connected", socket.RemoteEndPoint);
            client.Start(stop);
            _replay?.ClientConnected();
        }, warning => _log.LogWarning("Brick Daemon simulator: {Warning}", warning), stop);

    private void Forget(Client client)
    {
        lock (_clients) { _clients.Remove(client); }
    }

    /// <summary>Runs one valid request from a client (after the length/fid/sequence checks).</summary>
    private void Handle(Client client, TfpPacket request)
    {
        if (request.FunctionId == TfpFunction.DisconnectProbe)
        {
            Interlocked.Increment(ref _probes);
            return;
        }
        if (request.Uid == BrickUid.Daemon)
        {
            HandleDaemonRequest(client, request);
            return;
        }
        if (!client.MayReceiveDeviceTraffic) return; // brickd drops device requests until the handshake is done
        if (_replay?.Answer(request) is { } replayed)
        {
            foreach (var packet in replayed) client.Send(packet.ToBytes());
            return;
        }
        if (request.Uid == BrickUid.Broadcast)
        {
            if (request.FunctionId == TfpFunction.Enumerate)
                foreach (var device in Devices)
                    if (!device.Silent) Broadcast(EnumeratePacket(device.Identity, BrickEnumerationType.Available));
            return;
        }
        // An unknown UID gets no answer from brickd: the client times out.
        if (!_devices.TryGetValue(request.Uid, out var target) || target.Silent) return;
        var answer = target.Handle(request.FunctionId, request.Payload);
        if (!request.ResponseExpected) return;
        client.Send(new TfpPacket(request.Uid, request.FunctionId, request.Sequence, true, answer.ErrorCode,
            answer.ErrorCode == 0 ? answer.Payload : Array.Empty<byte>()).ToBytes());
    }

    /// <summary>The daemon's own functions (UID 1): the authentication handshake; anything else is "not supported".</summary>
    private void HandleDaemonRequest(Client client, TfpPacket request)
    {
        switch (request.FunctionId)
        {
            case TfpFunction.GetAuthenticationNonce:
                if (client.Auth == AuthState.Disabled || request.Payload.Length != 0)
                {
                    client.Close("nonce request while authentication is disabled or with a payload");
                    return;
                }
                client.Auth = AuthState.NonceSent;
                if (request.ResponseExpected)
                {
                    var nonce = new byte[4];
                    BinaryPrimitives.WriteUInt32LittleEndian(nonce, client.ServerNonce);
                    client.Send(new TfpPacket(BrickUid.Daemon, request.FunctionId, request.Sequence, true, 0, nonce).ToBytes());
                }
                return;
            case TfpFunction.Authenticate:
                if (client.Auth != AuthState.NonceSent || request.Payload.Length != 24)
                {
                    client.Close("authenticate out of order or with a wrong length");
                    return;
                }
                var serverNonce = new byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(serverNonce, client.ServerNonce);
                // Without a secret this is a replay (AnySecret): any digest is right.
                bool right = _secret is null
                    || CryptographicOperations.FixedTimeEquals(BrickSession.ComputeDigest(_secret, serverNonce, request.Payload.AsSpan(0, 4)), request.Payload.AsSpan(4, 20));
                _guesses.Record(client.RemoteAddress, right);
                if (!right) Interlocked.Increment(ref _wrongSecrets);
                if (!right)
                {
                    client.Close("wrong authentication digest");
                    return;
                }
                client.Auth = AuthState.Done;
                if (request.ResponseExpected)
                    client.Send(new TfpPacket(BrickUid.Daemon, request.FunctionId, request.Sequence, true, 0, Array.Empty<byte>()).ToBytes());
                return;
            default:
                if (request.ResponseExpected && client.MayReceiveDeviceTraffic)
                    client.Send(new TfpPacket(BrickUid.Daemon, request.FunctionId, request.Sequence, true, 2, Array.Empty<byte>()).ToBytes());
                return;
        }
    }

    /// <summary>Sends due periodic callbacks; sleeps until the next one is due or a configuration changes.</summary>
    private async Task CallbackLoopAsync(CancellationToken stop)
    {
        var due = new List<(uint Uid, byte FunctionId, byte[] Payload)>();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                due.Clear();
                TimeSpan wait = TimeSpan.FromSeconds(1);
                long now = Environment.TickCount64;
                foreach (var device in _devices.Values)
                {
                    if (device.CollectDueCallbacks(now, due) is TimeSpan next && next < wait) wait = next;
                }
                foreach (var (uid, functionId, payload) in due) Broadcast(new TfpPacket(uid, functionId, 0, true, 0, payload));
                if (wait > TimeSpan.Zero) await _callbacksChanged.WaitAsync(wait, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>Stops listening and drops every client (they see the daemon go away). Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        lock (_listenerGate)
        {
            _stop.Cancel();
            _listener?.Stop();
        }
        Client[] clients;
        lock (_clients) { clients = _clients.ToArray(); }
        foreach (var client in clients) client.Close("simulator stopping");
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        if (_callbackLoop is not null) await _callbackLoop.ConfigureAwait(false);
        _stop.Dispose();
    }

    private enum AuthState
    {
        Disabled,
        /// <summary>A replay's daemon: device traffic with or without the handshake, which takes any secret.</summary>
        AnySecret,
        Enabled,
        NonceSent,
        Done,
    }
}
