using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// The Bricks world's failures, each with the numeric error code of the Tinkerforge bindings (docs/design/bricks-tfp.md §6) as
/// <see cref="DeviceException.ErrorCode"/>. -3 and -4 exist only in the C bindings (the others raise socket errors).
/// </summary>
public static class BrickErrors
{
    /// <summary>ERROR_TIMEOUT: a request or connect attempt got no answer in time (ErrorIds RequestTimeout, ConnectTimeout).</summary>
    public const int Timeout = -1;
    /// <summary>ERROR_HOSTNAME_INVALID: the host name did not resolve (ErrorId HostNotFound).</summary>
    public const int HostnameInvalid = -3;
    /// <summary>ERROR_NO_CONNECT: no address of the host accepted the connection (ErrorId ConnectionFailed).</summary>
    public const int NoConnect = -4;
    /// <summary>ERROR_ALREADY_CONNECTED: connect on a session that is connected or connecting (ErrorId BrickAlreadyConnected).</summary>
    public const int AlreadyConnected = -7;
    /// <summary>ERROR_NOT_CONNECTED: a request on a session without a link (ErrorIds NotConnected, ConnectionLost).</summary>
    public const int NotConnected = -8;
    /// <summary>ERROR_INVALID_PARAMETER: the device refused a parameter (error code 1 in the response; ErrorId InvalidParameter).</summary>
    public const int InvalidParameter = -9;
    /// <summary>ERROR_FUNCTION_NOT_SUPPORTED: the device does not know the function id (error code 2; ErrorId FunctionNotSupported).</summary>
    public const int NotSupported = -10;
    /// <summary>ERROR_UNKNOWN_ERROR_CODE: the response carried an error code TFP does not define (ErrorId UnknownErrorCode).</summary>
    public const int UnknownErrorCode = -11;
    /// <summary>ERROR_STREAM_OUT_OF_SYNC: a stream's chunks did not follow each other (ErrorId StreamOutOfSync).</summary>
    public const int StreamOutOfSync = -12;
    /// <summary>ERROR_INVALID_UID: a UID that is not base58 or maps to zero (ErrorId InvalidUid).</summary>
    public const int InvalidUid = -13;
    /// <summary>ERROR_NON_ASCII_CHAR_IN_SECRET: the authentication secret has a character outside ASCII (ErrorId NonAsciiSecret).</summary>
    public const int NonAsciiCharInSecret = -14;
    /// <summary>ERROR_WRONG_DEVICE_TYPE: the device at the UID is not of the type the call was made for (ErrorId WrongDeviceType).</summary>
    public const int WrongDeviceType = -15;
    /// <summary>ERROR_DEVICE_REPLACED: another device now answers at the UID (ErrorId BrickDeviceReplaced).</summary>
    public const int DeviceReplaced = -16;
    /// <summary>ERROR_WRONG_RESPONSE_LENGTH: the response's payload has not the length the function defines (ErrorId WrongResponseLength).</summary>
    public const int WrongResponseLength = -17;

    /// <summary>A Bricks failure whose <see cref="DeviceException.ErrorCode"/> is the bindings' code for <paramref name="errorId"/>, if they have one.</summary>
    public static DeviceException Create(DeviceErrorKind kind, string errorId, string message, object? target = null, Exception? inner = null) =>
        new(kind, errorId, message, target, inner) { ErrorCode = CodeOf(errorId) };

    /// <summary>The bindings' error code for an ErrorId of the Bricks world, or null when they have none for it.</summary>
    internal static int? CodeOf(string errorId) => errorId switch
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
