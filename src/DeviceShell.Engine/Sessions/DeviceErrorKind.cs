namespace DeviceShell.Engine.Sessions;

/// <summary>
/// What went wrong, in the terms the cmdlet layer maps onto PowerShell's ErrorCategory
/// (docs/design/cmdlets.md §4). The engine never references PowerShell, so it speaks in these kinds.
/// </summary>
public enum DeviceErrorKind
{
    /// <summary>The device or server could not be reached, or the link broke (ErrorCategory ConnectionError).</summary>
    Connection,
    /// <summary>An answer did not come within the request's timeout (ErrorCategory OperationTimeout).</summary>
    Timeout,
    /// <summary>The peer refused the credentials or the secret (ErrorCategory AuthenticationError).</summary>
    Authentication,
    /// <summary>A value given by the caller is out of range or malformed; nothing was sent (ErrorCategory InvalidArgument).</summary>
    InvalidArgument,
    /// <summary>The peer answered with something the protocol does not allow (ErrorCategory ProtocolError).</summary>
    Protocol,
    /// <summary>The device, session, function or recording asked for does not exist (ErrorCategory ObjectNotFound).</summary>
    NotFound,
    /// <summary>The peer refused the operation for this caller (ErrorCategory PermissionDenied).</summary>
    PermissionDenied,
    /// <summary>The session is not in a state that allows the operation, e.g. closed or not connected (ErrorCategory InvalidOperation).</summary>
    InvalidOperation,
    /// <summary>The device or world does not offer the operation (ErrorCategory NotImplemented).</summary>
    NotSupported,
    /// <summary>A resource the operation needs is busy or exhausted, e.g. a port in use (ErrorCategory ResourceUnavailable).</summary>
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
    /// <summary>Creates the exception for one failure.</summary>
    /// <param name="kind">What went wrong; the cmdlets map it onto an ErrorCategory.</param>
    /// <param name="errorId">The specific ErrorId, e.g. "BrickTimeout"; becomes the ErrorRecord's FullyQualifiedErrorId.</param>
    /// <param name="message">A sentence for the user; must not contain secrets.</param>
    /// <param name="target">The object the failure concerns (usually the session or the device id), or null.</param>
    /// <param name="inner">The exception that caused this one, or null.</param>
    public DeviceException(DeviceErrorKind kind, string errorId, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        ErrorId = errorId;
        Target = target;
    }

    /// <summary>What went wrong, mapped onto the ErrorRecord's ErrorCategory by the cmdlets.</summary>
    public DeviceErrorKind Kind { get; }

    /// <summary>The specific error id, e.g. "BrickTimeout" or "SessionClosed"; each cmdlet page lists the ones it can fail with.</summary>
    public string ErrorId { get; }

    /// <summary>The object the failure concerns (the session, a device id, a path), or null.</summary>
    public object? Target { get; }

    /// <summary>
    /// The number the world's own client libraries give this failure, so scripts ported from them can test it
    /// (Bricks: the bindings' error codes, e.g. -9 INVALID_PARAMETER, -12 STREAM_OUT_OF_SYNC); null when they have none.
    /// </summary>
    public int? ErrorCode { get; init; }
}
