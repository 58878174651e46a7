using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;

namespace DeviceShell.Engine.Gateway.Grpc;

/// <summary>
/// A gRPC client channel on <see cref="HttpClient"/>: one multiplexed HTTP/2 connection (reopened on
/// demand after it drops), unary and server-streaming calls, per-call deadlines (sent as grpc-timeout
/// and enforced locally), and statuses read from trailers or from a trailers-only response.
/// Cancelling a call's token resets its HTTP/2 stream (RST_STREAM), which the server sees as CANCELLED.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _address;
    private readonly int _maxReceiveMessageSize;

    public GrpcChannel(Uri address, HttpMessageHandler handler, int maxReceiveMessageSize = GrpcWire.DefaultMaxMessageSize)
    {
        _address = address;
        _maxReceiveMessageSize = maxReceiveMessageSize;
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri Address => _address;

    /// <summary>
    /// A channel over TLS that trusts <paramref name="trustedRoot"/> and nothing else (no system store) and
    /// requires the server certificate to name <paramref name="host"/> (DNS name or IP address SAN).
    /// </summary>
    public static GrpcChannel ForTls(string host, int port, X509Certificate2 trustedRoot, TimeSpan connectTimeout,
        int maxReceiveMessageSize = GrpcWire.DefaultMaxMessageSize)
    {
        var handler = new SocketsHttpHandler
        {
            // gRPC keeps every call of a channel on one connection; the gateway (like any gRPC server)
            // penalises frequent keep-alive pings, so none are sent.
            EnableMultipleHttp2Connections = false,
            ConnectTimeout = connectTimeout,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => TlsTrust.Validate(host, certificate, errors, trustedRoot),
            },
        };
        string authority = IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host;
        return new GrpcChannel(new Uri($"https://{authority}:{port}/"), handler, maxReceiveMessageSize);
    }

    public async Task<TResponse> UnaryAsync<TResponse>(string method, IMessage request, MessageParser<TResponse> parser,
        TimeSpan? deadline, CancellationToken cancellationToken) where TResponse : IMessage<TResponse>
    {
        using var call = new CallScope(deadline, cancellationToken);
        try
        {
            using var response = await StartAsync(method, request, deadline, call.Token).ConfigureAwait(false);
            await using var body = await response.Content.ReadAsStreamAsync(call.Token).ConfigureAwait(false);
            byte[]? message = await GrpcWire.ReadMessageAsync(body, _maxReceiveMessageSize, call.Token).ConfigureAwait(false);
            if (message is not null && await GrpcWire.ReadMessageAsync(body, _maxReceiveMessageSize, call.Token).ConfigureAwait(false) is not null)
                throw new GrpcException(GrpcStatusCode.Internal, "A unary call returned more than one message.");
            ThrowIfNotOk(response.TrailingHeaders);
            if (message is null) throw new GrpcException(GrpcStatusCode.Internal, "The server ended a unary call with OK but sent no message.");
            return parser.ParseFrom(message);
        }
        catch (Exception ex) when (call.Translate(ex) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// Server streaming: yields each message as its frame arrives. Ends normally on an OK trailer; a
    /// non-OK trailer, a dropped connection or a deadline throws <see cref="GrpcException"/>. Stopping the
    /// enumeration early (or cancelling) resets the stream. <paramref name="requestSent"/> runs once the request
    /// message is on the connection; <paramref name="headersReceived"/> once the response headers arrived (many
    /// servers send them only with the first message, so a caller must not depend on it).
    /// </summary>
    public async IAsyncEnumerable<TResponse> ServerStreamingAsync<TResponse>(string method, IMessage request, MessageParser<TResponse> parser,
        TimeSpan? deadline, [EnumeratorCancellation] CancellationToken cancellationToken, Action? requestSent = null, Action? headersReceived = null)
        where TResponse : IMessage<TResponse>
    {
        using var call = new CallScope(deadline, cancellationToken);
        HttpResponseMessage response;
        Stream body;
        try
        {
            response = await StartAsync(method, request, deadline, call.Token, requestSent).ConfigureAwait(false);
            body = await response.Content.ReadAsStreamAsync(call.Token).ConfigureAwait(false);
            headersReceived?.Invoke();
        }
        catch (Exception ex) when (call.Translate(ex) is { } translated)
        {
            throw translated;
        }
        using (response)
        await using (body)
        // Cancelling resets the HTTP/2 stream at once, even while no read is pending.
        using (call.Token.Register(() => response.Dispose()))
        {
            while (true)
            {
                byte[]? message;
                try
                {
                    message = await GrpcWire.ReadMessageAsync(body, _maxReceiveMessageSize, call.Token).ConfigureAwait(false);
                    if (message is null) ThrowIfNotOk(response.TrailingHeaders);
                }
                catch (Exception ex) when (call.Translate(ex) is { } translated)
                {
                    throw translated;
                }
                if (message is null) yield break;
                yield return parser.ParseFrom(message);
            }
        }
    }

    private async Task<HttpResponseMessage> StartAsync(string method, IMessage request, TimeSpan? deadline, CancellationToken cancellationToken, Action? requestSent = null)
    {
        var content = new FrameContent(GrpcWire.Frame(request.ToByteArray()), requestSent);
        content.Headers.ContentType = new MediaTypeHeaderValue(GrpcWire.ContentType);
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_address, method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        message.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        if (deadline is TimeSpan timeout) message.Headers.TryAddWithoutValidation(GrpcWire.TimeoutHeader, GrpcWire.FormatTimeout(timeout));

        var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            if (response.StatusCode != HttpStatusCode.OK)
                throw new GrpcException(FromHttpStatus(response.StatusCode), $"The server answered HTTP {(int)response.StatusCode} instead of a gRPC response.");
            string? mediaType = response.Content.Headers.ContentType?.MediaType;
            if (mediaType is null || !mediaType.StartsWith(GrpcWire.ContentType, StringComparison.OrdinalIgnoreCase))
                throw new GrpcException(GrpcStatusCode.Unknown, $"The server answered with content type '{mediaType}', not {GrpcWire.ContentType}.");
            // Trailers-only response: the status comes in the headers and there is no body.
            if (response.Headers.Contains(GrpcWire.StatusHeader)) ThrowIfNotOk(response.Headers);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private static void ThrowIfNotOk(HttpHeaders trailers)
    {
        string? statusText = Single(trailers, GrpcWire.StatusHeader);
        if (statusText is null) throw new GrpcException(GrpcStatusCode.Internal, "The response ended without a grpc-status trailer.");
        if (!int.TryParse(statusText, out int code)) throw new GrpcException(GrpcStatusCode.Internal, $"Bad grpc-status '{statusText}'.");
        if (code == 0) return;
        throw new GrpcException((GrpcStatusCode)code, GrpcWire.DecodeMessage(Single(trailers, GrpcWire.MessageHeader)),
            GrpcWire.DecodeBinaryHeader(Single(trailers, GrpcWire.StatusDetailsHeader)));
    }

    private static string? Single(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    /// <summary>The mapping the gRPC spec gives for HTTP statuses that are not 200.</summary>
    private static GrpcStatusCode FromHttpStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => GrpcStatusCode.Internal,
        HttpStatusCode.Unauthorized => GrpcStatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => GrpcStatusCode.PermissionDenied,
        HttpStatusCode.NotFound => GrpcStatusCode.Unimplemented,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => GrpcStatusCode.Unavailable,
        _ => GrpcStatusCode.Unknown,
    };

    public void Dispose() => _http.Dispose();

    /// <summary>The request body: one framed message, with a signal once it has been written to the connection.</summary>
    private sealed class FrameContent : HttpContent
    {
        private readonly byte[] _frame;
        private readonly Action? _written;

        public FrameContent(byte[] frame, Action? written)
        {
            _frame = frame;
            _written = written;
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_frame).ConfigureAwait(false);
            await stream.FlushAsync().ConfigureAwait(false);
            _written?.Invoke();
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _frame.Length;
            return true;
        }
    }

    /// <summary>One call's cancellation (caller's token + deadline) and the translation of transport failures into statuses.</summary>
    private sealed class CallScope : IDisposable
    {
        private readonly CancellationToken _caller;
        private readonly CancellationTokenSource _linked;

        public CallScope(TimeSpan? deadline, CancellationToken caller)
        {
            _caller = caller;
            _linked = CancellationTokenSource.CreateLinkedTokenSource(caller);
            if (deadline is TimeSpan timeout) _linked.CancelAfter(timeout);
        }

        public CancellationToken Token => _linked.Token;

        /// <summary>Null to let the exception pass unchanged (already a status, or the caller cancelled).</summary>
        public Exception? Translate(Exception exception)
        {
            if (exception is GrpcException) return null;
            if (_caller.IsCancellationRequested) return exception is OperationCanceledException ? null : new OperationCanceledException(_caller);
            if (_linked.IsCancellationRequested) return new GrpcException(GrpcStatusCode.DeadlineExceeded, "Deadline Exceeded", inner: exception);
            for (var inner = exception; inner is not null; inner = inner.InnerException)
            {
                if (inner is AuthenticationException auth)
                    return new GrpcException(GrpcStatusCode.Unavailable, "The TLS handshake failed: " + auth.Message, inner: auth);
                if (inner is HttpProtocolException protocol && protocol.ErrorCode == 8) // HTTP/2 CANCEL
                    return new GrpcException(GrpcStatusCode.Cancelled, "The server cancelled the stream.", inner: exception);
            }
            return exception switch
            {
                InvalidProtocolBufferException => new GrpcException(GrpcStatusCode.Internal, "A message could not be parsed: " + exception.Message, inner: exception),
                HttpRequestException or IOException or ObjectDisposedException => new GrpcException(GrpcStatusCode.Unavailable, exception.Message, inner: exception),
                OperationCanceledException => new GrpcException(GrpcStatusCode.Unavailable, "The connection was closed.", inner: exception),
                _ => null,
            };
        }

        public void Dispose() => _linked.Dispose();
    }
}

/// <summary>
/// Certificate checks of a channel that trusts one CA: the chain must end at that CA (the system store is
/// ignored) and the certificate must name the host that was dialled.
/// </summary>
public static class TlsTrust
{
    /// <summary>
    /// True when the certificate is acceptable; otherwise throws <see cref="AuthenticationException"/> with the reason,
    /// which the handshake passes on, so the user learns why rather than just "the remote certificate is invalid".
    /// </summary>
    public static bool Validate(string host, X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 trustedRoot)
    {
        string? reason = Reason(host, certificate, errors, trustedRoot);
        return reason is null ? true : throw new AuthenticationException(reason);
    }

    private static string? Reason(string host, X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 trustedRoot)
    {
        if (certificate is null) return "the gateway sent no certificate.";
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            return $"the gateway's certificate does not name '{host}' (its subject alternative names must include the host or IP address you dial).";
        using var leaf = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trustedRoot);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (!chain.Build(leaf))
        {
            string status = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0));
            return $"the gateway's certificate '{leaf.Subject}' is not issued by the CA certificate '{trustedRoot.Subject}' ({status}).";
        }
        return null;
    }
}
