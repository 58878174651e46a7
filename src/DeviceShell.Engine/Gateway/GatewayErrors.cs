using DeviceShell.Engine.Sessions;
using System.Security.Authentication;
using DeviceShell.Engine.Gateway.Grpc;
using DeviceShell.Engine.Gateway.Protocol.Rpc;
using Google.Protobuf;

namespace DeviceShell.Engine.Gateway;

/// <summary>gRPC statuses in the error categories of cmdlets.md §4, and the Multi rich error.</summary>
public static class GatewayErrors
{
    public static DeviceErrorKind KindOf(GrpcStatusCode status) => status switch
    {
        GrpcStatusCode.Unavailable => DeviceErrorKind.Connection,
        GrpcStatusCode.DeadlineExceeded => DeviceErrorKind.Timeout,
        GrpcStatusCode.Unauthenticated => DeviceErrorKind.Authentication,
        GrpcStatusCode.InvalidArgument or GrpcStatusCode.OutOfRange => DeviceErrorKind.InvalidArgument,
        GrpcStatusCode.NotFound => DeviceErrorKind.NotFound,
        GrpcStatusCode.PermissionDenied => DeviceErrorKind.PermissionDenied,
        GrpcStatusCode.Unimplemented => DeviceErrorKind.NotSupported,
        GrpcStatusCode.ResourceExhausted => DeviceErrorKind.ResourceUnavailable,
        GrpcStatusCode.Internal or GrpcStatusCode.DataLoss or GrpcStatusCode.Unknown => DeviceErrorKind.Protocol,
        _ => DeviceErrorKind.InvalidOperation,
    };

    /// <summary>ErrorId "Gateway&lt;Status&gt;" (GatewayNotFound, GatewayUnavailable, ...).</summary>
    public static DeviceException ForStatus(GrpcStatusCode status, string message, object? target = null, Exception? inner = null) =>
        new(KindOf(status), "Gateway" + status, message, target, inner);

    internal static DeviceException From(GrpcException exception, string operation, object? target)
    {
        if (exception.InnerException is AuthenticationException tls)
            return new DeviceException(DeviceErrorKind.Connection, "GatewayTlsFailed", $"{operation}: the TLS connection to the gateway failed: {tls.Message}", target, exception);
        string detail = exception.Detail.Length > 0 ? exception.Detail : exception.Status.ToString();
        return ForStatus(exception.Status, $"{operation} failed ({exception.Status}): {detail}", target, exception);
    }

    /// <summary>
    /// The per-device errors of a Multi call: grpc-status-details-bin holds a google.rpc.Status whose details
    /// pack a gsdk.err.MultiErrorResponse (matched by type name, as the official readers do). Empty when absent.
    /// </summary>
    public static IReadOnlyList<GatewayDeviceError> UnpackMulti(byte[]? statusDetails)
    {
        if (statusDetails is null) return Array.Empty<GatewayDeviceError>();
        Status status;
        try
        {
            status = Status.Parser.ParseFrom(statusDetails);
        }
        catch (InvalidProtocolBufferException)
        {
            return Array.Empty<GatewayDeviceError>();
        }
        string multiName = Gsdk.Err.MultiErrorResponse.Descriptor.FullName;
        return status.Details
            .Where(any => any.TypeUrl[(any.TypeUrl.LastIndexOf('/') + 1)..] == multiName)
            .SelectMany(any => Gsdk.Err.MultiErrorResponse.Parser.ParseFrom(any.Value).DeviceErrors)
            .Select(e => new GatewayDeviceError(e.DeviceID, (GrpcStatusCode)e.Code, e.Msg))
            .ToArray();
    }
}
