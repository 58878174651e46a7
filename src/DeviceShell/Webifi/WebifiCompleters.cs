using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Commands;

/// <summary>Completes -Network / -ToNetwork with the networks of the open Webifi sessions.</summary>
public sealed class WebifiNetworkCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string prefix = (wordToComplete ?? "").Trim('\'', '"');
        return SessionRegistry.Shared.List(DeviceWorld.Webifi).OfType<WebifiSession>()
            .SelectMany(s => s.Networks)
            .Distinct(StringComparer.Ordinal)
            .Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .Select(n => new CompletionResult(n.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '`') ? "'" + n.Replace("'", "''", StringComparison.Ordinal) + "'" : n,
                n, CompletionResultType.ParameterValue, n));
    }
}

/// <summary>Completes a recipient's session id with the devices the open Webifi sessions found in their last Find-WebifiDevice.</summary>
public sealed class WebifiDeviceCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string typed = (wordToComplete ?? "").Trim('\'', '"');
        return SessionRegistry.Shared.List(DeviceWorld.Webifi).OfType<WebifiSession>()
            .SelectMany(s => s.KnownDevices)
            .GroupBy(d => d.SessionId)
            .Select(g => (Id: g.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), g.First().Name))
            .Where(d => d.Id.StartsWith(typed, StringComparison.Ordinal))
            .Select(d => new CompletionResult(d.Id, $"{d.Id} {d.Name}", CompletionResultType.ParameterValue, d.Name));
    }
}
