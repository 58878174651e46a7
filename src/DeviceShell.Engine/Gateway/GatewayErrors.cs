using System.Security.Authentication;
using DeviceShell.Engine.Sessions;
using Google.Protobuf;
using Grpc.Core;
using RichStatus = DeviceShell.Engine.Gateway.Protocol.Rpc.Status;

namespace DeviceShell.Engine.Gateway;

/// <summary>gRPC statuses in the error categories of cmdlets.md §4, and the Multi rich error.</summary>
public static class GatewayErrors
{
    /// <summary>The trailer that carries a serialized google.rpc.Status (the gRPC rich error model).</summary>
    public const string StatusDetailsTrailer = "grpc-status-details-bin";

    public static DeviceErrorKind KindOf(StatusCode status) => status switch
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
        new(KindOf(status), "Gateway" + status, message, target, inner);

    /// <summary>The one failure for a device id the gateway does not manage, whichever call it was given to.</summary>
    public static DeviceException DeviceNotManaged(uint deviceId) =>
        new(DeviceErrorKind.NotFound, "GatewayDeviceNotFound", $"Device {deviceId} is not managed by the gateway.", deviceId);

    internal static DeviceException From(RpcException exception, string operation, object? target)
    {
        // Grpc.Net.Client keeps the transport's exception (HttpRequestException wrapping the handshake's) as the status's DebugException.
        for (var inner = exception.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            if (inner is AuthenticationException tls)
                return new DeviceException(DeviceErrorKind.Connection, "GatewayTlsFailed", $"{operation}: the TLS connection to the gateway failed: {tls.Message}", target, exception);
        }
        string detail = exception.Status.Detail.Length > 0 ? exception.Status.Detail : exception.StatusCode.ToString();
        return ForStatus(exception.StatusCode, $"{operation} failed ({exception.StatusCode}): {detail}", target, exception);
    }

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
