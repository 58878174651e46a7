using System.Buffers.Binary;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Lab.Bricks;

/// <summary>The answer a simulated device gives to one request: header error code and response payload.</summary>
public readonly record struct DeviceAnswer(byte ErrorCode, byte[] Payload)
{
    public static DeviceAnswer Ok(params byte[] payload) => new(0, payload);

    public static readonly DeviceAnswer Empty = new(0, Array.Empty<byte>());

    /// <summary>Error 1: the request payload could not be unpacked or a value is out of range.</summary>
    public static readonly DeviceAnswer InvalidParameter = new(1, Array.Empty<byte>());

    /// <summary>Error 2: the device has no such function.</summary>
    public static readonly DeviceAnswer NotSupported = new(2, Array.Empty<byte>());

    public static DeviceAnswer Int16(int value) => Ok(BitConverter.GetBytes((short)value));

    public static DeviceAnswer UInt16(int value) => Ok(BitConverter.GetBytes((ushort)value));

    public static DeviceAnswer UInt32(long value) => Ok(BitConverter.GetBytes((uint)value));
}

/// <summary>
/// A device of the simulated stack. It answers get_identity, its own functions (run under a lock, one
/// request at a time like a real device) and the co-processor functions Bricklets share, and produces its
/// callbacks when their period is due. Values drift plausibly over time.
/// </summary>
public abstract class SimulatedBrickDevice
{
    private readonly List<PeriodicCallback> _callbacks = new();
    private byte _statusLedConfig = 3;
    private bool _silent;

    protected SimulatedBrickDevice(string uid, string connectedUid, char position, int deviceIdentifier, Version hardwareVersion, Version firmwareVersion)
    {
        Uid = uid;
        UidValue = BrickUid.Parse(uid);
        ConnectedUid = connectedUid;
        Position = position;
        DeviceIdentifier = deviceIdentifier;
        HardwareVersion = hardwareVersion;
        FirmwareVersion = firmwareVersion;
    }

    public string Uid { get; }

    public uint UidValue { get; }

    public string ConnectedUid { get; }

    public char Position { get; }

    public int DeviceIdentifier { get; }

    public Version HardwareVersion { get; }

    public Version FirmwareVersion { get; }

    /// <summary>A silent device swallows every request (an unplugged-but-not-announced device: clients time out).</summary>
    public bool Silent
    {
        get => Volatile.Read(ref _silent);
        set => Volatile.Write(ref _silent, value);
    }

    /// <summary>Bricks report the chip temperature in °C/10; co-processor Bricklets in °C and have the SPITFP functions.</summary>
    protected virtual bool IsBrick => false;

    /// <summary>Called when a callback period changes, so the daemon's callback loop re-plans.</summary>
    public Action? CallbacksChanged { get; set; }

    public BrickDevice Identity => new(Uid, ConnectedUid, Position, HardwareVersion, FirmwareVersion, DeviceIdentifier, null);

    /// <summary>Runs one request.</summary>
    public DeviceAnswer Handle(byte functionId, byte[] payload)
    {
        if (functionId == TfpFunction.GetIdentity) return payload.Length == 0 ? DeviceAnswer.Ok(Identity.ToPayload(null)) : DeviceAnswer.InvalidParameter;
        lock (_callbacks)
        {
            return HandleFunction(functionId, payload) ?? HandleCommon(functionId, payload);
        }
    }

    /// <summary>The device's own functions; null for a function it does not have.</summary>
    protected abstract DeviceAnswer? HandleFunction(byte functionId, byte[] payload);

    /// <summary>Adds the callbacks that are due to <paramref name="due"/>; returns the time until the next one (or null when none is on).</summary>
    public TimeSpan? CollectDueCallbacks(long nowMs, List<(uint Uid, byte FunctionId, byte[] Payload)> due)
    {
        long? next = null;
        lock (_callbacks)
        {
            foreach (var callback in _callbacks)
            {
                if (callback.PeriodMs == 0) continue;
                if (nowMs >= callback.NextDueMs)
                {
                    // Stay on the period grid; when the loop ran late, skip the missed ticks instead of sending a burst.
                    callback.NextDueMs += callback.PeriodMs;
                    if (callback.NextDueMs <= nowMs) callback.NextDueMs = nowMs + callback.PeriodMs;
                    byte[]? payload = callback.Produce();
                    if (payload is not null) due.Add((UidValue, callback.FunctionId, payload));
                }
                next = next is null ? callback.NextDueMs : Math.Min(next.Value, callback.NextDueMs);
            }
        }
        return next is null ? null : TimeSpan.FromMilliseconds(Math.Max(0, next.Value - nowMs));
    }

    protected PeriodicCallback AddCallback(byte functionId, int valueBytes, bool signed, Func<long> read, bool valueHasToChangeByDefault = false)
    {
        var callback = new PeriodicCallback(functionId, valueBytes, signed, read, () => CallbacksChanged?.Invoke()) { ValueHasToChange = valueHasToChangeByDefault };
        _callbacks.Add(callback);
        return callback;
    }

    /// <summary>Bricklets without a co-processor (the 1.0 generation) have none of the chip functions.</summary>
    protected virtual bool HasCoProcessor => true;

