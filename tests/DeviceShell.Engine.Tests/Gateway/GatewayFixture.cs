using DeviceShell.Engine.Gateway;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Gateway;
using DeviceShell.Lab.Hosting;
using Grpc.Net.Client;

namespace DeviceShell.Engine.Tests.Gateway;

/// <summary>A gateway simulator on a free loopback port with a fast reconnect loop, and sessions to it.</summary>
internal sealed class GatewayFixture : SimulatorFixture<GatewaySession>
{
    private GatewayFixture(GatewaySimulator simulator, LabSimulatorEndpoint endpoint)
    {
        Simulator = simulator;
        Endpoint = endpoint;
    }

    public GatewaySimulator Simulator { get; private set; }

    public LabSimulatorEndpoint Endpoint { get; private set; }

    public static async Task<GatewayFixture> StartAsync(Dictionary<string, string>? settings = null, GatewayCertificates? certificates = null, int port = 0)
    {
        var simulator = certificates is null ? new GatewaySimulator() : new GatewaySimulator(certificates);
        simulator.ReconnectInterval = TimeSpan.FromMilliseconds(100);
        var endpoint = await simulator.StartAsync(LabSimulatorOptions.Loopback(port, settings), CancellationToken.None).Within();
        return new GatewayFixture(simulator, endpoint);
    }

    public async Task<GatewaySession> ConnectAsync(int eventCapacity = 10_000, int maxReceiveMessageSize = 1 << 20, int statusQueueSize = 1024,
        long maxEventBytes = EventBuffer<GatewayStatusChange>.DefaultMaxBytes)
    {
        var session = await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = Endpoint.Port, CaCertificateFile = Endpoint.CaCertificate!, Timeout = TimeSpan.FromSeconds(5), StatusQueueSize = statusQueueSize, EventCapacity = eventCapacity, MaxReceiveMessageSize = maxReceiveMessageSize, EventMaxBytes = maxEventBytes }, CancellationToken.None).Within();
        return Track(session);
    }

    /// <summary>A channel of the kind sessions use, for raw calls with the generated client (the caller disposes it).</summary>
    public GrpcChannel OpenChannel(int maxReceiveMessageSize = 1 << 20) =>
        GatewayChannelPool.Open("127.0.0.1", Endpoint.Port, Simulator.Certificates!.Ca, TimeSpan.FromSeconds(5), maxReceiveMessageSize, GatewayConnectOptions.Default.KeepAlive);

    /// <summary>Takes the next non-gap status change of a device (or any device when null).</summary>
    public static async Task<GatewayStatusChange> NextAsync(GatewaySession session, Func<GatewayStatusChange, bool> match)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Short;
        while (DateTime.UtcNow < deadline)
        {
            var (taken, change) = await session.StatusChanges.TakeAsync(deadline - DateTime.UtcNow);
            if (taken && match(change)) return change;
        }
        throw new TimeoutException("No matching status change arrived.");
    }

    protected override async ValueTask StopServerAsync() => await Simulator.DisposeAsync().AsTask().Within();
}
