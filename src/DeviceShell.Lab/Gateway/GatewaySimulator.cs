using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using DeviceShell.Lab.Hosting;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Gsdk.Connect;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using DeviceType = Gsdk.Device.Type;
using RichStatus = DeviceShell.Engine.Gateway.Protocol.Rpc.Status;
using Status = Gsdk.Connect.Status;

namespace DeviceShell.Lab.Gateway;

/// <summary>
/// A Suprema device gateway: the <c>gsdk.connect.Connect</c> service (Grpc.AspNetCore) over HTTP/2 and TLS on Kestrel, in front
/// of a simulated subnet of devices. Choices where the real gateway is undocumented (docs/design/gateway-connect.md §11):
/// unknown device id => NOT_FOUND; unreachable address => UNAVAILABLE; a device that must be connected but
/// is not => FAILED_PRECONDITION; a Multi call with failures => the first failure's code at the top, every
/// failure in a <c>gsdk.err.MultiErrorResponse</c> inside <c>grpc-status-details-bin</c>, the other devices
/// changed; a request that lists a device twice => INVALID_ARGUMENT, nothing changed; a grpc-timeout header that is not one
/// to eight digits and a unit => INVALID_ARGUMENT. queueSize &lt;= 0 means 16 (the example's value). SSL changes apply from the next connection;
/// a mode change drops the device's connection (it reboots its network settings).
/// Settings: <c>--gateway-devices N</c> (a generated subnet of N devices instead of the tutorial's),
/// <c>--gateway-reconnect-ms</c> (async retry interval, default 1000), <c>--gateway-san</c> (comma-separated
/// certificate names, default <c>localhost,127.0.0.1</c>).
/// </summary>
[LabSimulator("gateway", "Suprema G-SDK device gateway (gsdk.connect.Connect over gRPC/TLS)")]
public sealed partial class GatewaySimulator : ILabSimulator, ILabControllable
{
    private readonly object _gate = new();
    private readonly Dictionary<uint, SimulatedDevice> _subnet = new();
    private readonly Dictionary<uint, ManagedDevice> _managed = new();
    private readonly Dictionary<uint, PendingDeviceInfo> _pending = new();
    private readonly Dictionary<uint, SlaveDeviceInfo> _slaves = new();
    private readonly List<StatusSubscriber> _subscribers = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly bool _ownsCertificates;
    private AcceptFilter _filter = new();
    private readonly ConcurrentDictionary<string, bool> _connections = new();
    private WebApplication? _server;
    private Task? _reconnectLoop;
    private ILogger _log = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public GatewaySimulator()
    {
        _ownsCertificates = true;
    }

    /// <summary>A simulator serving with given certificates (a test restarting "the same" gateway keeps its CA).</summary>
    public GatewaySimulator(GatewayCertificates certificates)
    {
        Certificates = certificates;
    }

    public GatewayCertificates? Certificates { get; private set; }

    public TimeSpan ReconnectInterval { get; set; } = TimeSpan.FromSeconds(1);

    private long _droppedByClosedStreams;

    /// <summary>Status changes discarded because a subscriber's queue was full, over all streams so far.</summary>
    public long DroppedStatusChanges
    {
        get { lock (_gate) { return _droppedByClosedStreams + _subscribers.Sum(s => s.Dropped); } }
    }

    /// <summary>Distinct client connections that have made calls so far (a gRPC channel should use one).</summary>
    public int ConnectionsSeen => _connections.Count;

    public int Subscribers
    {
        get { lock (_gate) { return _subscribers.Count; } }
    }

