using System.Collections.ObjectModel;
using System.Management.Automation;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>
/// Calls any device function. By name (-Name), the catalogue packs the function's parameters, which become dynamic
/// parameters of this command, and unpacks its returns into properties of the output; the device type of -Uid is
/// learned once per session. Values with a unit are given and returned in it (°C, not °C/100), checked against the
/// configuration's range; -Raw takes and returns the integers the bindings use. A parameter with a default may be
/// left out. Raw (-FunctionId, -Payload) sends bytes as given: with -ResponseExpected it waits for the
/// response and writes it, without it nothing is written, as the bindings do for plain setters. Header error codes become
/// errors (InvalidParameter, FunctionNotSupported, UnknownErrorCode). Several UIDs get the same request one after another
/// (e.g. one setter for every LED); each failure is its own error record.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "BrickFunction", SupportsShouldProcess = true, DefaultParameterSetName = RawSet, HelpUri = HelpLinks.CmdletPages + "Invoke-BrickFunction.md")]
[OutputType(typeof(BrickFunctionResult), ParameterSetName = new[] { NameSet })]
[OutputType(typeof(BrickResponse), ParameterSetName = new[] { RawSet })]
public sealed class InvokeBrickFunctionCommand : BrickDeviceCmdlet, IDynamicParameters
{
    private const string RawSet = "FunctionId";
    private const string NameSet = "Name";
    /// <summary>Takes the function arguments of a call whose function could not be known, so the real reason is what the user sees.</summary>
    private const string UnknownArguments = "UnknownFunctionArguments";

