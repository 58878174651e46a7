using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using DeviceShell.Engine.Gateway;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Gateway;
using Grpc.Core;

namespace DeviceShell.Engine.Tests.Gateway;

/// <summary>
/// Every way a gateway call fails, in the user's words: a specific ErrorId and a message naming the gateway's
/// host:port, with none of the transport's wording (subchannels, a bare gRPC status name).
/// </summary>
public sealed class GatewayErrorTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    /// <summary>The message names the gateway and speaks no gRPC: a status name appears only as "(code N, Name)".</summary>
    internal static void AssertWords(DeviceException error, string endpoint)
    {
        Assert.Contains(endpoint, error.Message);
        Assert.DoesNotContain("subchannel", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Error starting gRPC call", error.Message);
        foreach (string name in Enum.GetNames<StatusCode>())
        {
            string bare = Regex.Replace(error.Message, $@"\(code \d+, {name}\)", string.Empty);
            Assert.False(Regex.IsMatch(bare, $@"\b{name}\b"), $"'{error.Message}' shows the bare status name {name}");
        }
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task Refused_port_says_no_gateway_there()
    {
        using var certificates = GatewayCertificates.Create();
        int port = ClosedPort();
        var error = await Assert.ThrowsAsync<DeviceException>(() => GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = port, CaCertificateFile = certificates.CaFile, Timeout = Deadline }, CancellationToken.None)).Within();
        Assert.Equal((DeviceErrorKind.Connection, "GatewayConnectionRefused"), (error.Kind, error.ErrorId));
        Assert.Contains("refused", error.Message);
        AssertWords(error, $"127.0.0.1:{port}");
    }

    [Fact]
    public async Task Unknown_host_name_says_the_name_was_not_found()
    {
        using var certificates = GatewayCertificates.Create();
        // .invalid never resolves (RFC 2606).
        var error = await Assert.ThrowsAsync<DeviceException>(() => GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "gateway.invalid", Port = 4000, CaCertificateFile = certificates.CaFile, Timeout = TimeSpan.FromSeconds(20) }, CancellationToken.None)).Within(TestTimeouts.Long);
        Assert.Equal((DeviceErrorKind.Connection, "GatewayHostNotFound"), (error.Kind, error.ErrorId));
        AssertWords(error, "gateway.invalid:4000");
    }

    [Fact]
    public async Task Silent_peer_says_no_answer_within_the_deadline()
    {
        // Accepts TCP and never says a word (not even TLS).
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        using var certificates = GatewayCertificates.Create();
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeviceException>(() => GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = port, CaCertificateFile = certificates.CaFile, Timeout = TimeSpan.FromSeconds(0.5) }, CancellationToken.None)).Within();
        Assert.Equal((DeviceErrorKind.Timeout, "GatewayDeadlineExceeded"), (error.Kind, error.ErrorId));
        Assert.Contains("did not answer within 0.5 s", error.Message);
        AssertWords(error, $"127.0.0.1:{port}");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"the deadline took {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Per_call_timeout_overrides_the_session_deadline()
    {
        await using var gateway = await HostileGateway.StartAsync();
        await using var session = await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = gateway.Port, CaCertificateFile = gateway.Certificates.CaFile, Timeout = TimeSpan.FromSeconds(30) }, CancellationToken.None).Within();
        gateway.DeviceListDelay = TimeSpan.FromSeconds(20);
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.GetDevicesAsync(CancellationToken.None, TimeSpan.FromMilliseconds(300))).Within();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"the 0.3 s deadline took {watch.ElapsedMilliseconds} ms");
        Assert.Equal((DeviceErrorKind.Timeout, "GatewayDeadlineExceeded"), (error.Kind, error.ErrorId));
        Assert.Contains("GetDeviceList: the gateway at", error.Message);
        Assert.Contains("did not answer within 0.3 s", error.Message);
        AssertWords(error, $"127.0.0.1:{gateway.Port}");
    }

    [Fact]
    public async Task Tls_refusal_names_the_certificate_the_ca_and_the_name()
    {
        await using var lab = await GatewayFixture.StartAsync(new Dictionary<string, string> { ["san"] = "gateway.example" });
        string endpoint = $"127.0.0.1:{lab.Endpoint.Port}";
        var wrongName = await Assert.ThrowsAsync<DeviceException>(() => GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = lab.Endpoint.Port, CaCertificateFile = lab.Endpoint.CaCertificate!, Timeout = Deadline }, CancellationToken.None)).Within();
        Assert.Equal((DeviceErrorKind.Connection, "GatewayTlsFailed"), (wrongName.Kind, wrongName.ErrorId));
        Assert.Contains("does not name '127.0.0.1'", wrongName.Message);
        AssertWords(wrongName, endpoint);

        await using var named = await GatewayFixture.StartAsync();
        endpoint = $"127.0.0.1:{named.Endpoint.Port}";
        using var other = GatewayCertificates.Create();
        var wrongCa = await Assert.ThrowsAsync<DeviceException>(() => GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = named.Endpoint.Port, CaCertificateFile = other.CaFile, Timeout = Deadline }, CancellationToken.None)).Within();
        Assert.Equal((DeviceErrorKind.Connection, "GatewayTlsFailed"), (wrongCa.Kind, wrongCa.ErrorId));
        string expected = $"certificate '{named.Simulator.Certificates!.Server.Subject}' is not issued by the CA certificate '{other.Ca.Subject}'";
        Assert.True(wrongCa.Message.Contains(expected), wrongCa.Message);
        AssertWords(wrongCa, endpoint);
    }

    [Fact]
    public async Task Device_errors_carry_the_gateway_message_with_the_code_and_its_name()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync();
        string endpoint = $"127.0.0.1:{lab.Endpoint.Port}";

        var unreachable = await Assert.ThrowsAsync<DeviceException>(() => session.ConnectDeviceAsync("192.168.0.250", 51211, false, CancellationToken.None)).Within();
        Assert.Equal((DeviceErrorKind.Connection, "GatewayUnavailable", (int?)StatusCode.Unavailable), (unreachable.Kind, unreachable.ErrorId, unreachable.ErrorCode));
        Assert.Contains("Cannot connect to 192.168.0.250:51211: no device answers. (unavailable (code 14, Unavailable))", unreachable.Message);
        AssertWords(unreachable, endpoint);

        // A Multi call's per-device failure (gsdk.err.ErrorResponse, unpacked on the wire by the grpcio interop test):
        // the gateway's message, the code and its name.
        var perDevice = new GatewayDeviceError(7, StatusCode.FailedPrecondition, "Device 7 is not connected.").ToException();
        Assert.Equal(("GatewayFailedPrecondition", (int?)9, (object?)7u), (perDevice.ErrorId, perDevice.ErrorCode, perDevice.Target));
        Assert.Equal("Device 7 is not connected. (not in a state that allows it (code 9, FailedPrecondition))", perDevice.Message);
    }
}
