using System.Management.Automation;
using System.Net.Sockets;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>Turns engine failures into ErrorRecords with a specific ErrorId, category and target (docs/design/cmdlets.md §4).</summary>
public static class ErrorRecords
{
    public static ErrorCategory CategoryOf(DeviceErrorKind kind) => kind switch
    {
        DeviceErrorKind.Connection => ErrorCategory.ConnectionError,
        DeviceErrorKind.Timeout => ErrorCategory.OperationTimeout,
        DeviceErrorKind.Authentication => ErrorCategory.AuthenticationError,
        DeviceErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        DeviceErrorKind.Protocol => ErrorCategory.ProtocolError,
        DeviceErrorKind.NotFound => ErrorCategory.ObjectNotFound,
        DeviceErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        DeviceErrorKind.NotSupported => ErrorCategory.NotImplemented,
        DeviceErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        DeviceErrorKind.ResourceExists => ErrorCategory.ResourceExists,
        _ => ErrorCategory.InvalidOperation,
    };

    /// <summary>True for failures that come from the outside world rather than from a bug in DeviceShell.</summary>
    public static bool IsExpected(Exception exception) => exception is DeviceException or TimeoutException or SocketException
        or IOException or ArgumentException or UnauthorizedAccessException or InvalidOperationException;

    public static ErrorRecord From(Exception exception, object? target = null)
    {
        var (id, category) = exception switch
        {
            DeviceException device => (device.ErrorId, CategoryOf(device.Kind)),
            TimeoutException => ("OperationTimeout", ErrorCategory.OperationTimeout),
            SocketException => ("ConnectionFailed", ErrorCategory.ConnectionError),
            IOException => ("ConnectionFailed", ErrorCategory.ConnectionError),
            ArgumentException => ("InvalidArgument", ErrorCategory.InvalidArgument),
            UnauthorizedAccessException => ("PermissionDenied", ErrorCategory.PermissionDenied),
            _ => ("InvalidOperation", ErrorCategory.InvalidOperation),
        };
        object? errorTarget = target ?? (exception as DeviceException)?.Target;
        return new ErrorRecord(exception, id, category, errorTarget);
    }

    /// <summary>The record written when no session was given and the world has none open.</summary>
    public static ErrorRecord SessionNotFound(string world, string connectCommand) => new(
        new DeviceException(DeviceErrorKind.NotFound, "SessionNotFound",
            $"There is no open {world} session. Open one with {connectCommand}, or pass -Session."),
        "SessionNotFound", ErrorCategory.ObjectNotFound, world);

    /// <summary>A -Session Id with no open session.</summary>
    public static ErrorRecord SessionNotFound(int id, string message) => new(
        new DeviceException(DeviceErrorKind.NotFound, "SessionNotFound", message), "SessionNotFound", ErrorCategory.ObjectNotFound, id);
}
