using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// The Bricks world's failures, each with the numeric error code of the Tinkerforge bindings (docs/design/bricks-tfp.md §6) as
/// <see cref="DeviceException.ErrorCode"/>. -3 and -4 exist only in the C bindings (the others raise socket errors).
/// </summary>
public static class BrickErrors
{
    public const int Timeout = -1;
    public const int HostnameInvalid = -3;
    public const int NoConnect = -4;
    public const int AlreadyConnected = -7;
    public const int NotConnected = -8;
    public const int InvalidParameter = -9;
    public const int NotSupported = -10;
    public const int UnknownErrorCode = -11;
    public const int StreamOutOfSync = -12;
    public const int InvalidUid = -13;
    public const int NonAsciiCharInSecret = -14;
    public const int WrongDeviceType = -15;
    public const int DeviceReplaced = -16;
    public const int WrongResponseLength = -17;

    /// <summary>A Bricks failure whose <see cref="DeviceException.ErrorCode"/> is the bindings' code for <paramref name="errorId"/>, if they have one.</summary>
    public static DeviceException Create(DeviceErrorKind kind, string errorId, string message, object? target = null, Exception? inner = null) =>
        new(kind, errorId, message, target, inner) { ErrorCode = CodeOf(errorId) };

    public static int? CodeOf(string errorId) => errorId switch
    {
        "RequestTimeout" or "ConnectTimeout" => Timeout,
        "HostNotFound" => HostnameInvalid,
        "ConnectionFailed" => NoConnect,
        "BrickAlreadyConnected" => AlreadyConnected,
        "NotConnected" or "ConnectionLost" => NotConnected,
        "InvalidParameter" => InvalidParameter,
        "FunctionNotSupported" => NotSupported,
        "UnknownErrorCode" => UnknownErrorCode,
        "StreamOutOfSync" => StreamOutOfSync,
        "InvalidUid" => InvalidUid,
        "NonAsciiSecret" => NonAsciiCharInSecret,
        "WrongDeviceType" => WrongDeviceType,
        "BrickDeviceReplaced" => DeviceReplaced,
        "WrongResponseLength" => WrongResponseLength,
        _ => null,
    };
}
