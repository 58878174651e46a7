using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using DeviceShell.Engine.Bricks;
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
/// </summary>
[LabSimulator("brick", "Tinkerforge Brick Daemon (TFP over TCP) with a simulated stack")]
public sealed class BrickDaemonSimulator : ILabSimulator, ILabControllable
{
    private readonly ConcurrentDictionary<uint, SimulatedBrickDevice> _devices = new();
    private readonly List<Client> _clients = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _callbacksChanged = new(0);
    private TcpListener? _listener;
    private Task? _acceptLoop;
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

    /// <summary>Plugs a device: it joins the stack and every client gets an enumerate CONNECTED callback.</summary>
    public void AddDevice(SimulatedBrickDevice device)
    {
        if (_devices.ContainsKey(device.UidValue))
            throw new InvalidOperationException($"A device with UID {device.Uid} is already plugged in.");
        Attach(device);
        Broadcast(EnumeratePacket(device.Identity, BrickEnumerationType.Connected));
    }

    /// <summary>Unplugs a device: clients get an enumerate DISCONNECTED callback carrying only the UID, as brickd sends it.</summary>
    public bool RemoveDevice(string uid)
    {
        if (!_devices.TryRemove(BrickUid.Parse(uid), out var device)) return false;
        var payload = new byte[BrickDevice.IdentityLength + 1];
        BrickUid.WriteField(payload.AsSpan(0, 8), device.Uid);
        payload[BrickDevice.IdentityLength] = (byte)BrickEnumerationType.Disconnected;
        Broadcast(new TfpPacket(device.UidValue, TfpFunction.CallbackEnumerate, 0, true, 0, payload));
        return true;
    }

    public SimulatedBrickDevice? Find(string uid) => BrickUid.TryParse(uid, out uint value) ? _devices.GetValueOrDefault(value) : null;

