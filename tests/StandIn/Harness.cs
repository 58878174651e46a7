using System.Collections;
using System.Management.Automation;
using System.Reflection;

namespace DeviceShell.Testing;

/// <summary>Everything one command run wrote, stream by stream.</summary>
public sealed class CmdletRecorder : ICommandRuntime
{
    private readonly int _threadId = Environment.CurrentManagedThreadId;

    internal CmdletRecorder(string parameterSetName, bool whatIf, bool confirmAnswer, string currentLocation)
    {
        ParameterSetName = parameterSetName;
        WhatIf = whatIf;
        ConfirmAnswer = confirmAnswer;
        CurrentLocation = currentLocation;
    }

    public List<object> Objects { get; } = new();
    public List<ErrorRecord> Errors { get; } = new();
    public List<string> Verbose { get; } = new();
    public List<string> Warnings { get; } = new();
    public List<string> Debug { get; } = new();
    public List<object> Information { get; } = new();
    public List<ProgressRecord> Progress { get; } = new();
    /// <summary>Targets and actions the command asked ShouldProcess about.</summary>
    public List<(string Target, string Action)> ShouldProcessCalls { get; } = new();
    public PSEventManager Events { get; } = new();
    /// <summary>The error that ended the command (ThrowTerminatingError), if any.</summary>
    public ErrorRecord? TerminatingError { get; internal set; }
    public bool Stopped { get; internal set; }
    public string ParameterSetName { get; }
    public bool WhatIf { get; }
    public bool ConfirmAnswer { get; }
    public string CurrentLocation { get; }

    public IEnumerable<T> OfType<T>() => Objects.OfType<T>();

    internal void CheckThread()
    {
        // PowerShell throws this when a cmdlet writes from a background thread; so do we.
        if (Environment.CurrentManagedThreadId != _threadId)
            throw new PSInvalidOperationException("The WriteObject and WriteError methods cannot be called from outside the overrides of the BeginProcessing, ProcessRecord, and EndProcessing methods, and they can only be called from within the same thread.");
    }

    internal void Add<T>(List<T> stream, T item)
    {
        CheckThread();
        stream.Add(item);
    }

    internal void Output(object item, bool enumerate)
    {
        CheckThread();
        if (enumerate && item is IEnumerable items and not string)
            foreach (object? each in items) Objects.Add(each!);
        else
            Objects.Add(item);
    }

    internal bool ShouldProcess(string target, string action)
    {
        CheckThread();
        ShouldProcessCalls.Add((target, action));
        return !WhatIf && ConfirmAnswer;
    }
}

/// <summary>
/// Runs a cmdlet the way the PowerShell engine would: binds named parameters (with validation and
/// argument transformation), feeds pipeline input by value or by property name, and calls
/// Begin/Process/End on the calling thread. Terminating errors are captured, not thrown.
/// </summary>
public static class CmdletHarness
{
    public static CmdletRecorder Invoke(Cmdlet cmdlet, IDictionary<string, object?>? parameters = null, IEnumerable? input = null,
        bool whatIf = false, bool confirm = true, string? parameterSetName = null, CancellationToken stop = default)
    {
        parameters ??= new Dictionary<string, object?>();
        Bind(cmdlet, parameters);
        var recorder = new CmdletRecorder(parameterSetName ?? ChooseParameterSet(cmdlet.GetType(), parameters.Keys), whatIf, confirm, Environment.CurrentDirectory);
        cmdlet.CommandRuntime = recorder;
        using var stopping = stop.Register(() =>
        {
            recorder.Stopped = true;
            cmdlet.RunStop();
        });
        try
        {
            cmdlet.RunBegin();
            if (input is null)
            {
                cmdlet.RunProcess();
            }
            else
            {
                foreach (object? item in input)
                {
                    BindPipelineInput(cmdlet, item!);
                    cmdlet.RunProcess();
                }
            }
            cmdlet.RunEnd();
        }
        catch (TerminatingErrorException ex)
        {
            recorder.TerminatingError = ex.ErrorRecord;
        }
        catch (PipelineStoppedException)
        {
            recorder.Stopped = true;
        }
        finally
        {
            (cmdlet as IDisposable)?.Dispose();
        }
        return recorder;
    }

    /// <summary>Shorthand: parameters as name/value pairs.</summary>
    public static CmdletRecorder Invoke(Cmdlet cmdlet, params (string Name, object? Value)[] parameters) =>
        Invoke(cmdlet, parameters.ToDictionary(p => p.Name, p => p.Value, StringComparer.OrdinalIgnoreCase));

