namespace DeviceShell.Engine.Bricks;

/// <summary>The element type of a value on the wire (the pack format letters of the bindings).</summary>
public enum BrickWireType
{
    /// <summary>Signed 8-bit integer ('b').</summary>
    Int8,
    /// <summary>Unsigned 8-bit integer ('B').</summary>
    UInt8,
    /// <summary>Signed 16-bit little-endian integer ('h').</summary>
    Int16,
    /// <summary>Unsigned 16-bit little-endian integer ('H').</summary>
    UInt16,
    /// <summary>Signed 32-bit little-endian integer ('i').</summary>
    Int32,
    /// <summary>Unsigned 32-bit little-endian integer ('I').</summary>
    UInt32,
    /// <summary>Signed 64-bit little-endian integer ('q').</summary>
    Int64,
    /// <summary>Unsigned 64-bit little-endian integer ('Q').</summary>
    UInt64,
    /// <summary>IEEE 754 single-precision float, little-endian ('f').</summary>
    Float,
    /// <summary>One byte per value; arrays of bools are bit-packed.</summary>
    Bool,
    /// <summary>One byte, Latin-1.</summary>
    Char,
    /// <summary>A NUL-padded char[n] read up to the first NUL.</summary>
    String,
}

/// <summary>Whether a function answers: getters always do; setters do by default or only when asked.</summary>
public enum BrickResponseExpected
{
    /// <summary>A getter: the device always answers, and the call waits for it.</summary>
    Always,
    /// <summary>A setter that answers unless the caller asks it not to (-NoResponse).</summary>
    ByDefault,
    /// <summary>A setter that answers only when the caller asks for it; by default the call returns once the request is sent.</summary>
    NotByDefault,
}

/// <summary>
/// One named constant of a device, e.g. ThresholdOption.Outside = 'o'; <paramref name="BindingsName"/> is the name the
/// official bindings give it (THRESHOLD_OPTION_OUTSIDE).
/// </summary>
/// <param name="Name">The constant's name in PascalCase, e.g. Outside.</param>
/// <param name="Value">The wire value (a number, a char or a bool, as the parameter's wire type).</param>
/// <param name="BindingsName">The bindings' name, or null when the catalogue has none.</param>
public sealed record BrickConstant(string Name, object Value, string? BindingsName = null);

/// <summary>How a raw wire integer becomes the value a person reads: raw × Numerator / Denominator (°C/100 is 1/100).</summary>
/// <param name="Numerator">Multiplies the raw value.</param>
/// <param name="Denominator">Divides the raw value; never 0.</param>
public sealed record BrickScale(long Numerator, long Denominator)
{
    /// <summary>The value a person reads for a raw wire value: raw × Numerator / Denominator.</summary>
    public double ToReadable(double raw) => raw * Numerator / Denominator;

    /// <summary>The raw wire value for a value a person gives, rounded to the nearest integer (halves away from zero).</summary>
    public double ToRaw(double readable) => Math.Round(readable * Denominator / Numerator, MidpointRounding.AwayFromZero);

    /// <summary>The factor as text: "1/100" when the numerator is 1, else "Numerator/Denominator".</summary>
    public override string ToString() => Numerator == 1 ? $"1/{Denominator}" : $"{Numerator}/{Denominator}";
}

/// <summary>One interval of raw values a parameter accepts; a null bound is the wire type's own.</summary>
/// <param name="Minimum">The smallest raw value accepted, or null.</param>
/// <param name="Maximum">The largest raw value accepted, or null.</param>
public sealed record BrickRange(double? Minimum, double? Maximum)
{
    /// <summary>True when <paramref name="raw"/> lies within both bounds (inclusive); a null bound does not limit.</summary>
    public bool Contains(double raw) => (Minimum is not double min || raw >= min) && (Maximum is not double max || raw <= max);
}

/// <summary>The constants that one parameter or return takes (an enumeration or flags).</summary>
/// <param name="Name">The group's name, e.g. ThresholdOption.</param>
/// <param name="Members">The constants in the configuration's order.</param>
public sealed record BrickConstantGroup(string Name, IReadOnlyList<BrickConstant> Members)
{
    /// <summary>The constant of this group named <paramref name="name"/> (case-insensitive), or null.</summary>
    public BrickConstant? Find(string name) => Members.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The name of a wire value, or null when it is none of the constants.</summary>
    public string? NameOf(object value) => Members.FirstOrDefault(m => Equals(Normalize(m.Value), Normalize(value)))?.Name;

