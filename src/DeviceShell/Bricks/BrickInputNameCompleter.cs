using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace DeviceShell.Commands;

/// <summary>Completes Set-LabBrickInput -Name with what the device of -Uid reports: its getters' returns and its callbacks' values.</summary>
public sealed class BrickInputNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var type = BrickDeviceTypeLookup.TryResolve(fakeBoundParameters);
        if (type is null) return Array.Empty<CompletionResult>();
        var pattern = new WildcardPattern(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return type.Functions.Where(f => f.Name.StartsWith("Get", StringComparison.Ordinal)).SelectMany(f => f.Returns)
            .Concat(type.Callbacks.SelectMany(c => c.Values))
            .Where(v => pattern.IsMatch(v.Name)).DistinctBy(v => v.Name, StringComparer.OrdinalIgnoreCase).OrderBy(v => v.Name, StringComparer.Ordinal)
            .Select(v => new CompletionResult(v.Name, v.Name, CompletionResultType.ParameterValue, v.ToString()));
    }
}