    /// <summary>
    /// Sends <paramref name="count"/> callbacks of function <paramref name="functionId"/> from <paramref name="uid"/> to every
    /// client as fast as loopback takes them (benchmarks and flood tests: the client's own drops are then the only loss).
    /// Each payload is the callback's index, a 4-byte little-endian counter from 0, so a consumer can check order and loss.
    /// Packets travel in chunks of <see cref="FloodChunkPackets"/>, far below the per-client queue bound: none is dropped here.
    /// </summary>
    public void Flood(string uid, int count, byte functionId = FloodFunctionId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > FloodChunkPackets * 16384) throw new ArgumentOutOfRangeException(nameof(count), $"A flood sends at most {FloodChunkPackets * 16384} callbacks.");
        uint uidValue = BrickUid.Parse(uid);
        var payload = new byte[4];
        for (int first = 0; first < count; first += FloodChunkPackets)
        {
            int packets = Math.Min(FloodChunkPackets, count - first);
            var chunk = new byte[packets * (TfpPacket.HeaderLength + 4)];
            for (int i = 0; i < packets; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(payload, first + i);
                new TfpPacket(uidValue, functionId, 0, true, 0, payload).WriteTo(chunk.AsSpan(i * (TfpPacket.HeaderLength + 4)));
            }
            Broadcast(chunk);
        }
    }

    /// <summary>Callbacks per chunk a flood hands to each client's send queue.</summary>
    public const int FloodChunkPackets = 1024;

    /// <summary>The function ID a flood uses unless told otherwise (not a callback any simulated device defines).</summary>
    public const byte FloodFunctionId = 200;

    /// <summary>Presses or releases a simulated button (RGB LED Button Bricklet); its BUTTON_STATE_CHANGED callback reports the change.</summary>
    public void PressButton(string uid, bool pressed) => SetInput(uid, "ButtonState", pressed ? "Pressed" : "Released");

    /// <summary>
    /// Sets a simulated reading or input of a device by value name (e.g. Temperature 2500 for 25 °C, ButtonState
    /// "Pressed", Value as a bool array); the device's getters report it and its callbacks react to it.
    /// </summary>
    public void SetInput(string uid, string name, object? value)
    {
        var device = Find(uid) ?? throw new ArgumentException($"There is no device with UID {uid}.");
        device.SetInput(name, value);
    }

    /// <summary>Lab commands: add-device {uid, deviceIdentifier, connectedUid?, position?}, remove-device {uid}, list-devices, press-button {uid, pressed}, set-input {uid, name, value}, silence-device {uid, silent}, flood {uid, count, functionId?}.</summary>
    public Task<JsonNode?> ControlAsync(string command, JsonObject arguments, CancellationToken cancellationToken)
    {
        JsonNode? result;
        switch (command)
        {
            case "add-device":
                string uid = RequiredUid(arguments);
                int identifier = arguments["deviceIdentifier"]?.GetValue<int>() ?? throw new ArgumentException("add-device needs deviceIdentifier.");
                string connectedUid = arguments["connectedUid"]?.GetValue<string>() ?? Devices.FirstOrDefault(d => d.ConnectedUid == "0")?.Uid ?? "0";
                string positionText = arguments["position"]?.GetValue<string>() ?? FreePosition(connectedUid).ToString();
                if (positionText.Length != 1) throw new ArgumentException("position is one character ('a'..'h' for Bricklets, '0'..'8' for Bricks).");
                var device = SimulatedDevices.Create(identifier, uid, connectedUid, positionText[0]);
                AddDevice(device);
                result = Describe(device);
                break;
            case "remove-device":
                string removed = RequiredUid(arguments);
                if (!RemoveDevice(removed)) throw new ArgumentException($"There is no device with UID {removed}.");
                result = new JsonObject { ["uid"] = removed };
                break;
            case "list-devices":
                result = new JsonArray(Devices.Select(Describe).ToArray<JsonNode?>());
                break;
            case "press-button":
                PressButton(RequiredString(arguments, "uid"), arguments["pressed"]?.GetValue<bool>() ?? true);
                result = null;
                break;
            case "set-input":
                SetInput(RequiredString(arguments, "uid"), RequiredString(arguments, "name"), InputValue(arguments["value"]));
                result = null;
                break;
            case "flood":
                string floodUid = RequiredUid(arguments);
                int floodCount = arguments["count"]?.GetValue<int>() ?? throw new ArgumentException("flood needs 'count'.");
                Flood(floodUid, floodCount, arguments["functionId"]?.GetValue<byte>() ?? FloodFunctionId);
                result = new JsonObject { ["uid"] = floodUid, ["count"] = floodCount };
                break;
            case "silence-device":
                var silenced = Find(RequiredString(arguments, "uid")) ?? throw new ArgumentException("There is no such device.");
                silenced.Silent = arguments["silent"]?.GetValue<bool>() ?? true;
                result = null;
                break;
            default:
                throw new ArgumentException($"Unknown command '{command}'. Known: add-device, remove-device, list-devices, press-button, set-input, silence-device, flood.");
        }
        return Task.FromResult(result);
    }

    /// <summary>The "uid" argument, checked; a bad one is an ArgumentException, which the Lab host reports as a refused command.</summary>
    private static string RequiredUid(JsonObject arguments)
    {
        string uid = RequiredString(arguments, "uid");
        return BrickUid.TryParse(uid, out _) ? uid : throw new ArgumentException($"'{uid}' is not a valid base58 UID.");
    }

    /// <summary>A JSON input value as the catalogue's packer takes it: numbers, booleans, text (constant names) or arrays of them.</summary>
    private static object? InputValue(JsonNode? node) => node switch
    {
        null => throw new ArgumentException("set-input needs 'value'."),
        JsonArray array => array.Select(InputValue).ToArray(),
        JsonValue value when value.TryGetValue(out bool flag) => flag,
        JsonValue value when value.TryGetValue(out string? text) => text,
        _ => node.GetValue<double>(),
    };

    private static string RequiredString(JsonObject arguments, string name) =>
        arguments[name]?.GetValue<string>() ?? throw new ArgumentException($"The command needs '{name}'.");

    private static JsonObject Describe(SimulatedBrickDevice device) => new()
    {
        ["uid"] = device.Uid,
        ["connectedUid"] = device.ConnectedUid,
        ["position"] = device.Position.ToString(),
        ["deviceIdentifier"] = device.DeviceIdentifier,
        ["deviceName"] = BrickDeviceCatalog.DisplayName(device.DeviceIdentifier),
    };

    private char FreePosition(string connectedUid)
    {
        var taken = _devices.Values.Where(d => d.ConnectedUid == connectedUid).Select(d => d.Position).ToHashSet();
        return "abcdefgh".FirstOrDefault(p => !taken.Contains(p), 'z');
    }

    private static TfpPacket EnumeratePacket(BrickDevice identity, BrickEnumerationType type) =>
        new(BrickUid.Parse(identity.Uid), TfpFunction.CallbackEnumerate, 0, true, 0, identity.ToPayload(type));

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
            var client = new Client(this, socket, _secret is null ? AuthState.Disabled : AuthState.Enabled);
            lock (_clients) { _clients.Add(client); }
            _log.LogDebug("Client {Remote} connected", socket.RemoteEndPoint);
            client.Start(stop);
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
                byte[] expected = BrickSession.ComputeDigest(_secret!, serverNonce, request.Payload.AsSpan(0, 4));
                bool right = CryptographicOperations.FixedTimeEquals(expected, request.Payload.AsSpan(4, 20));
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
        _stop.Cancel();
        _listener?.Stop();
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
        Enabled,
        NonceSent,
        Done,
    }

    /// <summary>One TCP client: a receive loop that validates and runs requests, and a send queue drained by a writer task.</summary>
    private sealed class Client
    {
        // brickd keeps up to 32768 outgoing packets per client and then drops the oldest.
        private readonly Channel<byte[]> _outgoing = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(32768) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        private readonly BrickDaemonSimulator _daemon;
        private readonly Socket _socket;
        private readonly CancellationTokenSource _closed = new();
        private int _closing;

        public Client(BrickDaemonSimulator daemon, Socket socket, AuthState auth)
        {
            _daemon = daemon;
            _socket = socket;
            Auth = auth;
            RemoteAddress = (socket.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
            if (auth != AuthState.Disabled) ServerNonce = Interlocked.Increment(ref daemon._nextNonce);
        }

        /// <summary>Where the client connects from: secret guesses are slowed down per address.</summary>
        public IPAddress RemoteAddress { get; }

        public AuthState Auth { get; set; }

        /// <summary>Fixed for the connection's lifetime (asking again returns the same nonce).</summary>
        public uint ServerNonce { get; }

        public bool MayReceiveDeviceTraffic => Auth is AuthState.Disabled or AuthState.Done;

        public void Start(CancellationToken stop)
        {
            var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, _closed.Token);
            var receive = Task.Run(() => ReceiveLoopAsync(linked.Token), CancellationToken.None);
            var send = Task.Run(() => SendLoopAsync(linked.Token), CancellationToken.None);
            // The linked source is registered on the simulator's stop token: disposing it once both loops are done keeps
            // a long-running simulator from holding one registration per client it ever served.
            _ = Task.WhenAll(receive, send).ContinueWith(_ => linked.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }

        public void Send(byte[] packet) => _outgoing.Writer.TryWrite(packet);

        public void Close(string why)
        {
            if (Interlocked.Exchange(ref _closing, 1) != 0) return;
            _daemon._log.LogDebug("Closing client: {Why}", why);
            _daemon.Forget(this);
            _outgoing.Writer.TryComplete();
            _closed.Cancel();
            _socket.Dispose();
            DescriptorBudget.Return();
        }

        private async Task ReceiveLoopAsync(CancellationToken stop)
        {
            var framer = new TfpFramer();
            string why = "client closed the connection";
            try
            {
                while (true)
                {
                    int read = await _socket.ReceiveAsync(framer.FreeSpace, SocketFlags.None, stop).ConfigureAwait(false);
                    if (read == 0) break;
                    framer.Advance(read);
                    while (framer.TryTake(out var request))
                    {
                        if (request.FunctionId == 0 || request.Sequence == 0)
                        {
                            why = $"invalid request ({request}): function ID and sequence number must not be 0";
                            _daemon._log.LogWarning("Closing a client: {Why}", why);
                            Close(why);
                            return;
                        }
                        if (request.Uid == BrickUid.Daemon && request.FunctionId == TfpFunction.Authenticate && Auth == AuthState.NonceSent)
                        {
                            // An address that guessed wrong too often waits its turn (or is turned away) before the digest is checked.
                            if (_daemon._guesses.TurnDelay(RemoteAddress) is not TimeSpan wait)
                            {
                                Close("too many wrong secrets from this address; turned away for now");
                                return;
                            }
                            if (wait > TimeSpan.Zero) await Task.Delay(wait, stop).ConfigureAwait(false);
                        }
                        _daemon.Handle(this, request);
                    }
                }
            }
            catch (InvalidDataException ex)
            {
                why = ex.Message;
                _daemon._log.LogWarning("Closing a client: {Why}", why);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                why = ex.Message;
            }
            Close(why);
        }

        private async Task SendLoopAsync(CancellationToken stop)
        {
            try
            {
                await foreach (byte[] packet in _outgoing.Reader.ReadAllAsync(stop).ConfigureAwait(false))
                {
                    int sent = 0;
                    while (sent < packet.Length)
                        sent += await _socket.SendAsync(packet.AsMemory(sent), SocketFlags.None, stop).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                Close("send failed: " + ex.Message);
            }
        }
    }
}