    private static object Normalize(object value) => value switch
    {
        char c => c,
        bool b => b,
        _ => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The group's name followed by its members' names, e.g. "ThresholdOption (Off, Outside, Inside, Smaller, Greater)".</summary>
    public override string ToString() => $"{Name} ({string.Join(", ", Members.Select(m => m.Name))})";
}

/// <summary>
/// One parameter, return or callback value: name, wire type, element count (array length or string capacity; 1 for a
/// scalar), whether it is an array (strings are one value, not arrays) and its constants if any.
/// </summary>
/// <param name="Name">The value's name in PascalCase, e.g. Temperature.</param>
/// <param name="Type">The wire type of one element.</param>
/// <param name="Count">Array length or string capacity in elements; 1 for a scalar.</param>
/// <param name="IsArray">True for an array (a string is one value, not an array).</param>
/// <param name="Constants">The constants the value takes, or null.</param>
public sealed record BrickValueSpec(string Name, BrickWireType Type, int Count, bool IsArray, BrickConstantGroup? Constants)
{
    /// <summary>
    /// The name the catalogue gave this value before it took the configurations' names (ChipTemperature for what is now
    /// Temperature of GetChipTemperature); commands accept it as an alias. Null when the name did not change.
    /// </summary>
    public string? FormerName { get; init; }

    /// <summary>The unit of the value a person reads ("Degree Celsius", "Second"; "1" for a dimensionless ratio), or null.</summary>
    public string? Unit { get; init; }

    /// <summary>From the wire integer to the value in <see cref="Unit"/>; null when the wire value is read as it is.</summary>
    public BrickScale? Scale { get; init; }

    /// <summary>The raw values a parameter accepts (one or more intervals); empty when the configuration gives none.</summary>
    public IReadOnlyList<BrickRange> Range { get; init; } = Array.Empty<BrickRange>();

    /// <summary>The raw value the device starts with and a parameter defaults to; null when there is none.</summary>
    public object? Default { get; init; }

    /// <summary>The bytes the value takes in a packet: Count × the element size; a bool array takes one bit per value.</summary>
    public int ByteLength => Type switch
    {
        BrickWireType.Bool when IsArray => (Count + 7) / 8,
        _ => Count * ElementSize(Type),
    };

    /// <summary>The format letters of the bindings: b B h H i I q Q f ? c s, with an element count for arrays ("B60", "?4", "s8").</summary>
    public static BrickValueSpec Parse(string name, string format, BrickConstantGroup? constants)
    {
        var type = format[0] switch
        {
            'b' => BrickWireType.Int8,
            'B' => BrickWireType.UInt8,
            'h' => BrickWireType.Int16,
            'H' => BrickWireType.UInt16,
            'i' => BrickWireType.Int32,
            'I' => BrickWireType.UInt32,
            'q' => BrickWireType.Int64,
            'Q' => BrickWireType.UInt64,
            'f' => BrickWireType.Float,
            '?' => BrickWireType.Bool,
            'c' => BrickWireType.Char,
            's' => BrickWireType.String,
            _ => throw new FormatException($"'{format}' is not a TFP value format."),
        };
        bool counted = format.Length > 1;
        int count = counted ? int.Parse(format.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture) : 1;
        return new BrickValueSpec(name, type, count, counted && type != BrickWireType.String, constants);
    }

    /// <summary>The bytes one element of <paramref name="type"/> takes on the wire (1, 2, 4 or 8).</summary>
    internal static int ElementSize(BrickWireType type) => type switch
    {
        BrickWireType.Int16 or BrickWireType.UInt16 => 2,
        BrickWireType.Int32 or BrickWireType.UInt32 or BrickWireType.Float => 4,
        BrickWireType.Int64 or BrickWireType.UInt64 => 8,
        _ => 1,
    };

    /// <summary>The .NET type of one element as unpacked (sbyte, byte, short, ... float, bool, char; string for strings).</summary>
    public Type ElementClrType => Type switch
    {
        BrickWireType.Int8 => typeof(sbyte),
        BrickWireType.UInt8 => typeof(byte),
        BrickWireType.Int16 => typeof(short),
        BrickWireType.UInt16 => typeof(ushort),
        BrickWireType.Int32 => typeof(int),
        BrickWireType.UInt32 => typeof(uint),
        BrickWireType.Int64 => typeof(long),
        BrickWireType.UInt64 => typeof(ulong),
        BrickWireType.Float => typeof(float),
        BrickWireType.Bool => typeof(bool),
        BrickWireType.Char => typeof(char),
        _ => typeof(string),
    };

    /// <summary>The .NET type of the whole value: the element type, or an array of it.</summary>
    public Type ClrType => IsArray ? ElementClrType.MakeArrayType() : ElementClrType;

