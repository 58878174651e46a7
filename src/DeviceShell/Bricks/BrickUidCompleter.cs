using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>Completes -Uid with the devices the open Brick sessions saw in their last enumeration (and since).</summary>
public sealed class BrickUidCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string typed = wordToComplete.Trim('\'', '"');
        var pattern = new WildcardPattern(typed + "*", WildcardOptions.None);
        return SessionRegistry.Shared.List(DeviceWorld.Brick).OfType<BrickSession>()
            .SelectMany(s => s.KnownDevices)
            .GroupBy(d => d.Uid, StringComparer.Ordinal)
            .Select(g => g.First())
            .Where(d => pattern.IsMatch(d.Uid))
            .OrderBy(d => d.Uid, StringComparer.Ordinal)
            .Select(d => new CompletionResult(Quote(d.Uid), d.Uid, CompletionResultType.ParameterValue, $"{d.DeviceName} at {d.ConnectedUid}/{d.Position}"));
    }

    private static string Quote(string uid) => uid.All(char.IsLetterOrDigit) && !char.IsDigit(uid[0]) ? uid : $"'{uid}'";
}
