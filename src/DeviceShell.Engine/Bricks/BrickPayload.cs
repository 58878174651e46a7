using System.Buffers.Binary;
using System.Collections;
using System.Globalization;
using System.Text;

namespace DeviceShell.Engine.Bricks;

/// <summary>Named values in wire order: a function's returns or a callback's values, unpacked.</summary>
public sealed class BrickValues : IReadOnlyDictionary<string, object?>
{
    private readonly List<KeyValuePair<string, object?>> _ordered = new();
    private readonly Dictionary<string, object?> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _formerNames = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The empty set of values, for functions without parameters; shared, never changed.</summary>
    public static readonly BrickValues None = new();

    /// <summary>Adds a value; <paramref name="formerName"/>, the catalogue's earlier name for it, finds it too (it is not enumerated).</summary>
    internal void Add(string name, object? value, string? formerName = null)
    {
        _ordered.Add(new(name, value));
        _byName.Add(name, value);
        if (formerName is not null) _formerNames[formerName] = name;
    }

    /// <summary>The name of a value a key stands for: its own name or a former one.</summary>
    private string NameOf(string key) => _byName.ContainsKey(key) ? key : _formerNames.GetValueOrDefault(key) ?? key;

    internal string? FormerNameOf(string name) => _formerNames.FirstOrDefault(p => string.Equals(p.Value, name, StringComparison.OrdinalIgnoreCase)).Key;

    /// <summary>The value named <paramref name="key"/> (case-insensitive, a former name too); throws KeyNotFoundException when there is none.</summary>
    public object? this[string key] => _byName[NameOf(key)];

    /// <summary>The names in wire order.</summary>
    public IEnumerable<string> Keys => _ordered.Select(p => p.Key);

    /// <summary>The values in wire order.</summary>
    public IEnumerable<object?> Values => _ordered.Select(p => p.Value);

    /// <summary>How many values there are.</summary>
    public int Count => _ordered.Count;

    /// <summary>True when a value has this name or former name (case-insensitive).</summary>
    public bool ContainsKey(string key) => _byName.ContainsKey(NameOf(key));

    /// <summary>Finds a value by name or former name (case-insensitive); false when there is none.</summary>
    public bool TryGetValue(string key, out object? value) => _byName.TryGetValue(NameOf(key), out value);

    /// <summary>The name/value pairs in wire order (former names are not enumerated).</summary>
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _ordered.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// The values as an ordered, case-insensitive dictionary (PowerShell reads its keys with dots); a scalar that is one
    /// of its spec's constants becomes the constant's name ("Pressed", "Greater"), as scripts compare them.
    /// </summary>
    public System.Collections.Specialized.OrderedDictionary ToDictionary(IReadOnlyList<BrickValueSpec> specs)
    {
        var constants = specs.Where(s => s.Constants is not null && !s.IsArray).ToDictionary(s => s.Name, s => s.Constants!, StringComparer.OrdinalIgnoreCase);
        var result = new System.Collections.Specialized.OrderedDictionary(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in _ordered)
            result.Add(name, value is not null && constants.TryGetValue(name, out var group) ? group.NameOf(value) ?? value : value);
        return result;
    }

    /// <summary>The values as "Name=value, ..." with arrays in brackets, e.g. "Temperature=2345".</summary>
    public override string ToString() => string.Join(", ", _ordered.Select(p => $"{p.Key}={Show(p.Value)}"));

    private static string Show(object? value) => value is Array array
        ? "[" + string.Join(",", array.Cast<object?>().Select(Show)) + "]"
        : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
}

