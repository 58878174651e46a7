using DeviceShell.Engine.Bricks;

namespace DeviceShell.Lab.Bricks;

/// <summary>
/// One callback of a simulated device, with the semantics of the real firmware, chosen by which configuration
/// functions the device has for it (names from the catalogue):
/// <list type="bullet">
/// <item>Set{X}CallbackConfiguration (2.0 generation): every period; with value-has-to-change only when the values
/// changed (then at once when they change after a quiet period); threshold option x (off), o (outside min..max),
/// i (inside), &lt; (below min), &gt; (above min). A leading parameter such as Channel configures each channel apart.</item>
/// <item>Set{X}CallbackPeriod (1.0 generation): every period, only when the value changed since the last one.</item>
/// <item>{X}Reached with Set{X}CallbackThreshold and SetDebouncePeriod (1.0): while the threshold holds, at most once per debounce period (default 100 ms).</item>
/// <item>No configuration (button state changed, interrupts): whenever a script changes an input the callback reports.</item>
/// </list>
/// All members run under the device's lock.
/// </summary>
internal sealed class SimulatedCallback
{
    private const uint DefaultDebounceMs = 100;
    /// <summary>How often a threshold is checked while it does not hold.</summary>
    private const int ThresholdPollMs = 10;

    private readonly SimulatedBrickDevice _device;
    private readonly BrickCallback _spec;
    private readonly BrickFunction? _configuration;
    private readonly BrickFunction? _period;
    private readonly BrickFunction? _threshold;
    private readonly string _subject;
    private readonly BrickValueSpec? _key;
    private readonly Dictionary<string, Timing> _timings = new(StringComparer.Ordinal);
    private bool _eventPending;

    public SimulatedCallback(SimulatedBrickDevice device, BrickCallback spec)
    {
        _device = device;
        _spec = spec;
        var type = device.Type;
        bool reached = spec.Name.EndsWith("Reached", StringComparison.Ordinal);
        _subject = reached ? spec.Name[..^"Reached".Length] : spec.Name;
        _configuration = reached ? null : type.Function($"Set{_subject}CallbackConfiguration");
        _period = reached || _configuration is not null ? null : type.Function($"Set{_subject}CallbackPeriod");
        _threshold = reached ? type.Function($"Set{_subject}CallbackThreshold") : null;
        var configured = _configuration ?? _period ?? _threshold;
        // A parameter before the period/option (Channel, Port) makes one configuration per value of it.
        if (configured is { Parameters.Count: > 0 } && configured.Parameters[0].Name is not ("Period" or "Option") && configured.Parameters[0].Constants is not null)
            _key = configured.Parameters[0];
    }

    private bool IsEvent => _configuration is null && _period is null && _threshold is null;

    /// <summary>
    /// A setter named Set{<paramref name="subject"/>} was called. When it configures this callback (or is the debounce
    /// period of a threshold callback) every channel starts over: the first callback one period from now, a threshold at once.
    /// </summary>
    public void ConfigurationChanged(string subject, long nowMs)
    {
        var setter = _configuration ?? _period ?? _threshold;
        if (setter is null || (setter.Name != "Set" + subject && !(subject == "DebouncePeriod" && _threshold is not null))) return;
        foreach (byte[] key in Keys())
        {
            var settings = ConfigurationOf(key);
            _timings[Convert.ToHexString(key)] = new Timing { NextDueMs = settings is { IsThreshold: false } ? nowMs + settings.IntervalMs : nowMs };
        }
    }

