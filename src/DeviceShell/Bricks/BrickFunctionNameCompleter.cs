using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace DeviceShell.Commands;

/// <summary>Completes -Name with the functions of the device type of -Uid (learned through the session's cache).</summary>
public sealed class BrickFunctionNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var type = BrickDeviceTypeLookup.TryResolve(fakeBoundParameters);
        if (type is null) return Array.Empty<CompletionResult>();
        var pattern = new WildcardPattern(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return type.Functions.Where(f => pattern.IsMatch(f.Name)).OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => new CompletionResult(f.Name, f.Name, CompletionResultType.ParameterValue, f.ToString()));
    }
}
