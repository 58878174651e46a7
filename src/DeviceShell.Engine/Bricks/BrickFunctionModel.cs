using System.Collections.Specialized;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// The answer of a function called by name: which device and function, and its named returns, in the unit a person
/// reads (<see cref="Units"/>) or, when <see cref="IsRaw"/>, as the integers the bindings return.
/// </summary>
public sealed class BrickFunctionResult
{
    /// <summary>Builds the result of one call, scaling the returns to their units unless <paramref name="raw"/>.</summary>
    /// <param name="uid">The UID of the device called.</param>
    /// <param name="deviceType">The device's type.</param>
    /// <param name="function">The function called.</param>
    /// <param name="returns">The returns as unpacked from the response.</param>
    /// <param name="raw">True to keep the bindings' integers (-Raw).</param>
    public BrickFunctionResult(string uid, BrickDeviceType deviceType, BrickFunction function, BrickValues returns, bool raw = false)
    {
        ArgumentNullException.ThrowIfNull(deviceType);
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(returns);
        Uid = uid;
        DeviceName = deviceType.Name;
        Function = function.Name;
        IsRaw = raw;
        Values = (raw ? returns : BrickUnits.Readable(function.Returns, returns)).ToDictionary(function.Returns);
        Units = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
        foreach (var spec in function.Returns.Where(s => s.Unit is not null && s.Unit != "1" && !(raw && s.Scale is not null)))
            Units.Add(spec.Name, spec.Unit);
    }

    /// <summary>The UID of the device called.</summary>
    public string Uid { get; }

    /// <summary>The device type's display name.</summary>
    public string DeviceName { get; }

    /// <summary>The function's name, e.g. "GetTemperature".</summary>
    public string Function { get; }

    /// <summary>The named returns in wire order (the cmdlet also shows each as a property of its own).</summary>
    public OrderedDictionary Values { get; }

    /// <summary>The unit of each return that has one (Temperature → Degree Celsius).</summary>
    public OrderedDictionary Units { get; }

    /// <summary>True when <see cref="Values"/> are the bindings' integers (-Raw), not scaled to their units.</summary>
    public bool IsRaw { get; }

    /// <summary>Function, UID and each value with its unit, e.g. "GetTemperature Z7K: Temperature=23.45 Degree Celsius".</summary>
    public override string ToString() =>
        $"{Function} {Uid}: {string.Join(", ", Values.Keys.Cast<string>().Select(k => $"{k}={Values[k]}{(Units[k] is string unit ? " " + unit : "")}"))}";
}

/// <summary>One function or callback of a device type as Get-BrickFunction lists it.</summary>
/// <param name="DeviceName">The device type's display name.</param>
/// <param name="DeviceIdentifier">The device type's identifier.</param>
/// <param name="Kind">Function (called with Invoke-BrickFunction) or Callback (arrives through Receive-BrickCallback).</param>
/// <param name="Name">The function's or callback's name, e.g. GetTemperature.</param>
/// <param name="Id">The function id on the wire (a high-level stream function shares its low-level function's).</param>
/// <param name="Parameters">What the call takes (the dynamic parameters of Invoke-BrickFunction -Name); empty for callbacks.</param>
/// <param name="Returns">What the call answers, or the values a callback carries.</param>
/// <param name="ResponseExpected">Whether a call waits for the answer by default; null for callbacks.</param>
public sealed record BrickFunctionInfo(string DeviceName, int DeviceIdentifier, string Kind, string Name, byte Id,
    IReadOnlyList<BrickValueSpec> Parameters, IReadOnlyList<BrickValueSpec> Returns, bool? ResponseExpected)
{
    /// <summary>The functions of a type in id order, then its callbacks.</summary>
    public static IEnumerable<BrickFunctionInfo> Of(BrickDeviceType deviceType) =>
        deviceType.Functions.Concat(deviceType.HighLevelFunctions).OrderBy(f => f.Id).ThenBy(f => f.LowLevel is null)
            .Select(f => new BrickFunctionInfo(deviceType.Name, deviceType.Identifier, "Function", f.Name, f.Id, f.Parameters, f.Returns, f.ExpectsResponseByDefault))
            .Concat(deviceType.Callbacks.Concat(deviceType.HighLevelCallbacks).OrderBy(c => c.Id).ThenBy(c => c.LowLevel is null)
                .Select(c => new BrickFunctionInfo(deviceType.Name, deviceType.Identifier, "Callback", c.Name, c.Id, Array.Empty<BrickValueSpec>(), c.Values, null)));

    /// <summary>
    /// <c>Name(Parameter, ...) -> Return, ...</c>, broken into lines of at most <see cref="SignatureWidth"/> characters
    /// after a comma or before the arrow, so that the Get-BrickFunction table at 80 columns (whose wrap cuts wherever
    /// the column ends) never cuts a name: one line of names is 50 characters and more on 785 of 3,474 functions.
    /// </summary>
    public string Signature
    {
        get
        {
            var pieces = new List<string>();
            var names = Parameters.Select(p => p.Name).ToList();
            if (names.Count == 0) pieces.Add(Name + "()");
            else
            {
                pieces.Add(Name + "(" + names[0] + (names.Count == 1 ? ")" : ","));
                for (int i = 1; i < names.Count; i++) pieces.Add(names[i] + (i == names.Count - 1 ? ")" : ","));
            }
            if (Returns.Count > 0)
            {
                pieces.Add("-> " + Returns[0].Name + (Returns.Count == 1 ? "" : ","));
                for (int i = 1; i < Returns.Count; i++) pieces.Add(Returns[i].Name + (i == Returns.Count - 1 ? "" : ","));
            }
            var lines = new List<string>();
            string line = "";
            foreach (string piece in pieces)
            {
                if (line.Length == 0) line = piece;
                else if (line.Length + 1 + piece.Length <= SignatureWidth) line += " " + piece;
                else
                {
                    lines.Add(line);
                    line = "  " + piece;
                }
            }
            lines.Add(line);
            return string.Join(Environment.NewLine, lines);
        }
    }

    /// <summary>The longest line of <see cref="Signature"/>: what is left of 80 columns beside Kind and Id.</summary>
    public const int SignatureWidth = 64;

    /// <summary>Kind, name and function id, e.g. "Function GetTemperature [fid 1]".</summary>
    public override string ToString() => $"{Kind} {Name} [fid {Id}]";
}
