using System.Runtime.InteropServices;
using System.Text;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.PiLink.Gpio;

/// <summary>
/// A GPIO input read through the Linux GPIO character device (/dev/gpiochipN, uAPI v2, kernel 5.10+): the line is
/// requested as an input with the pull-up bias, which the deprecated sysfs interface cannot set. The request is held
/// until <see cref="Dispose"/>, so another program sees the line as used ("busy").
/// </summary>
internal sealed class GpioCharDevicePinSource : IPinSource
{
    private readonly int _lineFd;
    private int _disposed;

    private GpioCharDevicePinSource(string chipPath, int line, int lineFd)
    {
        ChipPath = chipPath;
        Line = line;
        _lineFd = lineFd;
    }

    public string ChipPath { get; }

    public int Line { get; }

    public string Description => $"{ChipPath} line {Line}";

    public bool IsSimulated => false;

    /// <summary>Requests line <paramref name="line"/> of /dev/gpiochip<paramref name="chip"/> as an input with pull-up.</summary>
    public static GpioCharDevicePinSource Open(int chip, int line, string consumer = "DeviceShell") =>
        Open($"/dev/gpiochip{chip}", line, consumer);

    /// <summary>Same, with the device path given (tests point it at files that are not GPIO chips).</summary>
    /// <exception cref="DeviceException">
    /// PiGpioNotSupported (NotSupported) off Linux; PiGpioChipNotFound (NotFound); PiGpioAccessDenied (PermissionDenied);
    /// PiGpioNotAChip (NotSupported) when the file does not answer the GPIO ioctls; PiGpioLineNotFound (NotFound) when the
    /// chip has fewer lines; PiGpioLineBusy (ResourceUnavailable) when another consumer holds the line;
    /// PiGpioRequestFailed (ResourceUnavailable) for any other refusal (e.g. a driver without pull-up support).
    /// </exception>
    public static GpioCharDevicePinSource Open(string chipPath, int line, string consumer = "DeviceShell")
    {
        if (!OperatingSystem.IsLinux())
            throw new DeviceException(DeviceErrorKind.NotSupported, "PiGpioNotSupported",
                "Reading GPIO needs the Linux GPIO character device; on this system use -Simulated.", chipPath);
        if (line < 0) throw new DeviceException(DeviceErrorKind.InvalidArgument, "PiGpioLineNotFound", $"Line {line} is not a line number.", line);

        int chipFd = Native.open(NulTerminated(chipPath), Native.O_RDWR | Native.O_CLOEXEC);
        if (chipFd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno switch
            {
                Native.ENOENT or Native.ENODEV or Native.ENXIO => new DeviceException(DeviceErrorKind.NotFound, "PiGpioChipNotFound",
                    $"There is no GPIO chip at {chipPath}. 'ls /dev/gpiochip*' lists the chips (a Raspberry Pi 5 uses gpiochip4 on older kernels), or use -Simulated.", chipPath),
                Native.EACCES or Native.EPERM => new DeviceException(DeviceErrorKind.PermissionDenied, "PiGpioAccessDenied",
                    $"No permission to open {chipPath}; add the user to the 'gpio' group or run as root.", chipPath),
                _ => new DeviceException(DeviceErrorKind.ResourceUnavailable, "PiGpioChipUnavailable",
                    $"{chipPath} could not be opened: {Marshal.GetPInvokeErrorMessage(errno)}.", chipPath),
            };
        }
        try
        {
            var info = new byte[GpioUapi.ChipInfoSize];
            if (Native.ioctl(chipFd, GpioUapi.GetChipInfoIoctl, info) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new DeviceException(DeviceErrorKind.NotSupported, "PiGpioNotAChip",
                    $"{chipPath} is not a GPIO character device ({Marshal.GetPInvokeErrorMessage(errno)}).", chipPath);
            }
            uint lines = GpioUapi.ChipLines(info);
            if ((uint)line >= lines)
                throw new DeviceException(DeviceErrorKind.NotFound, "PiGpioLineNotFound",
                    $"{chipPath} ({GpioUapi.ChipName(info)}) has lines 0 to {(int)lines - 1}; there is no line {line}.", line);

            byte[] request = GpioUapi.InputPullUpRequest((uint)line, consumer);
            if (Native.ioctl(chipFd, GpioUapi.GetLineIoctl, request) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw errno == Native.EBUSY
                    ? new DeviceException(DeviceErrorKind.ResourceUnavailable, "PiGpioLineBusy",
                        $"Line {line} of {chipPath} is in use by another program ('gpioinfo' shows the consumer).", line)
                    : new DeviceException(DeviceErrorKind.ResourceUnavailable, "PiGpioRequestFailed",
                        $"{chipPath} refused line {line} as an input with pull-up: {Marshal.GetPInvokeErrorMessage(errno)}.", line);
            }
            return new GpioCharDevicePinSource(chipPath, line, GpioUapi.RequestFd(request));
        }
        finally
        {
            // The line request has a descriptor of its own; the chip's is no longer needed, and a failed close of it
            // leaves nothing to undo.
            _ = Native.close(chipFd);
        }
    }

