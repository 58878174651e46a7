using System.Management.Automation;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>Lists the open sessions of every world, oldest first; the last of a world is its default.</summary>
[Cmdlet(VerbsCommon.Get, "DeviceSession", DefaultParameterSetName = "All", HelpUri = HelpLinks.CmdletPages + "Get-DeviceSession.md")]
[OutputType(typeof(DeviceSession))]
public sealed class GetDeviceSessionCommand : DeviceCmdlet
{
    /// <summary>Only sessions of these worlds (an array, so no engine value type is held in a field; see DeviceCmdlet).</summary>
    [Parameter(ParameterSetName = "All", Position = 0)]
    public DeviceWorld[]? World { get; set; }

    [Parameter(ParameterSetName = "Id", Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, int.MaxValue)]
    [ArgumentCompleter(typeof(SessionCompleter))]
    public int[]? Id { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Id")
        {
            foreach (int id in Id!)
            {
                var session = SessionRegistry.Shared.Find(id);
                if (session is null)
                    WriteFailure(NoSessionWithId(id));
                else
                    WriteSession(session);
            }
            return;
        }
        foreach (var session in SessionRegistry.Shared.List())
        {
            if (World is null || World.Contains(session.World)) WriteSession(session);
        }
    }

    private void WriteSession(DeviceSession session)
    {
        WarnIfLabExited(session);
        WriteObject(WithSharedTypeName(session));
    }

    internal static DeviceException NoSessionWithId(int id) =>
        new(DeviceErrorKind.NotFound, "SessionNotFound", $"There is no open session with Id {id}.", id);

    /// <summary>The type name that selects the one DeviceSession table for sessions of every world (DeviceShell.format.ps1xml).</summary>
    internal const string SharedTypeName = "DeviceShell.DeviceSession";

    /// <summary>
    /// The session with <see cref="SharedTypeName"/> first among its type names, so that a mix of worlds formats as one
    /// table (each world's own view would otherwise end the table at the first session of another world).
    /// </summary>
    internal static PSObject WithSharedTypeName(DeviceSession session)
    {
        var row = PSObject.AsPSObject(session);
        if (!row.TypeNames.Contains(SharedTypeName)) row.TypeNames.Insert(0, SharedTypeName);
        return row;
    }
}
