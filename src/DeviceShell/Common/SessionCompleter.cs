using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Completes -Session (and Get-DeviceSession -Id) with the Ids of open sessions, only those of the command's own world
/// (Disconnect-Gateway offers Gateway sessions only); <see cref="SessionTransformationAttribute"/> turns the Id back into the session.
/// </summary>
public sealed class SessionCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var world = WorldOf(commandName);
        string typed = (wordToComplete ?? "").Trim('\'', '"');
        return SessionRegistry.Shared.List(world)
            .Where(s => FitsPiLinkRole(commandName, s))
            .Select(s => (Session: s, Id: s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .Where(s => s.Id.StartsWith(typed, StringComparison.Ordinal))
            .Select(s => new CompletionResult(s.Id, $"{s.Id} {s.Session.World} {s.Session.Endpoint}", CompletionResultType.ParameterValue, s.Session.ToString()));
    }

    /// <summary>
    /// Which world a command works on, told by its noun (every world's nouns carry its name); null for the
    /// cross-world DeviceSession cmdlets. A switch rather than a table: an exported type holds no engine value type in a field.
    /// </summary>
    internal static DeviceWorld? WorldOf(string commandName)
    {
        string noun = commandName[(commandName.IndexOf('-', StringComparison.Ordinal) + 1)..];
        bool Names(string part) => noun.Contains(part, StringComparison.OrdinalIgnoreCase);
        if (Names("Brick")) return DeviceWorld.Brick;
        if (Names("Gateway") || Names("AcceptFilter")) return DeviceWorld.Gateway;
        if (Names("Webifi")) return DeviceWorld.Webifi;
        if (Names("PiLink") || Names("PiButton")) return DeviceWorld.PiLink;
        return null;
    }

    /// <summary>Pi link servers and clients share a world, but the server cmdlets take only servers and Disconnect-PiLink only clients.</summary>
    private static bool FitsPiLinkRole(string commandName, DeviceSession session)
    {
        if (commandName.EndsWith("-PiLinkServer", StringComparison.OrdinalIgnoreCase) || commandName.EndsWith("-PiLinkClient", StringComparison.OrdinalIgnoreCase))
            return session is PiLinkServer;
        if (commandName.EndsWith("-PiLink", StringComparison.OrdinalIgnoreCase))
            return session is PiLinkSession;
        return true;
    }
}

/// <summary>
/// Lets -Session take a session Id (as typed or completed) as well as a session object, and a session that came back from
/// a remote runspace or a job (a Deserialized.DeviceShell... property bag): it stands for the live session with its Id in
/// this runspace, as long as that is a session of the same type. An Id with no open session becomes an
/// <see cref="UnknownSession"/>, for the command to stop with SessionNotFound.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SessionTransformationAttribute : ArgumentTransformationAttribute
{
    private const string DeserializedPrefix = "Deserialized.";
    private const string EngineTypePrefix = DeserializedPrefix + "DeviceShell.Engine.";

    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        if (inputData is PSObject { BaseObject: PSCustomObject } bag && DeserializedSessionType(bag) is { } typeName)
            return FromDeserialized(bag, typeName);
        object? value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        int? id = value switch
        {
            int number => number,
            long number when number is > 0 and <= int.MaxValue => (int)number,
            string text when int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int parsed) => parsed,
            _ => null,
        };
        if (id is null) return inputData;
        return SessionRegistry.Shared.Find(id.Value)
            ?? new UnknownSession(id.Value, $"There is no open session with Id {id}. Get-DeviceSession lists them.");
    }

    /// <summary>
    /// The session type a deserialized object was (e.g. DeviceShell.Engine.Bricks.BrickSession); null for anything else.
    /// The first engine type among its names: Get-DeviceSession puts DeviceShell.DeviceSession before it.
    /// </summary>
    private static string? DeserializedSessionType(PSObject bag) =>
        bag.TypeNames.Contains(DeserializedPrefix + typeof(DeviceSession).FullName)
            ? bag.TypeNames.First(name => name.StartsWith(EngineTypePrefix, StringComparison.Ordinal))[DeserializedPrefix.Length..]
            : null;

    private static DeviceSession FromDeserialized(PSObject bag, string typeName)
    {
        if (bag.Properties["Id"]?.Value is not int id)
            throw new ArgumentTransformationMetadataException($"The deserialized {typeName} has no Id to find the live session by.");
        var session = SessionRegistry.Shared.Find(id);
        if (session is null)
            return new UnknownSession(id, $"There is no open session with Id {id} in this runspace (the object came from another one). Get-DeviceSession lists them.");
        return session.GetType().FullName == typeName ? session
            : throw new ArgumentTransformationMetadataException($"Session {id} in this runspace is a {session.GetType().Name}, not the {typeName[(typeName.LastIndexOf('.') + 1)..]} that was passed.");
    }
}