    /// <summary>
    /// "Period: UInt32 [Second, raw × 1/1000]", "Value: Bool[4]"; with constants, their names too, as Get-BrickFunction
    /// shows them in a list.
    /// </summary>
    public override string ToString() =>
        $"{Name}: {Type}{(IsArray || Type == BrickWireType.String ? $"[{Count}]" : "")}{UnitText}{(Constants is null ? "" : $" of {Constants}")}";

    private string UnitText => (Unit, Scale) switch
    {
        (null, _) => "",
        ("1", BrickScale scale) => $" [raw × {scale}]",
        (string unit, BrickScale scale) => $" [{unit}, raw × {scale}]",
        (string unit, null) => $" [{unit}]",
    };
}

/// <summary>
/// A function of a device: its name in PascalCase as PowerShell shows it (GetTemperature), id, parameters, returns and
/// whether it answers by default.
/// </summary>
/// <param name="Name">The name in PascalCase, e.g. GetTemperature.</param>
/// <param name="Id">The function id on the wire.</param>
/// <param name="Parameters">The request's values in wire order.</param>
/// <param name="Returns">The response's values in wire order.</param>
/// <param name="ResponseExpected">Whether the device answers the call.</param>
public sealed record BrickFunction(string Name, byte Id, IReadOnlyList<BrickValueSpec> Parameters, IReadOnlyList<BrickValueSpec> Returns,
    BrickResponseExpected ResponseExpected)
{
    /// <summary>
    /// The stream a low-level function carries one chunk of (…Length, …ChunkOffset, …ChunkData), and the high-level
    /// function made of it; null for other functions.
    /// </summary>
    public BrickStream? Stream { get; init; }

    /// <summary>For a high-level stream function (WritePixels): the low-level function it calls chunk by chunk; else null.</summary>
    public BrickFunction? LowLevel { get; init; }


    /// <summary>The bytes of the request payload: the sum of the parameters' <see cref="BrickValueSpec.ByteLength"/>.</summary>
    public int RequestPayloadLength => Parameters.Sum(p => p.ByteLength);

    /// <summary>The bytes the response payload must have: the sum of the returns' <see cref="BrickValueSpec.ByteLength"/>.</summary>
    public int ResponsePayloadLength => Returns.Sum(r => r.ByteLength);

    /// <summary>True when the request carries R=1 unless the caller says otherwise.</summary>
    public bool ExpectsResponseByDefault => ResponseExpected != BrickResponseExpected.NotByDefault;

    /// <summary>The signature with types, e.g. "GetTemperature() -> Temperature: Int16 [Degree Celsius, raw × 1/100] [fid 1]".</summary>
    public override string ToString() =>
        $"{Name}({string.Join(", ", Parameters)}){(Returns.Count > 0 ? " -> " + string.Join(", ", Returns) : "")} [fid {Id}]";
}

/// <summary>A callback a device sends on its own (sequence number 0), with its named values.</summary>
/// <param name="Name">The name in PascalCase, e.g. Temperature.</param>
/// <param name="Id">The function id the callback arrives with.</param>
/// <param name="Values">The callback's values in wire order.</param>
public sealed record BrickCallback(string Name, byte Id, IReadOnlyList<BrickValueSpec> Values)
{
    /// <summary>The stream a low-level callback carries one chunk of; null for other callbacks.</summary>
    public BrickStream? Stream { get; init; }

    /// <summary>For a high-level callback (TemperatureImage): the low-level callback whose chunks make it up; else null.</summary>
    public BrickCallback? LowLevel { get; init; }


    /// <summary>The bytes of the callback's payload: the sum of its values' <see cref="BrickValueSpec.ByteLength"/>.</summary>
    public int PayloadLength => Values.Sum(v => v.ByteLength);

    /// <summary>The callback's name and values with their types, followed by its function id.</summary>
    public override string ToString() => $"{Name}({string.Join(", ", Values)}) [fid {Id}]";
}

/// <summary>A device class of the catalogue: identifier, display name, functions, callbacks and constants.</summary>
public sealed class BrickDeviceType
{
    private readonly Dictionary<string, BrickFunction> _functionsByName;
    private readonly Dictionary<byte, BrickFunction> _functionsById;

