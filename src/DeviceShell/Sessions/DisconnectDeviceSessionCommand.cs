using System.Management.Automation;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Closes sessions of any world (and Pi link servers, which are sessions too): the ones piped or given by -Id, or with
/// -All every open one. Each leaves the registry; an Id with no open session is a non-terminating SessionNotFound.
/// </summary>
[Cmdlet(VerbsCommunications.Disconnect, "DeviceSession", SupportsShouldProcess = true, DefaultParameterSetName = "InputObject",
    HelpUri = HelpLinks.CmdletPages + "Disconnect-DeviceSession.md")]
[OutputType(typeof(DeviceSession))]
public sealed class DisconnectDeviceSessionCommand : DeviceCmdlet
{
    /// <summary>Sessions of any world; not named Session, which is one session of the command's world everywhere else.</summary>
    [Parameter(ParameterSetName = "InputObject", Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public DeviceSession[] InputObject { get; set; } = Array.Empty<DeviceSession>();

    [Parameter(ParameterSetName = "Id", Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, int.MaxValue)]
    [ArgumentCompleter(typeof(SessionCompleter))]
    public int[] Id { get; set; } = Array.Empty<int>();

    [Parameter(ParameterSetName = "All", Mandatory = true)]
    public SwitchParameter All { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case "All":
                foreach (var session in SessionRegistry.Shared.List()) CloseSession(session, PassThru);
                break;
            case "Id":
                foreach (int id in Id)
                {
                    if (SessionRegistry.Shared.Find(id) is { } session) CloseSession(session, PassThru);
                    else WriteFailure(GetDeviceSessionCommand.NoSessionWithId(id));
                }
                break;
            default:
                foreach (var session in InputObject) CloseSession(session, PassThru);
                break;
        }
    }
}
