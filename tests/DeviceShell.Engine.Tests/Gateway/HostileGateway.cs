using System.Net;
using DeviceShell.Lab.Gateway;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Gsdk.Connect;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Engine.Tests.Gateway;

/// <summary>
/// A gateway that misbehaves on purpose, on Grpc.AspNetCore over TLS: its messages are raw bytes (a pass-through
/// marshaller), so it can send a status message that does not parse. The first status subscription gets one valid
/// change for device 1, then a malformed message, and stays open; every later subscription gets one valid change
/// for device 2 and stays open (with <see cref="MalformedEveryStream"/>, every subscription gets the malformed message;
/// with <see cref="OversizedChangeBytes"/>, every one gets a valid change that large). GetDeviceList answers an empty list after <see cref="DeviceListDelay"/>; GetAcceptFilter
/// (the session's connect check) answers an empty filter.
/// </summary>
internal sealed class HostileGateway : IAsyncDisposable
{
    /// <summary>A varint field tag with no value after it: protobuf parsers must reject it.</summary>
    public static readonly byte[] MalformedStatusChange = { 0x08 };

    private WebApplication? _app;
    private int _subscriptions;

    private HostileGateway(GatewayCertificates certificates)
    {
        Certificates = certificates;
    }

    public GatewayCertificates Certificates { get; }

    public int Port { get; private set; }

    public TimeSpan DeviceListDelay { get; set; } = TimeSpan.Zero;

    public bool MalformedEveryStream { get; set; }

    /// <summary>When above 0, every subscription gets a status change padded to this size with an unknown field.</summary>
    public int OversizedChangeBytes { get; set; }

    /// <summary>SubscribeStatus calls seen.</summary>
    public int Subscriptions => Volatile.Read(ref _subscriptions);

    public static async Task<HostileGateway> StartAsync()
    {
        var certificates = GatewayCertificates.Create();
        var gateway = new HostileGateway(certificates);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            listen.UseHttps(certificates.Server);
        }));
        builder.Services.AddSingleton(new RawConnectService(gateway));
        var app = builder.Build();
        app.MapGrpcService<RawConnectService>();
        await app.StartAsync().Within();
        gateway._app = app;
        gateway.Port = LoopbackWebApp.PortOf(app);
        return gateway;
    }

    private static byte[] Change(uint deviceId) =>
        new StatusChange { DeviceID = deviceId, Status = Gsdk.Connect.Status.TcpConnected, Timestamp = 1_700_000_000 }.ToByteArray();

    /// <summary>A valid StatusChange of device 3 with an unknown field 15 (length-delimited) padding it to <paramref name="size"/> bytes.</summary>
    private static byte[] Oversized(int size)
    {
        var output = new MemoryStream();
        new StatusChange { DeviceID = 3, Status = Gsdk.Connect.Status.TcpConnected }.WriteTo(output);
        var coded = new CodedOutputStream(output);
        coded.WriteTag(15, WireFormat.WireType.LengthDelimited);
        coded.WriteBytes(ByteString.CopyFrom(new byte[size]));
        coded.Flush();
        return output.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await LoopbackWebApp.StopAsync(_app);
        Certificates.Dispose();
    }

    /// <summary>
    /// Two methods of gsdk.connect.Connect with bytes in and out; Grpc.AspNetCore finds them through <see cref="Bind"/>.
    /// It accepts only virtual methods declared on the bound type (the shape of a generated service base), hence not sealed.
    /// </summary>
    [BindServiceMethod(typeof(RawConnectService), nameof(Bind))]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1852", Justification = "Grpc.AspNetCore binds only virtual methods (see the summary); a sealed class cannot declare them.")]
    private class RawConnectService(HostileGateway gateway)
    {
        private static readonly Marshaller<byte[]> Raw = Marshallers.Create(bytes => bytes, bytes => bytes);

        public static void Bind(ServiceBinderBase binder, RawConnectService? service)
        {
            // Grpc.AspNetCore binds by method name and calls the instance it resolves from the services; the delegates only carry the signatures.
            binder.AddMethod(new Method<byte[], byte[]>(MethodType.Unary, "gsdk.connect.Connect", "GetDeviceList", Raw, Raw),
                (UnaryServerMethod<byte[], byte[]>)null!);
            binder.AddMethod(new Method<byte[], byte[]>(MethodType.Unary, "gsdk.connect.Connect", "GetAcceptFilter", Raw, Raw),
                (UnaryServerMethod<byte[], byte[]>)null!);
            binder.AddMethod(new Method<byte[], byte[]>(MethodType.ServerStreaming, "gsdk.connect.Connect", "SubscribeStatus", Raw, Raw),
                (ServerStreamingServerMethod<byte[], byte[]>)null!);
        }

        public virtual async Task<byte[]> GetDeviceList(byte[] request, ServerCallContext context)
        {
            await Task.Delay(gateway.DeviceListDelay, context.CancellationToken);
            return Array.Empty<byte>(); // an empty GetDeviceListResponse
        }

        public virtual Task<byte[]> GetAcceptFilter(byte[] request, ServerCallContext context) =>
            Task.FromResult(Array.Empty<byte>()); // an empty GetAcceptFilterResponse

        public virtual async Task SubscribeStatus(byte[] request, IServerStreamWriter<byte[]> stream, ServerCallContext context)
        {
            int subscription = Interlocked.Increment(ref gateway._subscriptions);
            if (gateway.OversizedChangeBytes > 0)
            {
                await stream.WriteAsync(Oversized(gateway.OversizedChangeBytes));
            }
            else if (subscription == 1 || gateway.MalformedEveryStream)
            {
                await stream.WriteAsync(Change(1));
                await stream.WriteAsync(MalformedStatusChange);
            }
            else
            {
                await stream.WriteAsync(Change(2));
            }
            try
            {
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The client went away; the stream ends with it.
            }
        }
    }
}