    public static IEnumerable<PropertyInfo> Parameters(Type cmdletType) =>
        cmdletType.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetCustomAttributes<ParameterAttribute>().Any());

    private static void Bind(Cmdlet cmdlet, IDictionary<string, object?> parameters)
    {
        var all = Parameters(cmdlet.GetType()).ToList();
        foreach (var (name, value) in parameters)
        {
            var property = all.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)
                                                   || p.GetCustomAttribute<AliasAttribute>()?.AliasNames.Contains(name, StringComparer.OrdinalIgnoreCase) == true)
                ?? throw new ParameterBindingException($"A parameter cannot be found that matches parameter name '{name}'.");
            SetParameter(cmdlet, property, value);
        }
    }

    private static void SetParameter(Cmdlet cmdlet, PropertyInfo property, object? value)
    {
        try
        {
            foreach (var transformation in property.GetCustomAttributes<ArgumentTransformationAttribute>())
                value = transformation.Transform(null!, value);
            object? converted = Convert(value, property.PropertyType);
            foreach (var validation in property.GetCustomAttributes<ValidateArgumentsAttribute>())
                validation.Check(converted);
            property.SetValue(cmdlet, converted);
        }
        catch (Exception ex) when (ex is MetadataException or InvalidCastException or FormatException or OverflowException)
        {
            throw new ParameterBindingException($"Cannot validate argument on parameter '{property.Name}'. {ex.Message}", ex);
        }
    }

    private static object? Convert(object? value, Type target)
    {
        if (value is PSObject wrapped) value = wrapped.BaseObject;
        if (value is null || target.IsInstanceOfType(value)) return value;
        var underlying = Nullable.GetUnderlyingType(target) ?? target;
        if (underlying == typeof(SwitchParameter)) return new SwitchParameter(System.Convert.ToBoolean(value, System.Globalization.CultureInfo.InvariantCulture));
        if (underlying.IsArray)
        {
            var element = underlying.GetElementType()!;
            var items = value is IEnumerable many and not string ? many.Cast<object?>().ToArray() : new[] { value };
            var array = Array.CreateInstance(element, items.Length);
            for (int i = 0; i < items.Length; i++) array.SetValue(Convert(items[i], element), i);
            return array;
        }
        if (underlying.IsEnum) return value is string name ? Enum.Parse(underlying, name, ignoreCase: true) : Enum.ToObject(underlying, value);
        return System.Convert.ChangeType(value, underlying, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Pipeline binding: by value to a parameter whose type takes the object, else by property name.</summary>
    private static void BindPipelineInput(Cmdlet cmdlet, object item)
    {
        object value = item is PSObject wrapped ? wrapped.BaseObject : item;
        var parameters = Parameters(cmdlet.GetType()).ToList();
        var byValue = parameters.FirstOrDefault(p => p.GetCustomAttributes<ParameterAttribute>().Any(a => a.ValueFromPipeline) && Accepts(p.PropertyType, value));
        if (byValue is not null)
        {
            SetParameter(cmdlet, byValue, value);
            return;
        }
        bool bound = false;
        foreach (var parameter in parameters.Where(p => p.GetCustomAttributes<ParameterAttribute>().Any(a => a.ValueFromPipelineByPropertyName)))
        {
            var names = new[] { parameter.Name }.Concat(parameter.GetCustomAttribute<AliasAttribute>()?.AliasNames ?? Array.Empty<string>());
            var source = names.Select(n => value.GetType().GetProperty(n, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)).FirstOrDefault(p => p is not null);
            if (source is null) continue;
            SetParameter(cmdlet, parameter, source.GetValue(value));
            bound = true;
        }
        if (!bound) throw new ParameterBindingException($"The input object {value} cannot be bound to any parameter of {cmdlet.GetType().Name}.");
    }

    private static bool Accepts(Type parameterType, object value)
    {
        var type = Nullable.GetUnderlyingType(parameterType) ?? parameterType;
        if (type.IsInstanceOfType(value)) return true;
        return type.IsArray && type.GetElementType()!.IsInstanceOfType(value);
    }

    /// <summary>The parameter set the bound parameters select; the cmdlet's default set when several fit.</summary>
    private static string ChooseParameterSet(Type cmdletType, IEnumerable<string> boundNames)
    {
        var attribute = cmdletType.GetCustomAttribute<CmdletAttribute>();
        var sets = Parameters(cmdletType).SelectMany(p => p.GetCustomAttributes<ParameterAttribute>().Select(a => a.ParameterSetName))
            .Where(s => s != ParameterAttribute.AllParameterSets).Distinct().ToList();
        if (sets.Count == 0) return attribute?.DefaultParameterSetName ?? ParameterAttribute.AllParameterSets;
        var candidates = sets.ToList();
        foreach (string name in boundNames)
        {
            var property = Parameters(cmdletType).FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)
                || p.GetCustomAttribute<AliasAttribute>()?.AliasNames.Contains(name, StringComparer.OrdinalIgnoreCase) == true);
            if (property is null) continue;
            var own = property.GetCustomAttributes<ParameterAttribute>().Select(a => a.ParameterSetName).ToList();
            if (own.Contains(ParameterAttribute.AllParameterSets)) continue;
            candidates = candidates.Intersect(own).ToList();
        }
        if (candidates.Count == 0) throw new ParameterBindingException("Parameter set cannot be resolved using the specified named parameters.");
        string? preferred = attribute?.DefaultParameterSetName;
        return preferred is not null && candidates.Contains(preferred) ? preferred : candidates[0];
    }
}