    public async Task<LabSimulatorEndpoint> StartAsync(LabSimulatorOptions options, CancellationToken cancellationToken)
    {
        _log = options.LoggerFactory.CreateLogger<GatewaySimulator>();
        if (options.Setting("reconnect-ms") is { } reconnect) ReconnectInterval = TimeSpan.FromMilliseconds(int.Parse(reconnect, CultureInfo.InvariantCulture));
        if (Certificates is null)
        {
            string[] names = (options.Setting("san") ?? "localhost,127.0.0.1").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Certificates = GatewayCertificates.Create(
                names.Where(n => !System.Net.IPAddress.TryParse(n, out _)),
                names.Select(n => System.Net.IPAddress.TryParse(n, out var ip) ? ip : null).OfType<IPAddress>());
        }
        lock (_gate)
        {
            if (_subnet.Count == 0)
            {
                if (options.Setting("devices") is { } count) AddGeneratedDevices(int.Parse(count, CultureInfo.InvariantCulture));
                else AddTutorialDevices();
            }
        }

        _server = BuildServer(options.Address, options.Port, Certificates);
        await _server.StartAsync(cancellationToken).ConfigureAwait(false);
        string bound = _server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        int boundPort = new Uri(bound).Port;
        _reconnectLoop = Task.Run(ReconnectLoopAsync);
        _log.LogInformation("Gateway listening on {Address}:{Port} (CA {CaFile})", options.Address, boundPort, Certificates.CaFile);
        return new LabSimulatorEndpoint(options.Address.ToString(), boundPort, Certificates.CaFile);
    }

