using System.Management.Automation;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Sessions.Recording;

namespace DeviceShell.Commands;

/// <summary>
/// Ends a session's recording and completes its file; returns the recording with its final record count. Without
/// -Session the newest session that is recording.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "DeviceRecording", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Stop-DeviceRecording.md")]
[OutputType(typeof(DeviceRecorder))]
public sealed class StopDeviceRecordingCommand : SessionCmdlet
{
    protected override void ProcessRecord()
    {
        ThrowIfUnknownSession();
        var session = Session ?? SessionRegistry.Shared.List().LastOrDefault(s => s.Recording is not null);
        if (session is null)
        {
            ThrowFailure(new DeviceException(DeviceErrorKind.NotFound, "DeviceRecordingNotStarted",
                "No open session is recording. Start one with Start-DeviceRecording."));
            return;
        }
        if (!ShouldProcess(session.Recording?.Path ?? session.ToString(), "Stop recording")) return;
        try
        {
            var recorder = Await(_ => session.StopRecordingAsync());
            WriteVerbose($"{recorder.Path}: {recorder.Records} records.");
            WriteObject(recorder);
        }
        catch (DeviceException ex)
        {
            WriteFailure(ex, session);
        }
    }
}