    /// <summary>The function's parameters as bound: PowerShell parameter name, then the catalogue's value name.</summary>
    private readonly Dictionary<string, string> _valueNameOfParameter = new(StringComparer.OrdinalIgnoreCase);
    private readonly RuntimeDefinedParameterDictionary _functionParameters = new();
    private BrickDeviceType? _deviceType;
    private BrickFunction? _function;
    /// <summary>Why the function's parameters could not be known while binding; reported when the command begins.</summary>
    private Engine.Sessions.DeviceException? _bindingFailure;

    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 1)]
    [ArgumentCompleter(typeof(BrickFunctionNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter(ParameterSetName = RawSet, Mandatory = true, Position = 1)]
    [ValidateRange((byte)1, (byte)255)]
    public byte FunctionId { get; set; }

    /// <summary>The request payload (at most 64 bytes, little endian as the device expects it).</summary>
    [Parameter(ParameterSetName = RawSet, Position = 2)]
    [ValidateCount(0, 64)]
    public byte[] Payload { get; set; } = Array.Empty<byte>();

    /// <summary>Raw: wait for the response. By name: also wait for the answer of a setter that does not answer by default.</summary>
    [Parameter]
    public SwitchParameter ResponseExpected { get; set; }

    /// <summary>By name: parameters and returns are the integers on the wire, as the official bindings have them, not scaled to their units.</summary>
    [Parameter(ParameterSetName = NameSet)]
    public SwitchParameter Raw { get; set; }

    /// <summary>
    /// By name: the device type the call is made for, bound from a piped device (Get-BrickEnumeration, Get-BrickIdentity)
    /// like the bindings' device object: when another type has taken the UID since, the call fails with BrickDeviceReplaced.
    /// </summary>
    [Parameter(ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 65535)]
    public int DeviceIdentifier { get; set; }

    /// <summary>How long to wait for the response; default: the session's timeout (which is also what calls by name wait).</summary>
    [Parameter(ParameterSetName = RawSet)]
    [ValidateRange(0.001, 3600)]
    public double? TimeoutSec { get; set; }

    /// <summary>
    /// With -Name: the function's parameters, named as the catalogue names them (PascalCase). A name this command already
    /// uses (Uid) gets the suffix Value. Constants take their names (or raw values) from a ValidateSet. A scaled value is
    /// a double (a raw integer with -Raw); one with a default is optional.
    /// </summary>
    public object? GetDynamicParameters()
    {
        if (string.IsNullOrEmpty(Name) || Uid.Length == 0) return null;
        if (_function is not null || _bindingFailure is not null) return _functionParameters;
        try
        {
            _deviceType = BrickDeviceTypeLookup.Resolve(Session as BrickSession ?? BrickDeviceTypeLookup.SessionOf(null), Uid[0]);
            _function = _deviceType.Function(Name) ?? throw new Engine.Sessions.DeviceException(Engine.Sessions.DeviceErrorKind.NotFound, "BrickUnknownFunction",
                $"A {_deviceType.Name} has no function '{Name}'. Get-BrickFunction -Uid {Uid[0]} lists its functions.", Name);
        }
        catch (Engine.Sessions.DeviceException e)
        {
            // Thrown from here, PowerShell would wrap it as a generic GetDynamicParametersException; the command
            // reports it with its own ErrorId when it begins, and takes whatever function arguments were given meanwhile.
            _bindingFailure = e;
            var attributes = new Collection<Attribute> { new ParameterAttribute { ParameterSetName = NameSet, ValueFromRemainingArguments = true } };
            _functionParameters.Add(UnknownArguments, new RuntimeDefinedParameter(UnknownArguments, typeof(object[]), attributes));
            return _functionParameters;
        }
        var taken = typeof(InvokeBrickFunctionCommand).GetProperties().Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var spec in _function.Parameters)
        {
            string parameterName = taken.Contains(spec.Name) ? spec.Name + "Value" : spec.Name;
            var attributes = new Collection<Attribute> { new ParameterAttribute { ParameterSetName = NameSet, Mandatory = spec.Default is null } };
            Type type = spec.Scale is null ? spec.ClrType : spec.IsArray ? typeof(double[]) : typeof(double);
            if (spec.Constants is not null && !spec.IsArray)
            {
                type = typeof(string);
                var accepted = spec.Constants.Members.Select(m => m.Name)
                    .Concat(spec.Constants.Members.Select(m => Convert.ToString(m.Value, System.Globalization.CultureInfo.InvariantCulture)!));
                attributes.Add(new ValidateSetAttribute(accepted.Distinct(StringComparer.OrdinalIgnoreCase).ToArray()) { IgnoreCase = true });
            }
            if (spec.FormerName is { } former && !taken.Contains(former) && !_function.Parameters.Any(p => string.Equals(p.Name, former, StringComparison.OrdinalIgnoreCase)))
                attributes.Add(new AliasAttribute(former));
            _functionParameters.Add(parameterName, new RuntimeDefinedParameter(parameterName, type, attributes));
            _valueNameOfParameter[parameterName] = spec.Name;
        }
        return _functionParameters;
    }

    protected override void BeginProcessing()
    {
        if (_bindingFailure is not null) ThrowFailure(_bindingFailure, _bindingFailure.Target);
    }

    protected override void ProcessDevice(BrickSession session, string text, uint uid)
    {
        if (ParameterSetName == NameSet) InvokeByName(session, text, uid);
        else InvokeRaw(session, text, uid);
    }

    private void InvokeByName(BrickSession session, string text, uint uid) => TryRun(() =>
    {
        var type = Await(token => session.GetDeviceTypeAsync(uid, token));
        // A piped device of another type than the UID's now: its function, which the session refuses (BrickDeviceReplaced).
        if (DeviceIdentifier != 0 && DeviceIdentifier != type.Identifier) type = BrickDeviceCatalog.Find(DeviceIdentifier) ?? type;
        var function = FunctionOf(type, text);
        var given = _valueNameOfParameter.Where(p => _functionParameters[p.Key].IsSet)
            .ToDictionary(p => p.Value, p => (object?)_functionParameters[p.Key].Value, StringComparer.OrdinalIgnoreCase);
        Dictionary<string, object?> arguments;
        try
        {
            arguments = BrickUnits.RawArguments(function.Parameters, given, scaled: !Raw);
        }
        catch (ArgumentException e)
        {
            throw new Engine.Sessions.DeviceException(Engine.Sessions.DeviceErrorKind.InvalidArgument, "ArgumentOutOfRange", $"{function.Name}: {e.Message}", text);
        }
        bool changesState = !function.Name.StartsWith("Get", StringComparison.Ordinal) && !function.Name.StartsWith("Is", StringComparison.Ordinal);
        if (changesState && !ShouldProcess(text, $"Call {function.Name}({string.Join(", ", arguments.Select(a => $"{a.Key}={a.Value}"))}) on a {type.Name}")) return;
        WriteVerbose(function.LowLevel is { } lowLevel
            ? $"Requests to {text}: {function.Name}, a stream in chunks of {lowLevel.Name} (fid {function.Id}), {lowLevel.RequestPayloadLength} byte(s) each."
            : $"Request to {text}: {function.Name} (fid {function.Id}), {function.RequestPayloadLength} byte(s).");
        bool? wait = ResponseExpected.IsPresent ? true : null;
        var returns = Await(token => session.InvokeAsync(uid, function, arguments, wait, token));
        if (function.Returns.Count == 0) return;
        var result = new BrickFunctionResult(text, type, function, returns, Raw);
        var output = PSObject.AsPSObject(result);
        foreach (string key in result.Values.Keys) output.Properties.Add(new PSNoteProperty(key, result.Values[key]));
        // Returns renamed after the configurations keep the name scripts knew them by.
        foreach (var spec in function.Returns.Where(r => r.FormerName is not null && output.Properties[r.FormerName] is null))
            output.Properties.Add(new PSAliasProperty(spec.FormerName!, spec.Name));
        WriteObject(output);
    }, text);

    /// <summary>
    /// The function to call on a device of <paramref name="type"/>: the one whose parameters were bound, or, when -Uid
    /// came from the pipeline (after binding), the device's own function of that name, which must then take no parameters.
    /// </summary>
    private BrickFunction FunctionOf(BrickDeviceType type, string text)
    {
        if (ReferenceEquals(type, _deviceType)) return _function!;
        var function = type.Function(Name) ?? throw new Engine.Sessions.DeviceException(Engine.Sessions.DeviceErrorKind.NotFound, "BrickUnknownFunction",
            $"A {type.Name} has no function '{Name}'. Get-BrickFunction -Uid {text} lists its functions.", text);
        // A device of another type takes the same arguments when its function has the same parameters (GetIdentity,
        // SetStatusLEDConfig on every Bricklet): several UIDs of different types work as the pipeline form does.
        if (_deviceType is not null)
        {
            return SameParameters(function, _function!) ? function : throw new Engine.Sessions.DeviceException(Engine.Sessions.DeviceErrorKind.InvalidArgument, "WrongDeviceType",
                $"UID {text} is a {type.Name}, whose {Name} takes other parameters than that of {Uid[0]}, a {_deviceType.Name}, from which they were taken.", text);
        }
        return function.Parameters.Count == 0 ? function : throw new Engine.Sessions.DeviceException(Engine.Sessions.DeviceErrorKind.InvalidArgument, "FunctionParametersNeedUid",
            $"{function.Name} takes parameters ({string.Join(", ", function.Parameters.Select(p => p.Name))}), which are known only when -Uid is given on the command line, not through the pipeline.", text);
    }

    private static bool SameParameters(BrickFunction a, BrickFunction b) =>
        a.Parameters.Count == b.Parameters.Count && a.Parameters.Zip(b.Parameters).All(p =>
            string.Equals(p.First.Name, p.Second.Name, StringComparison.OrdinalIgnoreCase) && p.First.Type == p.Second.Type
            && p.First.Count == p.Second.Count && p.First.Scale == p.Second.Scale);

    private void InvokeRaw(BrickSession session, string text, uint uid)
    {
        if (!ShouldProcess(text, $"Call function {FunctionId} with {Payload.Length} payload byte(s)")) return;
        WriteVerbose($"Request to {text}: fid {FunctionId}, {Payload.Length} byte(s), response expected: {ResponseExpected.IsPresent}.");
        TimeSpan? timeout = TimeoutSec is double seconds ? TimeSpan.FromSeconds(seconds) : null;
        TryRun(() =>
        {
            if (!ResponseExpected)
            {
                Await(token => session.SendRequestAsync(uid, FunctionId, Payload, false, timeout, token));
                return;
            }
            byte[] answer = Await(token => session.CallAsync(uid, FunctionId, Payload, null, timeout, token));
            WriteVerbose($"Response from {text}: {answer.Length} byte(s).");
            WriteObject(new BrickResponse(text, FunctionId, 0, answer));
        }, text);
    }
}
