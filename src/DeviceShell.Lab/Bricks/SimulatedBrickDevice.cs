using System.Buffers.Binary;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Lab.Bricks;

/// <summary>The answer a simulated device gives to one request: header error code and response payload.</summary>
public readonly record struct DeviceAnswer(byte ErrorCode, byte[] Payload)
{
    public static DeviceAnswer Ok(params byte[] payload) => new(0, payload);

    /// <summary>Error 1: the request payload could not be unpacked or a value is out of range.</summary>
    public static readonly DeviceAnswer InvalidParameter = new(1, Array.Empty<byte>());

    /// <summary>Error 2: the device has no such function.</summary>
    public static readonly DeviceAnswer NotSupported = new(2, Array.Empty<byte>());
}

/// <summary>
/// A device of the simulated stack, driven by its catalogue entry so it answers every function the device has:
/// setters store their values and the matching getters return them; sensor readings drift within their range;
/// callback configurations drive the callbacks (see <see cref="SimulatedCallback"/>); a function the device does
/// not have is FUNCTION_NOT_SUPPORTED. Requests run under a lock, one at a time, like on a real device.
/// Scripts set readings and inputs by value name with <see cref="SetInput"/>.
/// </summary>
public sealed class SimulatedBrickDevice
{
    private readonly object _lock = new();
    /// <summary>Setter values by subject (SetColor/GetColor -> "Color") plus the bytes of the getter's own parameters (a channel).</summary>
    private readonly Dictionary<string, byte[]> _stored = new(StringComparer.Ordinal);
    /// <summary>Readings and inputs a script set, by value name; they win over the simulated drift.</summary>
    private readonly Dictionary<string, object> _inputs = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>What Enable…/Disable… pairs switched, by subject ("" for Enable/Disable, "TiltStateCallback"), as Is…Enabled reads it.</summary>
    private readonly Dictionary<string, bool> _enabled = new(StringComparer.Ordinal);
    private readonly SimulatedStreams _streams;
    private readonly List<SimulatedCallback> _callbacks;
    private readonly HashSet<string> _readingNames;
    private readonly long _phaseMs = Random.Shared.Next(0, 60_000);
    private bool _silent;

