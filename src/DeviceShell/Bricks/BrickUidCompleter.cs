using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Completes -Uid with the devices the open Brick sessions know from enumerations (and since). A connected session
/// that has seen none yet (right after Connect-Brick) enumerates once, briefly, so completion works from the start.
/// </summary>
public sealed class BrickUidCompleter : IArgumentCompleter
{
    /// <summary>Long enough for a local daemon's answers, short enough for a Tab press.</summary>
    private static readonly TimeSpan EnumerateWait = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan EnumerateQuiet = TimeSpan.FromMilliseconds(150);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string typed = wordToComplete.Trim('\'', '"');
        var pattern = new WildcardPattern(typed + "*", WildcardOptions.None);
        return SessionRegistry.Shared.List(DeviceWorld.Brick).OfType<BrickSession>()
            .SelectMany(KnownOrEnumerated)
            .GroupBy(d => d.Uid, StringComparer.Ordinal)
            .Select(g => g.First())
            .Where(d => pattern.IsMatch(d.Uid))
            .OrderBy(d => d.Uid, StringComparer.Ordinal)
            .Select(d => new CompletionResult(Quote(d.Uid), d.Uid, CompletionResultType.ParameterValue, $"{d.DeviceName} at {d.ConnectedUid}/{d.Position}"));
    }

    private static IReadOnlyList<BrickDevice> KnownOrEnumerated(BrickSession session)
    {
        var known = session.KnownDevices;
        if (known.Count > 0 || session.State != DeviceSessionState.Connected) return known;
        try
        {
            return session.EnumerateAsync(EnumerateWait, EnumerateQuiet).GetAwaiter().GetResult();
        }
        catch (DeviceException)
        {
            return known;
        }
    }

    private static string Quote(string uid) => uid.All(char.IsLetterOrDigit) && !char.IsDigit(uid[0]) ? uid : $"'{uid}'";
}
