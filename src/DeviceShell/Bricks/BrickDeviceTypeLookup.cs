using System.Collections;
using System.Management.Automation;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// The device type behind a -Uid while PowerShell is still binding or completing (dynamic parameters of
/// Invoke-BrickFunction, completion of -Name): learned through the session's cache, asking the device once at most.
/// </summary>
internal static class BrickDeviceTypeLookup
{
    /// <summary>How long binding or completion may wait for one identity answer.</summary>
    private static readonly TimeSpan IdentityWait = TimeSpan.FromSeconds(2);

    /// <summary>The session a command line names (a session, its Id, or nothing for the newest Brick session).</summary>
    public static BrickSession? SessionOf(object? sessionArgument)
    {
        object? value = sessionArgument is PSObject wrapped ? wrapped.BaseObject : sessionArgument;
        return value switch
        {
            BrickSession session => session,
            int id => SessionRegistry.Shared.Find(id) as BrickSession,
            null => SessionRegistry.Shared.List(DeviceWorld.Brick).OfType<BrickSession>().LastOrDefault(),
            _ => null,
        };
    }

    /// <summary>The device type of a UID; throws a DeviceException saying why it cannot be known (no session, bad UID, no answer).</summary>
    public static BrickDeviceType Resolve(BrickSession? session, string uidText)
    {
        if (session is null || session.State == DeviceSessionState.Closed)
            throw new DeviceException(DeviceErrorKind.NotFound, "SessionNotFound",
                $"The parameters of a function called by name come from the device type of UID {uidText}, which needs an open Brick session. Run Connect-Brick first, or call the function with -FunctionId and -Payload.", uidText);
        return session.FindDeviceTypeAsync(BrickUid.Parse(uidText), IdentityWait).GetAwaiter().GetResult();
    }

    /// <summary>For completers: the device type of the first -Uid on the command line, or null when it cannot be known.</summary>
    public static BrickDeviceType? TryResolve(IDictionary fakeBoundParameters)
    {
        string? uidText = fakeBoundParameters["Uid"] switch
        {
            string text => text,
            IEnumerable many => many.Cast<object?>().Select(o => o?.ToString()).FirstOrDefault(),
            _ => null,
        };
        if (uidText is null || !BrickUid.TryParse(uidText, out _)) return null;
        try
        {
            return Resolve(SessionOf(fakeBoundParameters["Session"]), uidText);
        }
        catch (DeviceException)
        {
            return null;
        }
    }
}
