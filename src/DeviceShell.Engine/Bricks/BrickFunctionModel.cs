using System.Collections.Specialized;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// The answer of a function called by name: which device and function, and its named returns, in the unit a person
/// reads (<see cref="Units"/>) or, when <see cref="IsRaw"/>, as the integers the bindings return.
/// </summary>
public sealed class BrickFunctionResult
{
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

    public string Uid { get; }

    public string DeviceName { get; }

    public string Function { get; }

    /// <summary>The named returns in wire order (the cmdlet also shows each as a property of its own).</summary>
    public OrderedDictionary Values { get; }

    /// <summary>The unit of each return that has one (Temperature → Degree Celsius).</summary>
    public OrderedDictionary Units { get; }

    /// <summary>True when <see cref="Values"/> are the bindings' integers (-Raw), not scaled to their units.</summary>
    public bool IsRaw { get; }

    public override string ToString() =>
        $"{Function} {Uid}: {string.Join(", ", Values.Keys.Cast<string>().Select(k => $"{k}={Values[k]}{(Units[k] is string unit ? " " + unit : "")}"))}";
}

/// <summary>One function or callback of a device type as Get-BrickFunction lists it.</summary>
/// <param name="Kind">Function (called with Invoke-BrickFunction) or Callback (arrives through Receive-BrickCallback).</param>
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

    public override string ToString() => $"{Kind} {Name} [fid {Id}]";
}