    private DeviceAnswer HandleCommon(byte functionId, byte[] payload)
    {
        if (IsBrick)
        {
            return functionId switch
            {
                TfpFunction.GetChipTemperature => DeviceAnswer.Int16((int)Drift(345, 15, 90)),
                243 => DeviceAnswer.Empty, // reset
                _ => DeviceAnswer.NotSupported,
            };
        }
        if (!HasCoProcessor) return DeviceAnswer.NotSupported;
        return functionId switch
        {
            TfpFunction.GetChipTemperature => DeviceAnswer.Int16((int)Drift(34, 2, 90)),
            243 => DeviceAnswer.Empty,
            234 => DeviceAnswer.Ok(new byte[16]), // get_spitfp_error_count: four zero counters
            236 => DeviceAnswer.Ok(1), // get_bootloader_mode: firmware
            239 when payload.Length == 1 && payload[0] <= 3 => SetStatusLed(payload[0]),
            239 => DeviceAnswer.InvalidParameter,
            240 => DeviceAnswer.Ok(_statusLedConfig),
            _ => DeviceAnswer.NotSupported,
        };
    }

    private DeviceAnswer SetStatusLed(byte config)
    {
        _statusLedConfig = config;
        return DeviceAnswer.Empty;
    }

    /// <summary>A slow sine around <paramref name="mid"/> plus a little noise: a plausible sensor value.</summary>
    protected static double Drift(double mid, double amplitude, double periodSeconds)
    {
        double t = Environment.TickCount64 / 1000.0;
        return mid + amplitude * Math.Sin(2 * Math.PI * t / periodSeconds) + amplitude * 0.05 * (Random.Shared.NextDouble() - 0.5);
    }

    public override string ToString() => $"{BrickDeviceCatalog.DisplayName(DeviceIdentifier)} {Uid}";

    /// <summary>
    /// One periodic callback with the V2 configuration: period, value-has-to-change and threshold option
    /// ('x' off, 'o' outside, 'i' inside, '&lt;' below min, '&gt;' above min).
    /// </summary>
    protected sealed class PeriodicCallback
    {
        private readonly int _valueBytes;
        private readonly bool _signed;
        private readonly Func<long> _read;
        private readonly Action _changed;
        private long? _lastSent;

        public PeriodicCallback(byte functionId, int valueBytes, bool signed, Func<long> read, Action changed)
        {
            _changed = changed;
            FunctionId = functionId;
            _valueBytes = valueBytes;
            _signed = signed;
            _read = read;
        }

        public byte FunctionId { get; }

        public uint PeriodMs { get; private set; }

        public bool ValueHasToChange { get; set; }

        public char Option { get; private set; } = 'x';

        public long Minimum { get; private set; }

        public long Maximum { get; private set; }

        public long NextDueMs { get; set; }

        /// <summary>Size of the V2 configuration payload: period(4) bool(1) option(1) min max.</summary>
        public int ConfigurationLength => 6 + 2 * _valueBytes;

        public void SetPeriod(uint periodMs)
        {
            PeriodMs = periodMs;
            NextDueMs = Environment.TickCount64 + periodMs;
            _changed();
        }

        public DeviceAnswer Configure(byte[] payload)
        {
            if (payload.Length != ConfigurationLength) return DeviceAnswer.InvalidParameter;
            char option = (char)payload[5];
            if ("xoi<>".IndexOf(option, StringComparison.Ordinal) < 0) return DeviceAnswer.InvalidParameter;
            ValueHasToChange = payload[4] != 0;
            Option = option;
            Minimum = ReadValue(payload.AsSpan(6));
            Maximum = ReadValue(payload.AsSpan(6 + _valueBytes));
            _lastSent = null;
            SetPeriod(BinaryPrimitives.ReadUInt32LittleEndian(payload));
            return DeviceAnswer.Empty;
        }

        public DeviceAnswer Configuration()
        {
            var payload = new byte[ConfigurationLength];
            BinaryPrimitives.WriteUInt32LittleEndian(payload, PeriodMs);
            payload[4] = ValueHasToChange ? (byte)1 : (byte)0;
            payload[5] = (byte)Option;
            WriteValue(payload.AsSpan(6), Minimum);
            WriteValue(payload.AsSpan(6 + _valueBytes), Maximum);
            return DeviceAnswer.Ok(payload);
        }

        public byte[] Encode(long value)
        {
            var bytes = new byte[_valueBytes];
            WriteValue(bytes, value);
            return bytes;
        }

        /// <summary>The payload to send now, or null when the value has not changed (if it has to) or is outside the threshold.</summary>
        public byte[]? Produce()
        {
            long value = _read();
            if (ValueHasToChange && _lastSent == value) return null;
            bool pass = Option switch
            {
                'o' => value < Minimum || value > Maximum,
                'i' => value >= Minimum && value <= Maximum,
                '<' => value < Minimum,
                '>' => value > Minimum,
                _ => true,
            };
            if (!pass) return null;
            _lastSent = value;
            return Encode(value);
        }

        private long ReadValue(ReadOnlySpan<byte> source) => (_valueBytes, _signed) switch
        {
            (1, _) => source[0],
            (2, true) => BinaryPrimitives.ReadInt16LittleEndian(source),
            (2, false) => BinaryPrimitives.ReadUInt16LittleEndian(source),
            (_, true) => BinaryPrimitives.ReadInt32LittleEndian(source),
            _ => BinaryPrimitives.ReadUInt32LittleEndian(source),
        };

        private void WriteValue(Span<byte> target, long value)
        {
            switch (_valueBytes)
            {
                case 1: target[0] = (byte)value; break;
                case 2: BinaryPrimitives.WriteInt16LittleEndian(target, (short)value); break;
                default: BinaryPrimitives.WriteInt32LittleEndian(target, (int)value); break;
            }
        }
    }
}
