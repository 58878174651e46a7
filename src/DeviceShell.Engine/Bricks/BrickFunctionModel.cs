using System.Collections.Specialized;

namespace DeviceShell.Engine.Bricks;

/// <summary>The answer of a function called by name: which device and function, and its named returns.</summary>
public sealed class BrickFunctionResult
{
    public BrickFunctionResult(string uid, BrickDeviceType deviceType, BrickFunction function, BrickValues returns)
    {
        Uid = uid;
        DeviceName = deviceType.Name;
        Function = function.Name;
        Values = returns.ToDictionary(function.Returns);
    }

    public string Uid { get; }

    public string DeviceName { get; }

    public string Function { get; }

    /// <summary>The named returns in wire order (the cmdlet also shows each as a property of its own).</summary>
    public OrderedDictionary Values { get; }

    public override string ToString() => $"{Function} {Uid}: {string.Join(", ", Values.Keys.Cast<string>().Select(k => $"{k}={Values[k]}"))}";
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
        deviceType.Functions.OrderBy(f => f.Id)
            .Select(f => new BrickFunctionInfo(deviceType.Name, deviceType.Identifier, "Function", f.Name, f.Id, f.Parameters, f.Returns, f.ExpectsResponseByDefault))
            .Concat(deviceType.Callbacks.OrderBy(c => c.Id)
                .Select(c => new BrickFunctionInfo(deviceType.Name, deviceType.Identifier, "Callback", c.Name, c.Id, Array.Empty<BrickValueSpec>(), c.Values, null)));

    public override string ToString() => $"{Kind} {Name} [fid {Id}]";
}
