namespace DeviceShell.Engine.Gateway.Grpc;

/// <summary>The status codes of the gRPC protocol (the numbers travel in the grpc-status trailer).</summary>
public enum GrpcStatusCode
{
    OK = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

/// <summary>
/// A call that ended with a non-OK status, as read from the trailers (or a trailers-only response), or
/// as decided locally (deadline passed, frame too long, connection lost). <see cref="Details"/> holds the
/// raw grpc-status-details-bin trailer (a serialized google.rpc.Status) when the peer sent one.
/// </summary>
public sealed class GrpcException : Exception
{
    public GrpcException(GrpcStatusCode status, string detail, byte[]? details = null, Exception? inner = null)
        : base($"gRPC status {status}: {detail}", inner)
    {
        Status = status;
        Detail = detail;
        Details = details;
    }

    public GrpcStatusCode Status { get; }

    /// <summary>The grpc-message text (already percent-decoded).</summary>
    public string Detail { get; }

    public byte[]? Details { get; }
}