    /// <summary>Builds a device type from the catalogue's data; the high-level stream functions and callbacks are derived here.</summary>
    /// <param name="identifier">The device identifier the device reports in its identity (e.g. 2113 for the Temperature Bricklet 2.0).</param>
    /// <param name="name">The display name, e.g. "Temperature Bricklet 2.0".</param>
    /// <param name="functions">The functions as the configurations define them, low-level stream functions included.</param>
    /// <param name="callbacks">The callbacks as the configurations define them.</param>
    /// <param name="constants">The device's constant groups.</param>
    public BrickDeviceType(int identifier, string name, IReadOnlyList<BrickFunction> functions, IReadOnlyList<BrickCallback> callbacks, IReadOnlyList<BrickConstantGroup> constants)
    {
        Identifier = identifier;
        Name = name;
        Functions = functions;
        Callbacks = callbacks;
        Constants = constants;
        _functionsById = functions.ToDictionary(f => f.Id);
        HighLevelFunctions = functions.Where(f => f.Stream is not null).Select(BrickStream.HighLevelFunction).ToArray();
        HighLevelCallbacks = callbacks.Where(c => c.Stream is not null).Select(BrickStream.HighLevelCallback).ToArray();
        _functionsByName = functions.Concat(HighLevelFunctions).ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The device identifier the device reports in its identity and enumerate callbacks.</summary>
    public int Identifier { get; }

    /// <summary>The display name, e.g. "Temperature Bricklet 2.0".</summary>
    public string Name { get; }

    /// <summary>Brick, Bricklet or Other, from the display name.</summary>
    public string Category => Name.Contains("Bricklet", StringComparison.Ordinal) ? "Bricklet" : Name.Contains("Brick", StringComparison.Ordinal) ? "Brick" : "Other";

    /// <summary>The functions in the configurations' order, low-level stream functions included (not the high-level ones).</summary>
    public IReadOnlyList<BrickFunction> Functions { get; }

    /// <summary>The callbacks in the configurations' order, low-level stream callbacks included (not the high-level ones).</summary>
    public IReadOnlyList<BrickCallback> Callbacks { get; }

    /// <summary>
    /// The functions the bindings build of the low-level stream functions (WritePixels of WritePixelsLowLevel): they
    /// take and return the whole data and share the low-level function's id.
    /// </summary>
    public IReadOnlyList<BrickFunction> HighLevelFunctions { get; }

    /// <summary>The callbacks the bindings reassemble from the chunks of low-level stream callbacks (TemperatureImage).</summary>
    public IReadOnlyList<BrickCallback> HighLevelCallbacks { get; }

    /// <summary>The named constant groups of the device (enumerations and flags its parameters and returns take).</summary>
    public IReadOnlyList<BrickConstantGroup> Constants { get; }

    /// <summary>A function by name: PascalCase or the bindings' snake_case/camelCase spelling, case-insensitive.</summary>
    public BrickFunction? Function(string name) => _functionsByName.GetValueOrDefault(name.Replace("_", "", StringComparison.Ordinal));

    /// <summary>A function by its function id, or null; a high-level stream function is found under its low-level function's id.</summary>
    public BrickFunction? Function(byte id) => _functionsById.GetValueOrDefault(id);

    /// <summary>True when <paramref name="function"/> is this type's own (the same object), not another type's of the same name.</summary>
    public bool Owns(BrickFunction function) => _functionsByName.TryGetValue(function.Name, out var own) && ReferenceEquals(own, function);

    /// <summary>A callback by its function id, or null (the low-level one for a stream callback; see <see cref="HighLevelCallback"/>).</summary>
    public BrickCallback? Callback(byte id) => Callbacks.FirstOrDefault(c => c.Id == id);

    /// <summary>A callback by name, high-level ones included: PascalCase or the bindings' spelling, case-insensitive; null when there is none.</summary>
    public BrickCallback? Callback(string name) =>
        Callbacks.Concat(HighLevelCallbacks).FirstOrDefault(c => string.Equals(c.Name, name.Replace("_", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));

    /// <summary>The high-level callback made of the chunks of the low-level callback <paramref name="lowLevelId"/>, or null.</summary>
    public BrickCallback? HighLevelCallback(byte lowLevelId) => HighLevelCallbacks.FirstOrDefault(c => c.Id == lowLevelId);

    /// <summary>A constant group by name (case-insensitive), or null.</summary>
    public BrickConstantGroup? ConstantGroup(string name) => Constants.FirstOrDefault(g => string.Equals(g.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The wire value of a constant, e.g. ("ThresholdOption", "Greater") -> '&gt;'.</summary>
    public object? Constant(string group, string member) => ConstantGroup(group)?.Find(member)?.Value;

    /// <summary>The identifier and the display name, e.g. "2113 Temperature Bricklet 2.0".</summary>
    public override string ToString() => $"{Identifier} {Name}";
}