    public SimulatedBrickDevice(BrickDeviceType type, string uid, string connectedUid, char position, Version hardwareVersion, Version firmwareVersion)
    {
        Type = WithStableValueNames(type);
        Uid = uid;
        UidValue = BrickUid.Parse(uid);
        ConnectedUid = connectedUid;
        Position = position;
        HardwareVersion = hardwareVersion;
        FirmwareVersion = firmwareVersion;
        _streams = new SimulatedStreams(this);
        // Stream callbacks carry chunks of data the streams send (a looped-back serial port's Read), not readings.
        _callbacks = Type.Callbacks.Where(c => c.Stream is null).Select(c => new SimulatedCallback(this, c)).ToList();
        // A reading is a number some callback reports or the quantity table knows: it drifts instead of staying 0.
        // A value with constants (a button state, a mode) is a state, not a reading.
        _readingNames = Type.Callbacks.SelectMany(c => c.Values).Where(v => IsNumericScalar(v) && v.Constants is null).Select(v => v.Name)
            .Concat(BrickQuantities.All.Where(q => q.DeviceIdentifier == Type.Identifier).Select(q => q.Value))
            .Append("ChipTemperature")
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The device's catalogue entry, its values under the names the simulator keys its state by (see <see cref="WithStableValueNames"/>).</summary>
    public BrickDeviceType Type { get; }

    /// <summary>
    /// The catalogue names values as the configurations do, and those repeat within a device (GetTemperature and
    /// GetChipTemperature both return a Temperature; GetStackVoltage and GetUSBVoltage a Voltage). The simulator keys
    /// readings and inputs by name, so it uses the distinct names the catalogue had before (ChipTemperature,
    /// StackVoltage), keeping the configuration's name as the other name a script may set an input by.
    /// </summary>
    private static BrickDeviceType WithStableValueNames(BrickDeviceType type)
    {
        static BrickValueSpec[] Rename(IEnumerable<BrickValueSpec> values) =>
            values.Select(v => v.FormerName is { } former ? v with { Name = former, FormerName = v.Name } : v).ToArray();
        return new BrickDeviceType(type.Identifier, type.Name,
            type.Functions.Select(f => f with { Parameters = Rename(f.Parameters), Returns = Rename(f.Returns) }).ToArray(),
            type.Callbacks.Select(c => c with { Values = Rename(c.Values) }).ToArray(),
            type.Constants);
    }

    public string Uid { get; }

    public uint UidValue { get; }

    public string ConnectedUid { get; }

    public char Position { get; }

    public int DeviceIdentifier => Type.Identifier;

    public Version HardwareVersion { get; }

    public Version FirmwareVersion { get; }

    /// <summary>A silent device swallows every request (an unplugged-but-not-announced device: clients time out).</summary>
    public bool Silent
    {
        get => Volatile.Read(ref _silent);
        set => Volatile.Write(ref _silent, value);
    }

    /// <summary>Called when a callback configuration or an input changes, so the daemon's callback loop re-plans.</summary>
    public Action? CallbacksChanged { get; set; }

    public BrickDevice Identity => new(Uid, ConnectedUid, Position, HardwareVersion, FirmwareVersion, DeviceIdentifier, null);

    /// <summary>Runs one request.</summary>
    public DeviceAnswer Handle(byte functionId, byte[] payload)
    {
        if (functionId == TfpFunction.GetIdentity) return payload.Length == 0 ? DeviceAnswer.Ok(Identity.ToPayload(null)) : DeviceAnswer.InvalidParameter;
        var function = Type.Function(functionId);
        if (function is null) return DeviceAnswer.NotSupported;
        if (payload.Length != function.RequestPayloadLength || !HasValidConstants(function, payload)) return DeviceAnswer.InvalidParameter;
        bool configurationChanged;
        DeviceAnswer answer;
        lock (_lock)
        {
            (answer, configurationChanged) = Run(function, payload);
        }
        if (configurationChanged) CallbacksChanged?.Invoke();
        return answer;
    }

    /// <summary>
    /// Sets a reading or input by value name (Temperature in 1/100 °C, ButtonState "Pressed", Value as bool[]),
    /// as the device's getters and callbacks name it; callbacks that report it react as the real device would.
    /// </summary>
    public void SetInput(string name, object? value)
    {
        if (HasLoopback && string.Equals(name, SimulatedStreams.LoopbackInput, StringComparison.OrdinalIgnoreCase))
        {
            lock (_lock) _streams.Loopback = Convert.ToBoolean(value, System.Globalization.CultureInfo.InvariantCulture);
            return;
        }
        var spec = InputSpecs.FirstOrDefault(v => string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? InputSpecs.FirstOrDefault(v => string.Equals(v.FormerName, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"A {Type.Name} has no reading or input '{name}'. It has: {string.Join(", ", InputNames)}.");
        // Round-trip through the wire format: the stored value is exactly what the device would report.
        var bytes = new byte[spec.ByteLength];
        BrickPayload.Write(spec, value, bytes);
        object normalized = BrickPayload.Read(spec, bytes);
        long now = Environment.TickCount64;
        lock (_lock)
        {
            var before = new byte[spec.ByteLength];
            BrickPayload.Write(spec, CurrentValue(spec), before);
            _inputs[spec.Name] = normalized;
            // Setting what the device already reports is no change: callbacks stay quiet, as with a real input.
            if (before.AsSpan().SequenceEqual(bytes)) return;
            foreach (var callback in _callbacks) callback.InputChanged(spec.Name, now);
        }
        CallbacksChanged?.Invoke();
    }

    /// <summary>Names <see cref="SetInput"/> accepts: what the getters return and the callbacks report.</summary>
    public IEnumerable<string> InputNames => InputSpecs.Select(v => v.Name).Distinct(StringComparer.OrdinalIgnoreCase)
        .Concat(HasLoopback ? new[] { SimulatedStreams.LoopbackInput } : Array.Empty<string>());

    /// <summary>A serial Bricklet (RS232 2.0, RS485) whose transmit line the Lab input Loopback can tie to its receive line.</summary>
    private bool HasLoopback => Type.Function("WriteLowLevel")?.Stream is not null;

    private IEnumerable<BrickValueSpec> InputSpecs =>
        Type.Functions.Where(f => SubjectOf(f.Name, "Get") is not null).SelectMany(f => f.Returns).Concat(Type.Callbacks.SelectMany(c => c.Values));

    /// <summary>Adds the callbacks that are due to <paramref name="due"/>; returns the time until the next one (or null when none is on).</summary>
    public TimeSpan? CollectDueCallbacks(long nowMs, List<(uint Uid, byte FunctionId, byte[] Payload)> due)
    {
        long? next = null;
        lock (_lock)
        {
            if (_streams.CollectCallbacks(due)) next = nowMs;
            foreach (var callback in _callbacks)
            {
                if (callback.Collect(nowMs, due) is long at) next = next is null ? at : Math.Min(next.Value, at);
            }
        }
        return next is null ? null : TimeSpan.FromMilliseconds(Math.Max(0, next.Value - nowMs));
    }

    public override string ToString() => $"{Type.Name} {Uid}";

    /// <summary>What an Enable…/Disable… pair last switched (false until switched on).</summary>
    internal bool IsEnabled(string subject) => _enabled.GetValueOrDefault(subject);

    /// <summary>The stored values of a setter, or null; <paramref name="subject"/> is the name without Set/Get, <paramref name="key"/> the leading parameters.</summary>
    internal byte[]? Stored(string subject, ReadOnlySpan<byte> key) => _stored.GetValueOrDefault(StoreKey(subject, key));

    /// <summary>
    /// The current value of a reading or input: what a script set, a drifting reading, or the type's rest value.
    /// A single value of an input set as an array (one channel of get_value) is its element <paramref name="element"/>.
    /// </summary>
    internal object CurrentValue(BrickValueSpec spec, int? element = null)
    {
        if (_inputs.TryGetValue(spec.Name, out object? set))
        {
            if (set is Array array && !spec.IsArray)
            {
                if (element is int index && index < array.Length) return array.GetValue(index)!;
            }
            else if (set is Array == spec.IsArray)
            {
                return set;
            }
        }
        var bytes = new byte[spec.ByteLength];
        if (_readingNames.Contains(spec.Name) && IsNumericScalar(spec)) BrickPayload.Write(spec, Reading(spec), bytes);
        else if (RestConstant(spec) is object constant) BrickPayload.Write(spec, constant, bytes);
        return BrickPayload.Read(spec, bytes);
    }

    private (DeviceAnswer Answer, bool ConfigurationChanged) Run(BrickFunction function, byte[] payload)
    {
        if (EnableSwitch(function) is (string switched, bool on))
        {
            _enabled[switched] = on;
            return (DeviceAnswer.Ok(), false);
        }
        if (EnabledQuery(function) is string asked && _enabled.TryGetValue(asked, out bool enabled))
            return (DeviceAnswer.Ok(enabled ? (byte)1 : (byte)0), false);
        string? read = SubjectOf(function.Name, "Get") ?? SubjectOf(function.Name, "Is") ?? SubjectOf(function.Name, "Read");
        // A single-chunk stream a setter stored whole (a CAN queue configuration) reads back as that setter's values.
        bool storedWhole = function.Stream is { SingleChunk: true } && read is not null && Stored(read, payload) is not null;
        if (!storedWhole && _streams.Run(function, payload) is DeviceAnswer streamed)
        {
            bool sends = function.Name == "WriteLowLevel";
            return (streamed, sends);
        }
        string? subject = SubjectOf(function.Name, "Set");
        if (subject is not null && function.Parameters.Count > 0)
        {
            int keyLength = (Type.Function("Get" + subject)?.RequestPayloadLength ?? 0) is int k && k < payload.Length ? k : 0;
            _stored[StoreKey(subject, payload.AsSpan(0, keyLength))] = payload[keyLength..];
            bool callbackSetting = subject.Contains("Callback", StringComparison.Ordinal) || subject == "DebouncePeriod";
            if (callbackSetting)
                foreach (var callback in _callbacks) callback.ConfigurationChanged(subject, Environment.TickCount64);
            return (DeviceAnswer.Ok(new byte[function.ResponsePayloadLength]), callbackSetting);
        }
        if (function.Returns.Count == 0) return (DeviceAnswer.Ok(), false);
        if (read is not null && Stored(read, payload) is { } stored && stored.Length == function.ResponsePayloadLength)
            return (DeviceAnswer.Ok(stored), false);
        var response = new byte[function.ResponsePayloadLength];
        int offset = 0;
        foreach (var spec in function.Returns)
        {
            BrickPayload.Write(spec, CurrentValue(spec), response.AsSpan(offset, spec.ByteLength));
            offset += spec.ByteLength;
        }
        return (DeviceAnswer.Ok(response), false);
    }

    /// <summary>
    /// A parameter that is an enumeration must be one of its constants, as the firmware checks: chars with constants
    /// (threshold options) and uint8 constants numbered 0..n-1 (modes, configs). Other constant groups are flags or
    /// examples, not a closed list, so they are not checked.
    /// </summary>
    private static bool HasValidConstants(BrickFunction function, byte[] payload)
    {
        int offset = 0;
        foreach (var spec in function.Parameters)
        {
            if (spec is { IsArray: false, Constants: { } constants } && IsEnumeration(spec)
                && constants.NameOf(spec.Type == BrickWireType.Char ? (char)payload[offset] : payload[offset]) is null) return false;
            offset += spec.ByteLength;
        }
        return true;
    }

    private static bool IsEnumeration(BrickValueSpec spec) => spec.Type switch
    {
        BrickWireType.Char => true,
        BrickWireType.UInt8 => spec.Constants!.Members.Select(m => m.Value).OfType<long>().Order().SequenceEqual(Enumerable.Range(0, spec.Constants.Members.Count).Select(i => (long)i)),
        _ => false,
    };

    /// <summary>
    /// A slow sine through the quantity's typical value (or a mid value of the type) plus a little noise, kept in range.
    /// Each device has its own phase so two sensors of one kind do not move in step.
    /// </summary>
    private double Reading(BrickValueSpec spec)
    {
        var getter = Type.Functions.FirstOrDefault(f => f.Returns.Count == 1 && f.Returns[0].Name == spec.Name && f.Parameters.Count == 0);
        var quantity = getter is null ? null
            : getter.Name == "GetChipTemperature" ? BrickQuantities.ChipTemperature(Type) : BrickQuantities.Find(DeviceIdentifier, getter.Name);
        double t = (Environment.TickCount64 + _phaseMs) / 1000.0;
        double wave = Math.Sin(2 * Math.PI * t / 90) + 0.05 * (Random.Shared.NextDouble() - 0.5);
        if (quantity is not null)
        {
            // A percent of the measuring range, but never more than a tenth of the typical value (5 V must not dip to 4.5 V).
            double span = Math.Min((quantity.Maximum - quantity.Minimum) * 0.01, Math.Max(Math.Abs(quantity.Typical) * 0.1, 0.5));
            return Math.Round(Math.Clamp(quantity.Typical + span * wave, quantity.Minimum, quantity.Maximum) * quantity.Divisor);
        }
        double mid = spec.Type switch
        {
            BrickWireType.UInt8 or BrickWireType.Int8 => 50,
            BrickWireType.Int16 or BrickWireType.Float => 500,
            _ => 1000,
        };
        return Math.Round(mid + mid * 0.1 * wave);
    }

    /// <summary>Where a value with constants rests: a device runs its firmware (not the bootloader), buttons are released, else the first constant.</summary>
    private static object? RestConstant(BrickValueSpec spec) =>
        spec.Constants is null || spec.IsArray ? null : (spec.Constants.Find("Firmware") ?? spec.Constants.Find("Released") ?? spec.Constants.Members[0]).Value;

    private static bool IsNumericScalar(BrickValueSpec spec) =>
        !spec.IsArray && spec.Type is not (BrickWireType.Bool or BrickWireType.Char or BrickWireType.String);

    private static string? SubjectOf(string functionName, string verb) =>
        functionName.Length > verb.Length && functionName.StartsWith(verb, StringComparison.Ordinal) && char.IsUpper(functionName[verb.Length])
            ? functionName[verb.Length..] : null;

    /// <summary>Enable{X} / Disable{X} without parameters or returns: the subject X and whether it switches on.</summary>
    private static (string Subject, bool On)? EnableSwitch(BrickFunction function)
    {
        if (function.Parameters.Count != 0 || function.Returns.Count != 0) return null;
        foreach (var (verb, on) in new[] { ("Enable", true), ("Disable", false) })
        {
            if (function.Name == verb) return ("", on);
            if (SubjectOf(function.Name, verb) is string subject) return (subject, on);
        }
        return null;
    }

    /// <summary>Is{X}Enabled without parameters, answering one bool: the subject X it reads.</summary>
    private static string? EnabledQuery(BrickFunction function) =>
        function.Parameters.Count == 0 && function.Returns is [{ Type: BrickWireType.Bool, IsArray: false }]
        && SubjectOf(function.Name, "Is") is string rest && rest.EndsWith("Enabled", StringComparison.Ordinal)
            ? rest[..^"Enabled".Length] : null;

    private static string StoreKey(string subject, ReadOnlySpan<byte> key) => key.IsEmpty ? subject : subject + ":" + Convert.ToHexString(key);
}
