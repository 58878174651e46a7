using System.Management.Automation;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Base of every DeviceShell cmdlet: a cancellation token tied to Ctrl+C, waiting on engine tasks on
/// the pipeline thread, and error records built from engine exceptions (docs/design/cmdlets.md §4).
/// Import rule (checked by the contract tests): exported types here never derive from engine types and
/// never hold engine value types in fields, because PowerShell loads every exported type before the
/// module initializer has set up the engine's load context.
/// </summary>
public abstract class DeviceCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Fires when the user presses Ctrl+C or the pipeline is stopped.</summary>
    protected CancellationToken StopToken => _stopping.Token;

    protected override void StopProcessing() => _stopping.Cancel();

    /// <summary>Runs an engine call to completion on the pipeline thread; Ctrl+C cancels it.</summary>
    protected T Await<T>(Func<CancellationToken, Task<T>> call)
    {
        try
        {
            return call(StopToken).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    protected void Await(Func<CancellationToken, Task> call) =>
        Await<bool>(async token => { await call(token).ConfigureAwait(false); return true; });

    /// <summary>
    /// Warns, once per session, that the lab serving it has exited without Stop-DeviceLab: the session only shows
    /// Reconnecting, and nothing else would tell the user that nobody will answer there again.
    /// </summary>
    protected void WarnIfLabExited(DeviceSession session)
    {
        if (DeviceLab.TakeExitNotice(session.Id, session.Endpoint) is { } lab)
        {
            // Only the worlds that reconnect (Bricks, Webifi) keep trying; a Pi link or gateway session just ends.
            string fate = session.State == DeviceSessionState.Reconnecting
                ? "the session keeps reconnecting to an address where nothing listens"
                : "nothing listens at the session's address any more";
            WriteWarning($"The lab that served {session} has exited (pid {lab.ProcessId}, exit code {lab.ExitCode}); " +
                $"{fate}. Stop-DeviceLab and Start-DeviceLab start a new lab.");
        }
    }

    /// <summary>Writes a non-terminating error for one failed item; the command goes on with the next.</summary>
    protected void WriteFailure(Exception exception, object? target = null) => WriteError(ErrorRecords.From(exception, target));

    /// <summary>Stops the command: nothing can go on after this failure.</summary>
    protected void ThrowFailure(Exception exception, object? target = null) => ThrowTerminatingError(ErrorRecords.From(exception, target));

    /// <summary>
    /// Runs one engine call for one input item: failures the engine expects become a non-terminating
    /// error record and the method returns false; programming errors still surface.
    /// </summary>
    protected bool TryRun(Action action, object? target)
    {
        try
        {
            action();
            return true;
        }
        catch (Exception ex) when (ErrorRecords.IsExpected(ex))
        {
            WriteFailure(ex, target);
            return false;
        }
    }

    /// <summary>Closes a session of any world after ShouldProcess; it leaves the registry. With <paramref name="passThru"/> it is written out.</summary>
    protected void CloseSession(DeviceSession session, bool passThru)
    {
        if (!ShouldProcess(session.ToString(), "Disconnect")) return;
        WriteVerbose($"Closing {session}.");
        Await(token => session.DisposeAsync().AsTask().WaitAsync(token));
        if (passThru) WriteObject(session);
    }

    public void Dispose()
    {
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }
}