/// <summary>
/// Packs named values into a TFP payload and unpacks payloads into named values, following the value specs
/// of the catalogue (docs/design/bricks-tfp.md §1: little endian, bit-packed bool arrays, NUL-padded strings).
/// </summary>
internal static class BrickPayload
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    /// <summary>
    /// Packs <paramref name="values"/> (by name, case-insensitive) in the order of <paramref name="specs"/>. Numbers
    /// may be any numeric type or text; a value with constants may also be the constant's name ("Greater").
    /// </summary>
    public static byte[] Pack(IReadOnlyList<BrickValueSpec> specs, IReadOnlyDictionary<string, object?> values)
    {
        var lookup = values.ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
        var payload = new byte[specs.Sum(s => s.ByteLength)];
        int offset = 0;
        foreach (var spec in specs)
        {
            if (!lookup.TryGetValue(spec.Name, out object? value))
                throw new ArgumentException($"The value '{spec.Name}' is missing; expected {string.Join(", ", specs.Select(s => s.Name))}.", nameof(values));
            Write(spec, value, payload.AsSpan(offset, spec.ByteLength));
            offset += spec.ByteLength;
        }
        return payload;
    }

    /// <summary>Unpacks a payload; it must have exactly the length the specs describe.</summary>
    public static BrickValues Unpack(IReadOnlyList<BrickValueSpec> specs, ReadOnlySpan<byte> payload)
    {
        int expected = specs.Sum(s => s.ByteLength);
        if (payload.Length != expected)
            throw new ArgumentException($"The payload has {payload.Length} bytes; {expected} were expected.", nameof(payload));
        var result = new BrickValues();
        int offset = 0;
        foreach (var spec in specs)
        {
            result.Add(spec.Name, Read(spec, payload.Slice(offset, spec.ByteLength)), spec.FormerName);
            offset += spec.ByteLength;
        }
        return result;
    }

    /// <summary>Writes one value (scalar, string or array) into its bytes.</summary>
    public static void Write(BrickValueSpec spec, object? value, Span<byte> target)
    {
        value = BrickUnits.Unwrap(value);
        if (spec.Type == BrickWireType.String)
        {
            byte[] text = Latin1.GetBytes(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "");
            if (text.Length > spec.Count) throw new ArgumentException($"'{spec.Name}' takes at most {spec.Count} characters.");
            target.Clear();
            text.CopyTo(target);
            return;
        }
        if (!spec.IsArray)
        {
            WriteElement(spec, value, target, 0);
            return;
        }
        object?[] items = value switch
        {
            string s when spec.Type == BrickWireType.Char => s.PadRight(spec.Count, '\0').Cast<object?>().ToArray(),
            byte[] bytes => bytes.Cast<object?>().ToArray(),
            IEnumerable sequence and not string => sequence.Cast<object?>().Select(BrickUnits.Unwrap).ToArray(),
            _ => throw new ArgumentException($"'{spec.Name}' takes {spec.Count} values."),
        };
        if (items.Length != spec.Count) throw new ArgumentException($"'{spec.Name}' takes exactly {spec.Count} values, not {items.Length}.");
        target.Clear();
        for (int i = 0; i < items.Length; i++) WriteElement(spec, items[i], target, i);
    }

    public static object Read(BrickValueSpec spec, ReadOnlySpan<byte> source)
    {
        if (spec.Type == BrickWireType.String)
        {
            int end = source.IndexOf((byte)0);
            return Latin1.GetString(end < 0 ? source : source[..end]);
        }
        if (!spec.IsArray) return ReadElement(spec, source, 0);
        var array = Array.CreateInstance(spec.ElementClrType, spec.Count);
        for (int i = 0; i < spec.Count; i++) array.SetValue(ReadElement(spec, source, i), i);
        return array;
    }

    private static void WriteElement(BrickValueSpec spec, object? value, Span<byte> target, int index)
    {
        value = ConstantValue(spec, value);
        int size = BrickValueSpec.ElementSize(spec.Type);
        var slot = spec.Type == BrickWireType.Bool && spec.IsArray ? target : target.Slice(index * size, size);
        var culture = CultureInfo.InvariantCulture;
        try
        {
            switch (spec.Type)
            {
                case BrickWireType.Int8: slot[0] = (byte)Convert.ToSByte(value, culture); break;
                case BrickWireType.UInt8: slot[0] = Convert.ToByte(value, culture); break;
                case BrickWireType.Int16: BinaryPrimitives.WriteInt16LittleEndian(slot, Convert.ToInt16(value, culture)); break;
                case BrickWireType.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(slot, Convert.ToUInt16(value, culture)); break;
                case BrickWireType.Int32: BinaryPrimitives.WriteInt32LittleEndian(slot, Convert.ToInt32(value, culture)); break;
                case BrickWireType.UInt32: BinaryPrimitives.WriteUInt32LittleEndian(slot, Convert.ToUInt32(value, culture)); break;
                case BrickWireType.Int64: BinaryPrimitives.WriteInt64LittleEndian(slot, Convert.ToInt64(value, culture)); break;
                case BrickWireType.UInt64: BinaryPrimitives.WriteUInt64LittleEndian(slot, Convert.ToUInt64(value, culture)); break;
                case BrickWireType.Float: BinaryPrimitives.WriteSingleLittleEndian(slot, Convert.ToSingle(value, culture)); break;
                case BrickWireType.Char: slot[0] = checked((byte)CharOf(value)); break;
                case BrickWireType.Bool when spec.IsArray:
                    if (ToBool(value)) slot[index / 8] |= (byte)(1 << (index % 8));
                    break;
                case BrickWireType.Bool: slot[0] = ToBool(value) ? (byte)1 : (byte)0; break;
            }
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            throw new ArgumentException($"'{value}' is not a valid {spec.Type} for '{spec.Name}'.", e);
        }
    }

    private static object ReadElement(BrickValueSpec spec, ReadOnlySpan<byte> source, int index)
    {
        if (spec.Type == BrickWireType.Bool && spec.IsArray) return (source[index / 8] & (1 << (index % 8))) != 0;
        var slot = source[(index * BrickValueSpec.ElementSize(spec.Type))..];
        return spec.Type switch
        {
            BrickWireType.Int8 => (sbyte)slot[0],
            BrickWireType.UInt8 => slot[0],
            BrickWireType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(slot),
            BrickWireType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(slot),
            BrickWireType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(slot),
            BrickWireType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(slot),
            BrickWireType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(slot),
            BrickWireType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(slot),
            BrickWireType.Float => BinaryPrimitives.ReadSingleLittleEndian(slot),
            BrickWireType.Char => (char)slot[0],
            _ => slot[0] != 0,
        };
    }

    /// <summary>A constant's name ("Greater") stands for its wire value ('&gt;'); anything else passes through.</summary>
    private static object? ConstantValue(BrickValueSpec spec, object? value) =>
        value is string name && spec.Constants?.Find(name) is { } constant ? constant.Value : value;

    private static char CharOf(object? value) => value switch
    {
        char c => c,
        string { Length: 1 } s => s[0],
        _ => (char)Convert.ToByte(value, CultureInfo.InvariantCulture),
    };

    private static bool ToBool(object? value) => value switch
    {
        bool b => b,
        string s => bool.Parse(s),
        _ => Convert.ToInt64(value, CultureInfo.InvariantCulture) != 0,
    };
}
