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
    public int[]? Id { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Id")
        {
            foreach (int id in Id!)
            {
                var session = SessionRegistry.Shared.Find(id);
                if (session is null)
                    WriteFailure(new DeviceException(DeviceErrorKind.NotFound, "SessionNotFound", $"There is no open session with Id {id}.", id));
                else
                    WriteObject(session);
            }
            return;
        }
        foreach (var session in SessionRegistry.Shared.List())
        {
            if (World is null || World.Contains(session.World)) WriteObject(session);
        }
    }
}
