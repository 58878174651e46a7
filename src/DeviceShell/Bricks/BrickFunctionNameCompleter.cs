using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>
/// Completes -Name with the functions of the device type of -Uid (learned through the session's cache) or of
/// -DeviceType; for Get-BrickFunction, which lists callbacks too, also with the callbacks.
/// </summary>
public sealed class BrickFunctionNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var type = fakeBoundParameters["DeviceType"] is { } named ? BrickDeviceCatalog.Find(named.ToString() ?? "") : BrickDeviceTypeLookup.TryResolve(fakeBoundParameters);
        if (type is null) return Array.Empty<CompletionResult>();
        var pattern = new WildcardPattern(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        var functions = type.Functions.Select(f => (f.Name, Tip: f.ToString()));
        if (string.Equals(commandName, "Get-BrickFunction", StringComparison.OrdinalIgnoreCase))
            functions = functions.Concat(type.Callbacks.Select(c => (c.Name, Tip: "Callback " + c)));
        return functions.Where(f => pattern.IsMatch(f.Name)).DistinctBy(f => f.Name, StringComparer.OrdinalIgnoreCase).OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => new CompletionResult(f.Name, f.Name, CompletionResultType.ParameterValue, f.Tip));
    }
}