    /// <summary>A script changed an input: event callbacks fire; periodic ones that wait for a change may fire at once.</summary>
    public void InputChanged(string name, long nowMs)
    {
        if (!_spec.Values.Any(v => string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase))) return;
        if (IsEvent)
        {
            _eventPending = true;
            return;
        }
        foreach (byte[] key in Keys())
        {
            if (ConfigurationOf(key) is not { } settings || !settings.WaitsForChange) continue;
            var timing = TimingOf(key);
            timing.NextDueMs = Math.Min(timing.NextDueMs, Math.Max(nowMs, timing.LastSentMs + settings.IntervalMs));
        }
    }

    /// <summary>Adds this callback's due packets; returns when it wants to be asked again, or null when it is off.</summary>
    public long? Collect(long nowMs, List<(uint Uid, byte FunctionId, byte[] Payload)> due)
    {
        if (IsEvent)
        {
            if (_eventPending) due.Add((_device.UidValue, _spec.Id, Payload(Array.Empty<byte>(), null).Bytes));
            _eventPending = false;
            return null;
        }
        long? next = null;
        foreach (byte[] key in Keys())
        {
            if (ConfigurationOf(key) is not { } settings) continue;
            var timing = TimingOf(key);
            if (nowMs >= timing.NextDueMs) Fire(key, settings, timing, nowMs, due);
            next = next is null ? timing.NextDueMs : Math.Min(next.Value, timing.NextDueMs);
        }
        return next;
    }

    private void Fire(byte[] key, Settings settings, Timing timing, long nowMs, List<(uint Uid, byte FunctionId, byte[] Payload)> due)
    {
        var (bytes, comparable, value) = Payload(key, timing.LastComparable is null ? null : timing.LastSentValues);
        bool pass = Passes(settings, value) && !(settings.WaitsForChange && timing.LastComparable is not null && comparable.AsSpan().SequenceEqual(timing.LastComparable));
        if (settings.IsThreshold)
        {
            // A threshold is checked continuously; once it holds, it fires again only after the debounce period.
            timing.NextDueMs = pass ? nowMs + settings.IntervalMs : nowMs + ThresholdPollMs;
        }
        else
        {
            // Stay on the period grid; when the loop ran late, skip the missed ticks instead of sending a burst.
            timing.NextDueMs += settings.IntervalMs;
            if (timing.NextDueMs <= nowMs) timing.NextDueMs = nowMs + settings.IntervalMs;
        }
        if (!pass) return;
        due.Add((_device.UidValue, _spec.Id, bytes));
        timing.LastComparable = comparable;
        timing.LastSentValues = BrickPayload.Unpack(_spec.Values, bytes);
        timing.LastSentMs = nowMs;
    }

    /// <summary>
    /// The callback payload from the device's current values. A "Changed{X}" value (or array) says whether X (or which
    /// of its elements) differs from the last callback; it is left out of <c>Comparable</c>, which decides whether the values changed.
    /// </summary>
    private (byte[] Bytes, byte[] Comparable, double? Value) Payload(byte[] key, BrickValues? last)
    {
        var bytes = new byte[_spec.PayloadLength];
        var comparable = new byte[_spec.PayloadLength];
        double? thresholdValue = null;
        // With one configuration per channel, a leading uint8 value is the channel the callback is about.
        bool channelFirst = key.Length > 0 && _spec.Values.Count > 0 && _spec.Values[0] is { Type: BrickWireType.UInt8, IsArray: false };
        int? channel = channelFirst ? key[0] : null;
        var current = _spec.Values.Select((v, i) => (v.Name, Value: i == 0 && channelFirst ? key[0] : _device.CurrentValue(v, channel)))
            .ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        int offset = 0;
        foreach (var spec in _spec.Values)
        {
            var slot = bytes.AsSpan(offset, spec.ByteLength);
            if (spec.Name.StartsWith("Changed", StringComparison.Ordinal) && current.TryGetValue(spec.Name["Changed".Length..], out object? now))
            {
                object? before = last?[spec.Name["Changed".Length..]];
                object changed = now is Array nowItems
                    ? Enumerable.Range(0, nowItems.Length).Select(i => before is Array items && !Equals(items.GetValue(i), nowItems.GetValue(i))).ToArray()
                    : before is not null && !Equals(before, now);
                BrickPayload.Write(spec, changed, slot);
            }
            else
            {
                BrickPayload.Write(spec, current[spec.Name], slot);
                slot.CopyTo(comparable.AsSpan(offset));
                if (thresholdValue is null && !(channelFirst && offset == 0) && !spec.IsArray && spec.Type is not (BrickWireType.Bool or BrickWireType.Char or BrickWireType.String))
                    thresholdValue = Convert.ToDouble(current[spec.Name], System.Globalization.CultureInfo.InvariantCulture);
            }
            offset += spec.ByteLength;
        }
        return (bytes, comparable, thresholdValue);
    }

    private static bool Passes(Settings settings, double? value) => (settings.Option, value) switch
    {
        ('o', double v) => v < settings.Minimum || v > settings.Maximum,
        ('i', double v) => v >= settings.Minimum && v <= settings.Maximum,
        ('<', double v) => v < settings.Minimum,
        ('>', double v) => v > settings.Minimum,
        _ => true,
    };

    /// <summary>The stored configuration for one key, or null when the callback is off (period 0, option 'x').</summary>
    private Settings? ConfigurationOf(byte[] key)
    {
        var setter = _configuration ?? _period ?? _threshold;
        if (setter is null) return null;
        string subject = setter.Name["Set".Length..];
        byte[]? stored = _device.Stored(subject, key);
        if (stored is null) return null;
        var values = BrickPayload.Unpack(setter.Parameters.Skip(key.Length == 0 ? 0 : 1).ToArray(), stored);
        char option = values.TryGetValue("Option", out object? o) && o is char c ? c : 'x';
        double Number(string name) => values.TryGetValue(name, out object? n) && n is not null ? Convert.ToDouble(n, System.Globalization.CultureInfo.InvariantCulture) : 0;
        if (_threshold is not null)
        {
            if (option == 'x') return null;
            uint debounce = _device.Stored("DebouncePeriod", Array.Empty<byte>()) is { Length: 4 } d ? BitConverter.ToUInt32(d) : DefaultDebounceMs;
            return new Settings(Math.Max(1, debounce), false, option, Number("Min"), Number("Max"), IsThreshold: true);
        }
        long period = (long)Number("Period");
        if (period == 0) return null;
        bool waits = _period is not null || (values.TryGetValue("ValueHasToChange", out object? w) && w is true);
        return new Settings(period, waits, option, Number("Min"), Number("Max"), IsThreshold: false);
    }

    /// <summary>The configuration keys: one empty key, or each value of the leading parameter's constants (the channels).</summary>
    private IEnumerable<byte[]> Keys()
    {
        if (_key is null) return new[] { Array.Empty<byte>() };
        return _key.Constants!.Members.Select(m =>
        {
            var bytes = new byte[_key.ByteLength];
            BrickPayload.Write(_key, m.Value, bytes);
            return bytes;
        });
    }

    private Timing TimingOf(byte[] key)
    {
        string name = Convert.ToHexString(key);
        if (!_timings.TryGetValue(name, out var timing)) _timings[name] = timing = new Timing();
        return timing;
    }

    private sealed record Settings(long IntervalMs, bool WaitsForChange, char Option, double Minimum, double Maximum, bool IsThreshold);

    private sealed class Timing
    {
        public long NextDueMs { get; set; }

        public long LastSentMs { get; set; } = long.MinValue / 2;

        public byte[]? LastComparable { get; set; }

        public BrickValues? LastSentValues { get; set; }
    }
}
