using System.Net.Sockets;
using System.Security.Authentication;
using DeviceShell.Engine.Sessions;
using Google.Protobuf;
using Grpc.Core;
using RichStatus = DeviceShell.Engine.Gateway.Protocol.Rpc.Status;

namespace DeviceShell.Engine.Gateway;

/// <summary>gRPC statuses in the error categories of docs/design/cmdlets.md §4, and the Multi rich error.</summary>
public static class GatewayErrors
{
    /// <summary>The trailer that carries a serialized google.rpc.Status (the gRPC rich error model).</summary>
    public const string StatusDetailsTrailer = "grpc-status-details-bin";

    /// <summary>The kind of failure a gRPC status stands for (Unavailable: Connection, DeadlineExceeded: Timeout, ...; anything unlisted: InvalidOperation).</summary>
    internal static DeviceErrorKind KindOf(StatusCode status) => status switch
    {
        StatusCode.Unavailable => DeviceErrorKind.Connection,
        StatusCode.DeadlineExceeded => DeviceErrorKind.Timeout,
        StatusCode.Unauthenticated => DeviceErrorKind.Authentication,
        StatusCode.InvalidArgument or StatusCode.OutOfRange => DeviceErrorKind.InvalidArgument,
        StatusCode.NotFound => DeviceErrorKind.NotFound,
        StatusCode.PermissionDenied => DeviceErrorKind.PermissionDenied,
        StatusCode.Unimplemented => DeviceErrorKind.NotSupported,
        StatusCode.ResourceExhausted => DeviceErrorKind.ResourceUnavailable,
        StatusCode.Internal or StatusCode.DataLoss or StatusCode.Unknown => DeviceErrorKind.Protocol,
        _ => DeviceErrorKind.InvalidOperation,
    };

    /// <summary>ErrorId "Gateway&lt;Status&gt;" (GatewayNotFound, GatewayUnavailable, ...).</summary>
    public static DeviceException ForStatus(StatusCode status, string message, object? target = null, Exception? inner = null) =>
        new(KindOf(status), "Gateway" + status, message, target, inner) { ErrorCode = (int)status };

    /// <summary>The one failure for a device id the gateway does not manage, whichever call it was given to.</summary>
    public static DeviceException DeviceNotManaged(uint deviceId) =>
        new(DeviceErrorKind.NotFound, "GatewayDeviceNotFound", $"Device {deviceId} is not managed by the gateway.", deviceId);

    /// <summary>What a gRPC status means, in words, with its number and name (the code gsdk.err.ErrorResponse carries).</summary>
    public static string Describe(StatusCode status) => status switch
    {
        StatusCode.Cancelled => "cancelled",
        StatusCode.Unknown => "unknown error",
        StatusCode.InvalidArgument => "invalid argument",
        StatusCode.DeadlineExceeded => "no answer in time",
        StatusCode.NotFound => "not found",
        StatusCode.AlreadyExists => "already exists",
        StatusCode.PermissionDenied => "permission denied",
        StatusCode.ResourceExhausted => "out of resources",
        StatusCode.FailedPrecondition => "not in a state that allows it",
        StatusCode.Aborted => "aborted",
        StatusCode.OutOfRange => "out of range",
        StatusCode.Unimplemented => "not supported by this gateway",
        StatusCode.Internal => "internal error",
        StatusCode.Unavailable => "unavailable",
        StatusCode.DataLoss => "data lost",
        StatusCode.Unauthenticated => "not authenticated",
        _ => "failed",
    } + $" (code {(int)status}, {status})";

