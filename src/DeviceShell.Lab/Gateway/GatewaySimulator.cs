using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using DeviceShell.Engine.Lab;
using DeviceShell.Lab.Hosting;
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
/// certificate names, default <c>localhost,127.0.0.1</c>), <c>--gateway-replay FILE</c> and <c>--gateway-replay-speed X</c>
/// (serve a recording in front of the simulated gateway, <see cref="GatewayReplay"/>).
/// </summary>
[LabSimulator("gateway", "Suprema G-SDK device gateway (gsdk.connect.Connect over gRPC/TLS)")]
public sealed partial class GatewaySimulator : ILabSimulator, ILabControllable, IReplayReporter
{
    private readonly object _gate = new();
    private GatewayReplay? _replay;
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
        if (ReplaySetting.From(options, "gateway") is var (recording, speed)) _replay = GatewayReplay.Load(recording, speed);
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
        _reconnectLoop = Task.Run(ReconnectLoopAsync, CancellationToken.None); // outlives the start call
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
        builder.Services.AddGrpc(grpc =>
        {
            if (_replay is not null) grpc.Interceptors.Add<GatewayReplay>();
        });
        if (_replay is not null) builder.Services.AddSingleton(_replay);
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
