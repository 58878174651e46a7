using System.Net;
using System.Security.Cryptography.X509Certificates;
using DeviceShell.Engine.Gateway.Grpc;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.Gateway;

/// <summary>What a handler knows about its call: cancellation (client reset or deadline) and the deadline itself.</summary>
public sealed record GrpcCallContext(CancellationToken CancellationToken, TimeSpan? Deadline, string Peer);

/// <summary>
/// The server half of our gRPC transport, as Kestrel endpoints: HTTP/2 over TLS only, one POST route
/// per method (<c>/package.Service/Method</c>), length-prefixed messages (shared framing from the engine),
/// grpc-timeout deadlines, and the status sent as trailers — or, when the call fails before any message
/// was written, as a trailers-only response (grpc-status in the response headers).
/// </summary>
public sealed class GrpcServer : IAsyncDisposable
{
    private readonly Dictionary<string, Func<byte[], HttpResponse, GrpcCallContext, Task>> _methods = new(StringComparer.Ordinal);
    private readonly ILogger _log;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _connections = new();
    private WebApplication? _app;

    public GrpcServer(ILoggerFactory loggerFactory, int maxMessageSize = GrpcWire.DefaultMaxMessageSize)
    {
        _log = loggerFactory.CreateLogger<GrpcServer>();
        MaxMessageSize = maxMessageSize;
    }

    public int MaxMessageSize { get; }

    /// <summary>Distinct HTTP/2 connections that have made calls so far (a gRPC channel should use one).</summary>
    public int ConnectionsSeen => _connections.Count;

    public void MapUnary<TRequest, TResponse>(string path, MessageParser<TRequest> parser, Func<TRequest, GrpcCallContext, Task<TResponse>> handler)
        where TRequest : IMessage<TRequest> where TResponse : IMessage<TResponse> =>
        _methods[path] = async (body, response, context) =>
        {
            TResponse reply = await handler(parser.ParseFrom(body), context).ConfigureAwait(false);
            await WriteMessageAsync(response, reply, context.CancellationToken).ConfigureAwait(false);
        };

    /// <summary>A server-streaming method; the handler writes each message with the given writer as it wants to send it.</summary>
    public void MapServerStreaming<TRequest, TResponse>(string path, MessageParser<TRequest> parser, Func<TRequest, Func<TResponse, Task>, GrpcCallContext, Task> handler)
        where TRequest : IMessage<TRequest> where TResponse : IMessage<TResponse> =>
        _methods[path] = async (body, response, context) =>
        {
            var request = parser.ParseFrom(body);
            // Headers go out at once, so the client knows the stream is open before the first message.
            await response.StartAsync(context.CancellationToken).ConfigureAwait(false);
            await response.Body.FlushAsync(context.CancellationToken).ConfigureAwait(false);
            await handler(request, message => WriteMessageAsync(response, message, context.CancellationToken), context).ConfigureAwait(false);
        };

    /// <summary>Starts listening (HTTP/2 + TLS with <paramref name="certificate"/>); returns the bound endpoint.</summary>
    public async Task<IPEndPoint> StartAsync(IPAddress address, int port, X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        // stdout is the Lab's control channel: nothing may be logged there.
        builder.Logging.ClearProviders();
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(address, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.UseHttps(certificate);
            });
        });
        var app = builder.Build();
        app.MapPost("/{service}/{method}", HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new IPEndPoint(address, new Uri(bound).Port);
    }

    private async Task HandleAsync(HttpContext http)
    {
        var response = http.Response;
        _connections.TryAdd(http.Connection.Id, true);
        string path = http.Request.Path.Value ?? string.Empty;
        if (http.Request.ContentType is not { } type || !type.StartsWith(GrpcWire.ContentType, StringComparison.OrdinalIgnoreCase))
        {
            response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }
        response.ContentType = GrpcWire.ContentType;
        if (!_methods.TryGetValue(path, out var method))
        {
            WriteStatus(response, GrpcStatusCode.Unimplemented, "Method not found!", null);
            return;
        }
        TimeSpan? deadline = GrpcWire.ParseTimeout(http.Request.Headers[GrpcWire.TimeoutHeader]);
        using var call = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        if (deadline is TimeSpan timeout) call.CancelAfter(timeout);
        var context = new GrpcCallContext(call.Token, deadline, http.Connection.RemoteIpAddress + ":" + http.Connection.RemotePort);
        try
        {
            byte[] request = await GrpcWire.ReadMessageAsync(http.Request.Body, MaxMessageSize, call.Token).ConfigureAwait(false)
                ?? throw new GrpcException(GrpcStatusCode.Internal, "The request carried no message.");
            await method(request, response, context).ConfigureAwait(false);
            WriteStatus(response, GrpcStatusCode.OK, null, null);
        }
        catch (GrpcException ex)
        {
            _log.LogDebug("{Path} from {Peer} ended with {Status}: {Detail}", path, context.Peer, ex.Status, ex.Detail);
            WriteStatus(response, ex.Status, ex.Detail, ex.Details);
        }
        catch (InvalidProtocolBufferException ex)
        {
            WriteStatus(response, GrpcStatusCode.Internal, "The request could not be parsed: " + ex.Message, null);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && call.IsCancellationRequested)
        {
            if (http.RequestAborted.IsCancellationRequested) return; // the client reset the stream: nobody to answer
            WriteStatus(response, GrpcStatusCode.DeadlineExceeded, "Deadline Exceeded", null);
        }
    }

    private static async Task WriteMessageAsync(HttpResponse response, IMessage message, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(GrpcWire.Frame(message.ToByteArray()), cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void WriteStatus(HttpResponse response, GrpcStatusCode status, string? message, byte[]? details)
    {
        var entries = new List<KeyValuePair<string, string>> { new(GrpcWire.StatusHeader, ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        if (!string.IsNullOrEmpty(message)) entries.Add(new(GrpcWire.MessageHeader, GrpcWire.EncodeMessage(message)));
        if (details is not null) entries.Add(new(GrpcWire.StatusDetailsHeader, Convert.ToBase64String(details).TrimEnd('=')));
        foreach (var (name, value) in entries)
        {
            if (response.HasStarted) response.AppendTrailer(name, value);
            else response.Headers[name] = value; // trailers-only response
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is null) return;
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _app.StopAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Open streams are cut when the grace period ends; that is what a stopping gateway does.
        }
        await _app.DisposeAsync().ConfigureAwait(false);
        _app = null;
    }
}