    /// <summary>Kestrel with HTTP/2 over TLS only (like the real gateway) and the Connect service.</summary>
    private WebApplication BuildServer(IPAddress address, int port, GatewayCertificates certificates)
    {
        var builder = WebApplication.CreateSlimBuilder();
        // stdout is the Lab's control channel: nothing may be logged there.
        builder.Logging.ClearProviders();
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.AddGrpc();
        builder.Services.AddDescriptorBudget();
        builder.Services.AddSingleton(new ConnectService(this));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
            kestrel.Listen(address, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.UseHttps(certificates.Server);
            });
        });
        var app = builder.Build();
        app.Use((http, next) =>
        {
            _connections.TryAdd(http.Connection.Id, true);
            return IsValidTimeout(http.Request.Headers["grpc-timeout"]) ? next(http) : RefuseTimeoutAsync(http);
        });
        app.MapGrpcService<ConnectService>();
        return app;
    }

    /// <summary>
    /// The gRPC spec's TimeoutValue: one to eight digits and a unit (H M S m u n). Grpc.AspNetCore ignores a value it cannot
    /// parse and serves the call with no deadline; a gateway should instead tell the client its deadline was not understood.
    /// The largest valid values (99999999H, ~11,400 years) are served like no deadline: Grpc.AspNetCore clamps them.
    /// </summary>
    private static bool IsValidTimeout(Microsoft.Extensions.Primitives.StringValues header)
    {
        if (header.Count == 0) return true;
        if (header.Count > 1 || header[0] is not { Length: >= 2 and <= 9 } value) return false;
        return "HMSmun".Contains(value[^1]) && value.AsSpan(0, value.Length - 1).IndexOfAnyExceptInRange('0', '9') < 0;
    }

    /// <summary>A trailers-only gRPC answer (status in the headers, no message), as gRPC servers send for a call they refuse up front.</summary>
    private static Task RefuseTimeoutAsync(Microsoft.AspNetCore.Http.HttpContext http)
    {
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/grpc";
        http.Response.Headers["grpc-status"] = ((int)StatusCode.InvalidArgument).ToString(CultureInfo.InvariantCulture);
        http.Response.Headers["grpc-message"] = Uri.EscapeDataString(
            "The grpc-timeout header is not a gRPC timeout (one to eight digits and a unit: H, M, S, m, u or n).");
        return Task.CompletedTask;
    }

    /// <summary>Devices on the simulated subnet (present or not).</summary>
    public int DeviceCount
    {
        get { lock (_gate) { return _subnet.Count; } }
    }

    /// <summary>The subnet of the Python tutorial: three devices to connect to, one device-to-server device waiting to be admitted.</summary>
    private void AddTutorialDevices()
    {
        Put(new SimulatedDevice(544140286, DeviceType.BioentryW2, "192.168.0.110"));
        Put(new SimulatedDevice(546835041, DeviceType.BiostationL2, "192.168.0.104"));
        Put(new SimulatedDevice(542193321, DeviceType.BioliteN2, "192.168.0.120"));
        Put(new SimulatedDevice(939342898, DeviceType.BioentryW2, "192.168.0.130", deviceToServer: true));
    }

    private void AddGeneratedDevices(int count)
    {
        for (int i = 0; i < count; i++)
            Put(new SimulatedDevice((uint)(100_000 + i), DeviceType.BioentryW2, $"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"));
    }

    private void Put(SimulatedDevice device) => _subnet[device.Id] = device;

    /// <summary>
    /// Adds a device to the subnet, or brings back one that was removed (async connections then reconnect).
    /// <paramref name="type"/> is the proto name (BIOENTRY_W2), the C# name (BioentryW2) or the number.
    /// </summary>
    public void AddDevice(uint id, string type, string ipAddress, int port = 51211, bool deviceToServer = false) =>
        AddDevice(id, ParseType(type), ipAddress, port, deviceToServer);

    private SimulatedDevice AddDevice(uint id, DeviceType type, string ipAddress, int port, bool deviceToServer)
    {
        SimulatedDevice device;
        lock (_gate)
        {
            if (_subnet.TryGetValue(id, out var known))
            {
                known.Present = true;
                device = known;
            }
            else
            {
                device = new SimulatedDevice(id, type, ipAddress, port, deviceToServer);
                Put(device);
            }
            Reconcile();
        }
        return device;
    }

    /// <summary>Takes a device off the subnet: its connection drops; async connections keep retrying.</summary>
    public void RemoveDevice(uint id)
    {
        lock (_gate)
        {
            if (!_subnet.TryGetValue(id, out var device)) throw new ArgumentException($"There is no simulated device {id}.");
            device.Present = false;
            Reconcile();
        }
    }

    public Task<JsonNode?> ControlAsync(string command, JsonObject arguments, CancellationToken cancellationToken)
    {
        uint id = arguments["deviceId"]?.GetValue<uint>() ?? throw new ArgumentException("deviceId is required.");
        switch (command)
        {
            case "add-device":
                string typeName = arguments["type"]?.GetValue<string>() ?? "BIOENTRY_W2";
                var type = ParseType(typeName);
                string ip = arguments["ipAddress"]?.GetValue<string>() ?? throw new ArgumentException("ipAddress is required.");
                if (!System.Net.IPAddress.TryParse(ip, out _)) throw new ArgumentException($"'{ip}' is not an IP address.");
                var device = AddDevice(id, type, ip, arguments["port"]?.GetValue<int>() ?? 51211, arguments["deviceToServer"]?.GetValue<bool>() ?? false);
                return Task.FromResult<JsonNode?>(new JsonObject { ["deviceId"] = device.Id, ["type"] = ProtoName(device.Type), ["ipAddress"] = device.IPAddress });
            case "remove-device":
                RemoveDevice(id);
                return Task.FromResult<JsonNode?>(null);
            default:
                throw new ArgumentException($"Unknown gateway command '{command}' (known: add-device, remove-device).");
        }
    }

    /// <summary>The name the gateway's schema gives a type (BIOENTRY_W2), as the Python example prints it.</summary>
    private static string ProtoName(DeviceType type) =>
        typeof(DeviceType).GetField(type.ToString())?.GetCustomAttributes(typeof(Google.Protobuf.Reflection.OriginalNameAttribute), false)
            .OfType<Google.Protobuf.Reflection.OriginalNameAttribute>().FirstOrDefault()?.Name ?? ((int)type).ToString(CultureInfo.InvariantCulture);

    /// <summary>Accepts the proto name (BIOENTRY_W2), the C# name (BioentryW2) or the number.</summary>
    private static DeviceType ParseType(string name)
    {
        if (int.TryParse(name, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number)) return (DeviceType)number;
        var field = typeof(DeviceType).GetFields().FirstOrDefault(f =>
            f.GetCustomAttributes(typeof(Google.Protobuf.Reflection.OriginalNameAttribute), false).OfType<Google.Protobuf.Reflection.OriginalNameAttribute>()
                .Any(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase)) || string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
        return field is not null ? (DeviceType)field.GetValue(null)! : throw new ArgumentException($"Unknown device type '{name}'.");
    }

    /// <summary>Runs a handler under the state lock (every RPC but search and the stream is quick).</summary>
    private Task<T> Run<T>(Func<T> handler)
    {
        lock (_gate) { return Task.FromResult(handler()); }
    }

    private ConnectResponse ConnectDevice(ConnectInfo info)
    {
        var device = FindReachable(info.IPAddr, info.Port == 0 ? 51211 : info.Port)
            ?? throw Failure(StatusCode.Unavailable, $"Cannot connect to {info.IPAddr}:{info.Port}: no device answers.");
        if (device.SslEnabled != info.UseSSL)
            throw Failure(StatusCode.Unavailable, $"Cannot connect to {info.IPAddr}:{info.Port}: the device has SSL {(device.SslEnabled ? "enabled" : "disabled")} but useSSL is {info.UseSSL}.");
        if (!_managed.TryGetValue(device.Id, out var managed) || !managed.Connected)
        {
            managed = new ManagedDevice { Device = device, Kind = ManagedKind.Sync, IPAddress = info.IPAddr, Port = device.Port, UseSsl = info.UseSSL };
            _managed[device.Id] = managed;
            SetStatus(managed, info.UseSSL ? Status.TlsConnected : Status.TcpConnected);
        }
        return new ConnectResponse { DeviceID = device.Id };
    }

    private SimulatedDevice? FindReachable(string ip, int port) =>
        _subnet.Values.FirstOrDefault(d => d.Present && d.IPAddress == ip && d.Port == port && d.Mode == ConnectionMode.ServerToDevice);

    /// <summary>
    /// A request that lists a device twice is refused as a whole before anything changes: what the second mention should
    /// mean (connect twice? count one failure or two?) is undefined, and half-applying it would leave a surprise.
    /// </summary>
    private static void RequireDistinct(IEnumerable<uint> ids)
    {
        var seen = new HashSet<uint>();
        foreach (uint id in ids)
        {
            if (!seen.Add(id)) throw Failure(StatusCode.InvalidArgument, $"Device {id} is listed more than once in the request.");
        }
    }

    private AddAsyncConnectionResponse AddAsync(AddAsyncConnectionRequest request)
    {
        RequireDistinct(request.ConnectInfos.Select(info => info.DeviceID));
        foreach (var info in request.ConnectInfos)
        {
            if (_managed.TryGetValue(info.DeviceID, out var existing) && existing.Kind == ManagedKind.Async) continue;
            var device = _subnet.TryGetValue(info.DeviceID, out var known) ? known : new SimulatedDevice(info.DeviceID, DeviceType.Unknown, info.IPAddr, info.Port) { Present = false };
            _managed[info.DeviceID] = new ManagedDevice { Device = device, Kind = ManagedKind.Async, IPAddress = info.IPAddr, Port = info.Port == 0 ? 51211 : info.Port, UseSsl = info.UseSSL };
        }
        _wake.Release();
        return new AddAsyncConnectionResponse();
    }

    private DeleteAsyncConnectionResponse DeleteAsync(DeleteAsyncConnectionRequest request)
    {
        RequireDistinct(request.DeviceIDs);
        RequireManaged(request.DeviceIDs, m => m.Kind == ManagedKind.Async, "is not an async connection");
        foreach (uint id in request.DeviceIDs) Drop(_managed[id]);
        return new DeleteAsyncConnectionResponse();
    }

    private SetAcceptFilterResponse SetFilter(SetAcceptFilterRequest request)
    {
        _filter = request.Filter?.Clone() ?? new AcceptFilter();
        Reconcile();
        return new SetAcceptFilterResponse();
    }

    private T Disconnect<T>(IEnumerable<uint> ids, T response)
    {
        foreach (uint id in ids)
        {
            var managed = _managed[id];
            if (managed.Kind == ManagedKind.Async) SetStatus(managed, Status.Disconnected); // retried by the reconnect loop
            else Drop(managed);
            _slaves.Remove(id);
        }
        return response;
    }

    private DisconnectResponse Disconnect(IList<uint> ids)
    {
        RequireDistinct(ids);
        RequireManaged(ids, _ => true, "");
        return Disconnect(ids, new DisconnectResponse());
    }

    private void RequireManaged(IEnumerable<uint> ids, Func<ManagedDevice, bool> condition, string failure)
    {
        foreach (uint id in ids)
        {
            if (!_managed.TryGetValue(id, out var managed)) throw Failure(StatusCode.NotFound, $"Device {id} is not managed by the gateway.");
            if (!condition(managed)) throw Failure(StatusCode.FailedPrecondition, $"Device {id} {failure}.");
        }
    }

    private void Drop(ManagedDevice managed)
    {
        _managed.Remove(managed.Device.Id);
        if (managed.Status != Status.Disconnected) Publish(managed.Device.Id, Status.Disconnected);
    }

    private async Task<SearchDeviceResponse> SearchAsync(SearchDeviceRequest request, ServerCallContext context)
    {
        // Like the real search, answers are collected for the whole timeout (capped so a typo cannot hang a lab).
        await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(request.Timeout, 60_000u)), context.CancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            return new SearchDeviceResponse
            {
                DeviceInfos =
                {
                    _subnet.Values.Where(d => d.Present).Select(d => new SearchDeviceInfo
                    {
                        DeviceID = d.Id, Type = d.Type, UseDHCP = true, ConnectionMode = d.Mode, IPAddr = d.IPAddress, Port = d.Port, UseSSL = d.SslEnabled,
                        ServerAddr = d.Mode == ConnectionMode.DeviceToServer ? "127.0.0.1" : string.Empty,
                    }),
                },
            };
        }
    }

    private SetSlaveDeviceResponse SetSlaves(SetSlaveDeviceRequest request)
    {
        RequireDistinct(request.SlaveDeviceInfos.Select(s => s.DeviceID));
        RequireManaged(request.SlaveDeviceInfos.Select(s => s.DeviceID), m => m.Connected, "is not connected");
        foreach (var info in request.SlaveDeviceInfos) _slaves[info.DeviceID] = info.Clone();
        return new SetSlaveDeviceResponse();
    }

    private List<DeviceFailure> SetMode(IList<uint> ids, ConnectionMode mode) => ForConnected(ids, managed =>
    {
        if (managed.Device.Mode == mode) return;
        managed.Device.Mode = mode;
        // The device applies new network settings by reconnecting; an async connection then fails until the mode is switched back.
        if (managed.Kind == ManagedKind.Async) SetStatus(managed, Status.Disconnected);
        else Drop(managed);
    });

    private List<DeviceFailure> SetSsl(IList<uint> ids, bool enabled) => ForConnected(ids, managed => managed.Device.SslEnabled = enabled);

    private List<DeviceFailure> ForConnected(IList<uint> ids, Action<ManagedDevice> change)
    {
        RequireDistinct(ids);
        var failures = new List<DeviceFailure>();
        foreach (uint id in ids)
        {
            if (!_managed.TryGetValue(id, out var managed)) failures.Add(new DeviceFailure(id, StatusCode.NotFound, $"Device {id} is not managed by the gateway."));
            else if (!managed.Connected) failures.Add(new DeviceFailure(id, StatusCode.FailedPrecondition, $"Device {id} is not connected."));
            else change(managed);
        }
        return failures;
    }

    private static RpcException Failure(StatusCode code, string message) => new(new Grpc.Core.Status(code, message));

    private static T Single<T>(List<DeviceFailure> failures, T response) =>
        failures.Count == 0 ? response : throw Failure(failures[0].Code, failures[0].Message);

    /// <summary>A Multi call's rich error: google.rpc.Status packing a gsdk.err.MultiErrorResponse.</summary>
    private static T Multi<T>(List<DeviceFailure> failures, int total, T response)
    {
        if (failures.Count == 0) return response;
        var multi = new Gsdk.Err.MultiErrorResponse();
        multi.DeviceErrors.AddRange(failures.Select(f => new Gsdk.Err.ErrorResponse { DeviceID = f.DeviceId, Code = (int)f.Code, Msg = f.Message }));
        string message = $"{failures.Count} of {total} device(s) failed.";
        var status = new RichStatus { Code = (int)failures[0].Code, Message = message, Details = { Any.Pack(multi) } };
        throw new RpcException(new Grpc.Core.Status(failures[0].Code, message), new Metadata { { DeviceShell.Engine.Gateway.GatewayErrors.StatusDetailsTrailer, status.ToByteArray() } });
    }

    private async Task StreamStatusAsync(SubscribeStatusRequest request, IServerStreamWriter<StatusChange> stream, ServerCallContext context)
    {
        // Headers go out at once, so the client knows the stream is open before the first change.
        await context.WriteResponseHeadersAsync(new Metadata()).ConfigureAwait(false);
        var subscriber = new StatusSubscriber(request.QueueSize > 0 ? request.QueueSize : 16);
        lock (_gate) { _subscribers.Add(subscriber); }
        try
        {
            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _stop.Token);
            await foreach (var change in subscriber.Queue.Reader.ReadAllAsync(stopping.Token).ConfigureAwait(false))
                await stream.WriteAsync(change, stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw Failure(StatusCode.Unavailable, "The gateway is shutting down.");
        }
        finally
        {
            lock (_gate)
            {
                _subscribers.Remove(subscriber);
                _droppedByClosedStreams += subscriber.Dropped;
            }
            if (subscriber.Dropped > 0) _log.LogInformation("A status subscriber read too slowly: {Dropped} change(s) discarded", subscriber.Dropped);
        }
    }

    private void SetStatus(ManagedDevice managed, Status status)
    {
        if (managed.Status == status) return;
        managed.Status = status;
        Publish(managed.Device.Id, status);
    }

    private void Publish(uint deviceId, Status status)
    {
        var change = new StatusChange { DeviceID = deviceId, Status = status, Timestamp = (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds() };
        foreach (var subscriber in _subscribers) subscriber.Queue.Writer.TryWrite(change);
    }

    private async Task ReconnectLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(ReconnectInterval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            lock (_gate) { Reconcile(); }
        }
    }

    /// <summary>
    /// Brings the managed list in line with the subnet: connections to absent devices drop, async
    /// connections are (re)tried, device-to-server devices either connect (admitted by the filter) or wait
    /// in the pending list with the time of their last try. Called under the lock.
    /// </summary>
    private void Reconcile()
    {
        foreach (var managed in _managed.Values.ToArray())
        {
            if (_subnet.TryGetValue(managed.Device.Id, out var onSubnet)) managed.Device = onSubnet;
            var device = managed.Device;
            bool reachable = device.Present && (managed.Kind == ManagedKind.Incoming
                ? device.Mode == ConnectionMode.DeviceToServer
                : device.Mode == ConnectionMode.ServerToDevice && device.IPAddress == managed.IPAddress && device.Port == managed.Port);
            if (managed.Kind != ManagedKind.Async)
            {
                if (!reachable) Drop(managed);
                continue;
            }
            if (managed.Connected && reachable) continue;
            Status next = !reachable ? (managed.Connected ? Status.Disconnected : managed.UseSsl ? Status.TlsCannotConnect : Status.TcpCannotConnect)
                : device.SslEnabled != managed.UseSsl ? (managed.UseSsl ? Status.TlsCannotConnect : Status.TcpCannotConnect)
                : managed.UseSsl ? Status.TlsConnected : Status.TcpConnected;
            SetStatus(managed, next);
        }

        uint now = (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (var device in _subnet.Values.Where(d => d.Present && d.Mode == ConnectionMode.DeviceToServer))
        {
            if (_managed.ContainsKey(device.Id)) continue;
            if (_filter.AllowAll || _filter.DeviceIDs.Contains(device.Id))
            {
                _pending.Remove(device.Id);
                var managed = new ManagedDevice { Device = device, Kind = ManagedKind.Incoming, IPAddress = device.IPAddress, Port = device.Port, UseSsl = device.SslEnabled };
                _managed[device.Id] = managed;
                SetStatus(managed, device.SslEnabled ? Status.TlsConnected : Status.TcpConnected);
            }
            else
            {
                _pending[device.Id] = new PendingDeviceInfo { DeviceID = device.Id, Type = device.Type, IPAddr = device.IPAddress, LastTry = now };
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_reconnectLoop is not null) await _reconnectLoop.ConfigureAwait(false);
        if (_server is not null)
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _server.StopAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Open streams are cut when the grace period ends; that is what a stopping gateway does.
            }
            await _server.DisposeAsync().ConfigureAwait(false);
        }
        if (_ownsCertificates) Certificates?.Dispose();
        _stop.Dispose();
    }
}
