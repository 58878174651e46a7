using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Commands;

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
