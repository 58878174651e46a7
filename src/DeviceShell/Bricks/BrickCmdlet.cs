using System.Management.Automation;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>What the Brick cmdlets that work on a session share: the session lookup, UID parsing and enumerate with progress.</summary>
public abstract class BrickCmdlet : SessionCmdlet
{
    protected BrickSession ResolveBrickSession() => ResolveSession<BrickSession>("Brick", "Connect-Brick");

    /// <summary>Parses a base58 UID; a bad one is a non-terminating InvalidUid error for that item (returns null).</summary>
    protected uint? ParseUid(string uid)
    {
        try
        {
            return BrickUid.Parse(uid);
        }
        catch (Engine.Sessions.DeviceException ex)
        {
            WriteFailure(ex, uid);
            return null;
        }
    }

    protected IReadOnlyList<BrickDevice> Enumerate(BrickSession session, double waitSec)
    {
        WriteVerbose($"Enumerate (uid 0, fid 254) on {session}; collecting answers for up to {waitSec} s.");
        var progress = new ProgressRecord(2, "Enumerating Brick devices", "Collecting enumerate answers") { SecondsRemaining = (int)Math.Ceiling(waitSec) };
        WriteProgress(progress);
        try
        {
            var devices = Await(token => session.EnumerateAsync(TimeSpan.FromSeconds(waitSec), null, token));
            WriteVerbose($"{devices.Count} device(s) answered.");
            return devices;
        }
        catch (Exception ex) when (ErrorRecords.IsExpected(ex))
        {
            ThrowFailure(ex, session);
            return Array.Empty<BrickDevice>();
        }
        finally
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }
    }
}