    public PinLevel Read()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        byte[] values = GpioUapi.LineValues(mask: 1);
        if (Native.ioctl(_lineFd, GpioUapi.GetValuesIoctl, values) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new DeviceException(DeviceErrorKind.ResourceUnavailable, "PiGpioReadFailed",
                $"Reading {Description} failed: {Marshal.GetPInvokeErrorMessage(errno)}.", Line);
        }
        return (GpioUapi.ValueBits(values) & 1) != 0 ? PinLevel.High : PinLevel.Low;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _ = Native.close(_lineFd); // nothing to retry once released
    }

    private static byte[] NulTerminated(string text) => Encoding.UTF8.GetBytes(text + "\0");

    private static class Native
    {
        public const int O_RDWR = 2;
        public const int O_CLOEXEC = 0x80000;
        public const int EPERM = 1;
        public const int ENOENT = 2;
        public const int ENXIO = 6;
        public const int EACCES = 13;
        public const int EBUSY = 16;
        public const int ENODEV = 19;

        [DllImport("libc", SetLastError = true)]
        public static extern int open(byte[] path, int flags);

        // ioctl(2) is variadic; on the Linux ABIs .NET runs on (x64, arm64, arm) a pointer argument is passed like a fixed one.
        [DllImport("libc", SetLastError = true)]
        public static extern int ioctl(int fd, nuint request, byte[] argument);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
    }
}

/// <summary>
/// Byte layouts and ioctl numbers of the GPIO character device uAPI (include/uapi/linux/gpio.h), written out by hand
/// so no struct marshalling is involved. Natively ordered fields; every struct is 8-byte aligned by design of the uAPI.
/// </summary>
internal static class GpioUapi
{
    private const uint IocWrite = 1;
    private const uint IocRead = 2;
    private const uint GpioIoctlType = 0xB4;

    /// <summary>struct gpiochip_info: char name[32]; char label[32]; u32 lines.</summary>
    public const int ChipInfoSize = 68;

    /// <summary>
    /// struct gpio_v2_line_request: u32 offsets[64] (0); char consumer[32] (256); struct gpio_v2_line_config (288:
    /// u64 flags, u32 num_attrs, u32 padding[5], 10 x {u32 id, u32 padding, u64 value, u64 mask}); u32 num_lines (560);
    /// u32 event_buffer_size (564); u32 padding[5] (568); s32 fd (588).
    /// </summary>
    public const int LineRequestSize = 592;

    /// <summary>struct gpio_v2_line_values: u64 bits; u64 mask.</summary>
    public const int LineValuesSize = 16;

    public const ulong FlagInput = 1UL << 2;
    public const ulong FlagBiasPullUp = 1UL << 8;

    private const int ConsumerOffset = 256;
    private const int ConfigFlagsOffset = 288;
    private const int NumLinesOffset = 560;
    private const int FdOffset = 588;

    /// <summary>GPIO_GET_CHIPINFO_IOCTL = _IOR(0xB4, 0x01, struct gpiochip_info).</summary>
    public static readonly nuint GetChipInfoIoctl = Ioc(IocRead, 0x01, ChipInfoSize);

    /// <summary>GPIO_V2_GET_LINE_IOCTL = _IOWR(0xB4, 0x07, struct gpio_v2_line_request).</summary>
    public static readonly nuint GetLineIoctl = Ioc(IocRead | IocWrite, 0x07, LineRequestSize);

    /// <summary>GPIO_V2_LINE_GET_VALUES_IOCTL = _IOWR(0xB4, 0x0E, struct gpio_v2_line_values).</summary>
    public static readonly nuint GetValuesIoctl = Ioc(IocRead | IocWrite, 0x0E, LineValuesSize);

    /// <summary>The generic Linux _IOC encoding: direction in bits 30-31, size in 16-29, type in 8-15, number in 0-7.</summary>
    public static nuint Ioc(uint direction, uint number, int size) =>
        (nuint)((direction << 30) | ((uint)size << 16) | (GpioIoctlType << 8) | number);

    public static byte[] InputPullUpRequest(uint line, string consumer)
    {
        var request = new byte[LineRequestSize];
        MemoryMarshal.Write(request.AsSpan(0, 4), in line);
        byte[] label = Encoding.UTF8.GetBytes(consumer);
        label.AsSpan(0, Math.Min(label.Length, 31)).CopyTo(request.AsSpan(ConsumerOffset));
        ulong flags = FlagInput | FlagBiasPullUp;
        MemoryMarshal.Write(request.AsSpan(ConfigFlagsOffset, 8), in flags);
        uint lineCount = 1;
        MemoryMarshal.Write(request.AsSpan(NumLinesOffset, 4), in lineCount);
        return request;
    }

    public static int RequestFd(byte[] request) => MemoryMarshal.Read<int>(request.AsSpan(FdOffset, 4));

    public static uint ChipLines(byte[] info) => MemoryMarshal.Read<uint>(info.AsSpan(64, 4));

    public static string ChipName(byte[] info)
    {
        int end = info.AsSpan(0, 32).IndexOf((byte)0);
        return Encoding.UTF8.GetString(info, 0, end < 0 ? 32 : end);
    }

    public static byte[] LineValues(ulong mask)
    {
        var values = new byte[LineValuesSize];
        MemoryMarshal.Write(values.AsSpan(8, 8), in mask);
        return values;
    }

    public static ulong ValueBits(byte[] values) => MemoryMarshal.Read<ulong>(values.AsSpan(0, 8));
}
