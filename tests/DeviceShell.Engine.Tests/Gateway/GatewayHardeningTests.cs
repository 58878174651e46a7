using System.Net;
using System.Net.Http.Headers;
using DeviceShell.Engine.Gateway;
using DeviceShell.Engine.Sessions;
using Google.Protobuf;
using Gsdk.Connect;

namespace DeviceShell.Engine.Tests.Gateway;

/// <summary>
/// The gateway simulator against requests a hostile or careless client sends (docs/design/decisions.md §12.8): answers are gRPC
/// statuses, never an exception escaping a handler. Deadlines are sent as raw HTTP/2 over TLS, so the grpc-timeout
/// header is exactly what the test sets (Grpc.Net.Client would compute its own).
/// </summary>
public sealed class GatewayHardeningTests
{
    private const uint BioEntryW2 = 544140286;
    private const string InvalidArgument = "3";

    [Theory]
    [InlineData("GetDeviceList", Grpc.Core.MethodType.Unary)]
    [InlineData("Connect", Grpc.Core.MethodType.Unary)]
    [InlineData("SubscribeStatus", Grpc.Core.MethodType.ServerStreaming)]
    public async Task Request_that_does_not_parse_is_answered_invalid_argument(string method, Grpc.Core.MethodType type)
    {
        await using var lab = await GatewayFixture.StartAsync();
        using var channel = lab.OpenChannel();
        var raw = Grpc.Core.Marshallers.Create(bytes => bytes, bytes => bytes);
        var call = new Grpc.Core.Method<byte[], byte[]>(type, "gsdk.connect.Connect", method, raw, raw);
        var options = new Grpc.Core.CallOptions(deadline: DateTime.UtcNow + TestTimeouts.Short);
        // A varint field tag with no value after it.
        var malformed = new byte[] { 0x08 };
        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => type == Grpc.Core.MethodType.Unary
            ? channel.CreateCallInvoker().AsyncUnaryCall(call, null, options, malformed).ResponseAsync
            : channel.CreateCallInvoker().AsyncServerStreamingCall(call, null, options, malformed).ResponseStream.MoveNext(CancellationToken.None)).Within();
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains($"The {method} request does not parse", error.Status.Detail);
    }

    [Fact]
    public async Task Largest_eight_digit_deadlines_are_served_like_no_deadline()
    {
        await using var lab = await GatewayFixture.StartAsync();
        // Not "99999999n": eight digits of nanoseconds are a real 0.1 s deadline, which a loaded machine can miss.
        foreach (string timeout in new[] { "99999999H", "99999999M", "99999999S", "99999999m", "99999999u" })
        {
            var answer = await RawCallAsync(lab, "GetDeviceList", new GetDeviceListRequest(), timeout);
            Assert.Equal((HttpStatusCode.OK, "0"), (answer.Http, answer.GrpcStatus));
        }
        var search = await RawCallAsync(lab, "SearchDevice", new SearchDeviceRequest { Timeout = 50 }, "99999999H");
        Assert.Equal((HttpStatusCode.OK, "0"), (search.Http, search.GrpcStatus));
    }

    [Theory]
    [InlineData("123456789S")] // nine digits: the gRPC spec allows at most eight
    [InlineData("1x")]
    [InlineData("S")]
    [InlineData("-5S")]
    [InlineData("5 S")]
    public async Task Malformed_deadline_is_InvalidArgument(string timeout)
    {
        await using var lab = await GatewayFixture.StartAsync();
        var answer = await RawCallAsync(lab, "GetDeviceList", new GetDeviceListRequest(), timeout);
        Assert.Equal((HttpStatusCode.OK, InvalidArgument), (answer.Http, answer.GrpcStatus));
        Assert.Contains("grpc-timeout", answer.GrpcMessage);
        // The connection is still good for the next call.
        var session = await lab.ConnectAsync();
        Assert.Empty(await session.GetDevicesAsync(CancellationToken.None).Within());
    }

    [Fact]
    public async Task Device_listed_twice_is_InvalidArgument_and_changes_nothing()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync();
        await session.ConnectDeviceAsync("192.168.0.110", 51211, false, CancellationToken.None).Within();
        var twice = new uint[] { BioEntryW2, BioEntryW2 };
        var calls = new (string Name, Func<Task> Call)[]
        {
            ("Disconnect", () => session.DisconnectDevicesAsync(twice, CancellationToken.None)),
            ("DeleteAsyncConnection", () => session.DeleteAsyncConnectionsAsync(twice, CancellationToken.None)),
            ("AddAsyncConnection", () => session.AddAsyncConnectionsAsync(twice.Select(id => new GatewayAsyncConnection(id, "192.168.0.110")), CancellationToken.None)),
            ("EnableSSLMulti", () => session.SetSslAsync(twice, true, CancellationToken.None)),
            ("SetConnectionModeMulti", () => session.SetConnectionModeAsync(twice, GatewayConnectionMode.DeviceToServer, CancellationToken.None)),
            ("SetSlaveDevice", () => session.SetSlaveDevicesAsync(twice.Select(id => new GatewaySlaveDevice { DeviceId = id }), CancellationToken.None)),
        };
        foreach (var (name, call) in calls)
        {
            var error = await Assert.ThrowsAsync<DeviceException>(call).Within();
            Assert.True((DeviceErrorKind.InvalidArgument, "GatewayInvalidArgument") == (error.Kind, error.ErrorId), $"{name}: {error.ErrorId} {error.Message}");
            Assert.Contains($"{BioEntryW2}", error.Message);
        }
        var device = Assert.Single(await session.GetDevicesAsync(CancellationToken.None).Within());
        Assert.Equal((BioEntryW2, GatewayDeviceStatus.TcpConnected, false, GatewayConnectionMode.ServerToDevice),
            (device.DeviceId, device.Status, device.UseSsl, device.ConnectionMode));
    }

    /// <summary>One unary call as raw HTTP/2 with the given grpc-timeout header; returns the HTTP status, grpc-status and grpc-message.</summary>
    private static async Task<(HttpStatusCode Http, string? GrpcStatus, string? GrpcMessage)> RawCallAsync(GatewayFixture lab, string method, IMessage request, string grpcTimeout)
    {
        using var handler = new SocketsHttpHandler { SslOptions = TlsTrust.ClientOptions("127.0.0.1", lab.Simulator.Certificates!.Ca) };
        using var client = new HttpClient(handler);
        byte[] body = request.ToByteArray();
        var frame = new byte[5 + body.Length]; // uncompressed, 4-byte big-endian length, the message
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)body.Length);
        body.CopyTo(frame, 5);
        using var message = new HttpRequestMessage(HttpMethod.Post, $"https://127.0.0.1:{lab.Endpoint.Port}/gsdk.connect.Connect/{method}")
        {
            Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact, Content = new ByteArrayContent(frame),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        message.Headers.TryAddWithoutValidation("te", "trailers");
        message.Headers.TryAddWithoutValidation("grpc-timeout", grpcTimeout);
        using var response = await client.SendAsync(message).Within();
        await response.Content.ReadAsByteArrayAsync().Within();
        string? Header(string name) =>
            response.TrailingHeaders.TryGetValues(name, out var trailer) ? trailer.First()
            : response.Headers.TryGetValues(name, out var header) ? header.First() : null;
        return (response.StatusCode, Header("grpc-status"), Header("grpc-message") is { } text ? Uri.UnescapeDataString(text) : null);
    }
}