    /// <summary>
    /// A failed call in the user's words, naming the gateway's <paramref name="endpoint"/> (host:port): no gateway there
    /// (GatewayConnectionRefused, GatewayHostNotFound, GatewayUnavailable), no answer within <paramref name="deadline"/>
    /// (GatewayDeadlineExceeded), TLS refused (GatewayTlsFailed, naming the certificate and the name), or the gateway's
    /// own answer (Gateway&lt;Status&gt; with its message). The transport's wording (subchannels, bare status names) stays inside.
    /// </summary>
    internal static DeviceException From(RpcException exception, string operation, object? target, string endpoint, TimeSpan? deadline = null)
    {
        // Grpc.Net.Client keeps the transport's exception (HttpRequestException wrapping the socket's or the handshake's) as the status's DebugException.
        for (var inner = exception.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case AuthenticationException tls:
                    return new DeviceException(DeviceErrorKind.Connection, "GatewayTlsFailed", $"{operation}: the TLS connection to the gateway at {endpoint} failed: {tls.Message}", target, exception);
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return new DeviceException(DeviceErrorKind.Connection, "GatewayConnectionRefused", $"{operation}: no gateway at {endpoint}: the connection was refused (is the gateway running, is the port right?).", target, exception);
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain }:
                    return new DeviceException(DeviceErrorKind.Connection, "GatewayHostNotFound", $"{operation}: no gateway at {endpoint}: the host name was not found.", target, exception);
                case SocketException socket:
                    return new DeviceException(DeviceErrorKind.Connection, "GatewayUnavailable", $"{operation}: the gateway at {endpoint} cannot be reached: {socket.Message}", target, exception);
                case TimeoutException:
                    return new DeviceException(DeviceErrorKind.Timeout, "GatewayDeadlineExceeded", $"{operation}: the gateway at {endpoint} did not accept a connection within {Seconds(GatewayChannelPool.ConnectTimeout)}.", target, exception);
            }
        }
        string detail = exception.Status.Detail;
        // Grpc.Net.Client's own refusal of an oversized message (the gateway never said ResourceExhausted).
        if (exception.StatusCode == StatusCode.ResourceExhausted && detail.Contains("maximum configured message size", StringComparison.Ordinal))
        {
            return new DeviceException(DeviceErrorKind.ResourceUnavailable, "GatewayMessageTooLarge",
                $"{operation}: the gateway at {endpoint} sent a message larger than this session accepts (Connect-Gateway -MaxMessageSizeMB raises the limit).", target, exception);
        }
        bool fromTransport = exception.Status.DebugException is not null;
        string message = exception.StatusCode switch
        {
            StatusCode.DeadlineExceeded => $"{operation}: the gateway at {endpoint} did not answer within {(deadline is { } limit ? Seconds(limit) : "the deadline")}.",
            StatusCode.Unavailable when fromTransport || IsGrpcWording(detail) =>
                $"{operation}: the connection to the gateway at {endpoint} failed ({TransportReason(exception) ?? "it closed"}).",
            _ when IsGrpcWording(detail) => $"{operation} on the gateway at {endpoint}: {Describe(exception.StatusCode)}.",
            _ => $"{operation} on the gateway at {endpoint}: {detail} ({Describe(exception.StatusCode)}).",
        };
        return ForStatus(exception.StatusCode, message, target, exception);
    }

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.###} s";

    /// <summary>The innermost transport exception's message (an IOException's "connection reset", a GOAWAY), if any.</summary>
    private static string? TransportReason(RpcException exception)
    {
        string? reason = null;
        for (var inner = exception.Status.DebugException; inner is not null; inner = inner.InnerException) reason = inner.Message;
        return reason is null || IsGrpcWording(reason) ? null : reason.TrimEnd('.');
    }

    /// <summary>Status texts that Grpc.Net.Client writes itself and that say nothing to a user.</summary>
    private static bool IsGrpcWording(string detail) =>
        detail.Length == 0 || Enum.TryParse<StatusCode>(detail, out _) || detail.Contains("subchannel", StringComparison.OrdinalIgnoreCase)
        || detail.StartsWith("Error starting gRPC call", StringComparison.Ordinal) || detail.StartsWith("Bad gRPC response", StringComparison.Ordinal);

    /// <summary>
    /// The per-device errors of a Multi call: grpc-status-details-bin holds a google.rpc.Status whose details
    /// pack a gsdk.err.MultiErrorResponse (matched by type name, as the official readers do). Empty when absent.
    /// </summary>
    public static IReadOnlyList<GatewayDeviceError> UnpackMulti(Metadata trailers)
    {
        if (trailers.GetValueBytes(StatusDetailsTrailer) is not { } statusDetails) return Array.Empty<GatewayDeviceError>();
        RichStatus status;
        try
        {
            status = RichStatus.Parser.ParseFrom(statusDetails);
        }
        catch (InvalidProtocolBufferException)
        {
            return Array.Empty<GatewayDeviceError>();
        }
        string multiName = Gsdk.Err.MultiErrorResponse.Descriptor.FullName;
        return status.Details
            .Where(any => any.TypeUrl[(any.TypeUrl.LastIndexOf('/') + 1)..] == multiName)
            .SelectMany(any => Gsdk.Err.MultiErrorResponse.Parser.ParseFrom(any.Value).DeviceErrors)
            .Select(e => new GatewayDeviceError(e.DeviceID, (StatusCode)e.Code, e.Msg))
            .ToArray();
    }
}
