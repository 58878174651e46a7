using System.Management.Automation;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Sessions.Recording;

namespace DeviceShell.Commands;

/// <summary>
/// Starts recording what a session exchanges with its peer to a .devrec file (docs/recording-format.md), for
/// Start-DeviceLab -Replay. Without -Session the newest session of any world is recorded. Secrets are never written.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "DeviceRecording", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Start-DeviceRecording.md")]
[OutputType(typeof(DeviceRecorder))]
public sealed class StartDeviceRecordingCommand : SessionCmdlet
{
    /// <summary>The file to write; relative to the current location.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Overwrite the file if it exists.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void EndProcessing()
    {
        var session = ResolveSession<DeviceSession>("device", "a Connect-* command");
        string path = GetUnresolvedProviderPathFromPSPath(Path);
        if (!ShouldProcess(path, $"Record {session}")) return;
        try
        {
            var recorder = session.StartRecording(path, Force);
            WriteVerbose($"Recording {session} to {recorder.Path}.");
            WriteObject(recorder);
        }
        catch (DeviceException ex)
        {
            ThrowFailure(ex, path);
        }
    }
}
