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
public sealed class BrickFunctionInfo
{
    private BrickFunctionInfo(BrickDeviceType deviceType, string kind, string name, byte id, IReadOnlyList<BrickValueSpec> parameters, IReadOnlyList<BrickValueSpec> returns, bool? responseExpected)
    {
        DeviceName = deviceType.Name;
        DeviceIdentifier = deviceType.Identifier;
        Kind = kind;
        Name = name;
        Id = id;
        Parameters = parameters;
        Returns = returns;
        ResponseExpected = responseExpected;
    }

    public string DeviceName { get; }

    public int DeviceIdentifier { get; }

    /// <summary>Function (called with Invoke-BrickFunction) or Callback (arrives through Receive-BrickCallback).</summary>
    public string Kind { get; }

    public string Name { get; }

    public byte Id { get; }

    /// <summary>What the call takes (the dynamic parameters of Invoke-BrickFunction -Name); empty for callbacks.</summary>
    public IReadOnlyList<BrickValueSpec> Parameters { get; }

    /// <summary>What the call answers, or the values a callback carries.</summary>
    public IReadOnlyList<BrickValueSpec> Returns { get; }

    /// <summary>Whether a call waits for the answer by default; null for callbacks.</summary>
    public bool? ResponseExpected { get; }

    /// <summary>The functions of a type in id order, then its callbacks.</summary>
    public static IEnumerable<BrickFunctionInfo> Of(BrickDeviceType deviceType) =>
        deviceType.Functions.OrderBy(f => f.Id).Select(f => new BrickFunctionInfo(deviceType, "Function", f.Name, f.Id, f.Parameters, f.Returns, f.ExpectsResponseByDefault))
            .Concat(deviceType.Callbacks.OrderBy(c => c.Id).Select(c => new BrickFunctionInfo(deviceType, "Callback", c.Name, c.Id, Array.Empty<BrickValueSpec>(), c.Values, null)));

    public override string ToString() => $"{Kind} {Name} [fid {Id}]";
}
