namespace DeviceShell.Engine.Sessions;

/// <summary>
/// What went wrong, in the terms the cmdlet layer maps onto PowerShell's ErrorCategory
/// (docs/design/cmdlets.md §4). The engine never references PowerShell, so it speaks in these kinds.
/// </summary>
public enum DeviceErrorKind
{
    Connection,
    Timeout,
    Authentication,
    InvalidArgument,
    Protocol,
    NotFound,
    PermissionDenied,
    InvalidOperation,
    NotSupported,
    ResourceUnavailable,
    /// <summary>What was asked for is there already (a connect on a session that is connected or connecting).</summary>
    ResourceExists,
}

/// <summary>
/// The one exception type the engine throws for expected failures. <see cref="ErrorId"/> becomes the
/// ErrorRecord's FullyQualifiedErrorId, <see cref="Target"/> its target object. Messages never carry secrets.
/// </summary>
public class DeviceException : Exception
{
    public DeviceException(DeviceErrorKind kind, string errorId, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        ErrorId = errorId;
        Target = target;
    }

    public DeviceErrorKind Kind { get; }

    public string ErrorId { get; }

    public object? Target { get; }

    /// <summary>
    /// The number the world's own client libraries give this failure, so scripts ported from them can test it
    /// (Bricks: the bindings' error codes, e.g. -9 INVALID_PARAMETER, -12 STREAM_OUT_OF_SYNC); null when they have none.
    /// </summary>
    public int? ErrorCode { get; init; }
}
