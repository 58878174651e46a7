using System.Collections;
using System.Globalization;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// Between the integers on the wire (what the bindings return) and the values a person reads: a scaled value is
/// raw × scale in its unit (GetTemperature 2345 → 23.45 °C), and a scaled argument is turned back into the integer,
/// checked against the configuration's range, before it is packed. Values without a scale pass through as they are.
/// </summary>
public static class BrickUnits
{
    /// <summary>The values in the unit a person reads: scaled scalars become doubles, scaled arrays double[].</summary>
    public static BrickValues Readable(IReadOnlyList<BrickValueSpec> specs, BrickValues raw)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(raw);
        var scales = specs.Where(s => s.Scale is not null).ToDictionary(s => s.Name, s => s.Scale!, StringComparer.OrdinalIgnoreCase);
        if (scales.Count == 0) return raw;
        var result = new BrickValues();
        foreach (var (name, value) in raw)
            result.Add(name, value is not null && scales.TryGetValue(name, out var scale) ? Scaled(scale, value) : value, raw.FormerNameOf(name));
        return result;
    }

    /// <summary>
    /// The raw arguments of a call: each named value (scaled when <paramref name="scaled"/>), its default where it is
    /// missing and has one, every number checked against the configuration's range. Throws ArgumentException naming
    /// the parameter, its range in the unit given and the value.
    /// </summary>
    public static Dictionary<string, object?> RawArguments(IReadOnlyList<BrickValueSpec> specs, IReadOnlyDictionary<string, object?> arguments, bool scaled)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(arguments);
        var given = arguments.ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
        var result = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var spec in specs)
        {
            if (!given.TryGetValue(spec.Name, out object? value))
            {
                if (spec.Default is null) continue; // Pack names what is missing.
                result[spec.Name] = spec.Default;
                continue;
            }
            value = Unwrap(value);
            var scale = scaled ? spec.Scale : null;
            result[spec.Name] = value switch
            {
                string or char or bool or null => value,
                IEnumerable items when spec.IsArray => items.Cast<object?>().Select(item => Checked(spec, scale, Unwrap(item))).ToArray(),
                _ => Checked(spec, scale, value),
            };
        }
        return result;
    }

    /// <summary>The range of a value in the unit a person reads ("-45 to 130 Degree Celsius"), for messages and help.</summary>
    public static string DescribeRange(BrickValueSpec spec, bool scaled)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var scale = scaled ? spec.Scale : null;
        string Bound(double? raw, string open) => raw is double r ? Show(scale is null ? r : scale.ToReadable(r)) : open;
        string unit = scale is not null && spec.Unit is { } u && u != "1" ? " " + u : "";
        return string.Join(" or ", spec.Range.Select(r => $"{Bound(r.Minimum, "…")} to {Bound(r.Maximum, "…")}")) + unit;
    }

    private static object Scaled(BrickScale scale, object? value) => value switch
    {
        Array array => array.Cast<object>().Select(item => Round(scale.ToReadable(Convert.ToDouble(item, CultureInfo.InvariantCulture)))).ToArray(),
        _ => Round(scale.ToReadable(Convert.ToDouble(value, CultureInfo.InvariantCulture))),
    };

    /// <summary>23.450000000000003 reads as 23.45: a scale's division leaves no more digits than the wire value has.</summary>
    private static double Round(double value) => double.Parse(value.ToString("G15", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static object? Checked(BrickValueSpec spec, BrickScale? scale, object? value)
    {
        if (value is string or char or bool or null) return value;
        double number;
        try
        {
            number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            return value; // Pack says what is wrong with it.
        }
        double raw = scale?.ToRaw(number) ?? number;
        if (spec.Range.Count > 0 && !spec.Range.Any(r => r.Contains(raw)))
            throw new ArgumentException($"'{spec.Name}' takes {DescribeRange(spec, scale is not null)}, not {Show(number)}.");
        if (scale is null) return value;
        return spec.Type == BrickWireType.Float ? raw : (object)(long)raw;
    }

    private static string Show(double value) => value.ToString("G10", CultureInfo.InvariantCulture);

    /// <summary>PowerShell hands values over wrapped in a PSObject; the engine has no PowerShell reference, so the BaseObject is taken by name.</summary>
    internal static object? Unwrap(object? value) =>
        value?.GetType().GetProperty("BaseObject")?.GetValue(value) ?? value;
}
