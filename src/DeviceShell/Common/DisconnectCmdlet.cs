using System.Management.Automation;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Base of the Disconnect-&lt;World&gt; cmdlets: closes the session given (default: the world's newest) or, with -All,
/// every session of the world, and removes it from the registry. Each world says only which session type it closes.
/// A session of another world (e.g. piped from Get-DeviceSession) is skipped with a non-terminating error, so the
/// command goes on with the next one; Disconnect-DeviceSession closes sessions of any world.
/// </summary>
public abstract class DisconnectCmdlet : SessionCmdlet
{
    [Parameter(ParameterSetName = "All", Mandatory = true)]
    public SwitchParameter All { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <remarks>Constrained to <c>class</c> for the import rule of <see cref="DeviceCmdlet"/>; TSession is a DeviceSession type.</remarks>
    protected void DisconnectSessions<TSession>(string world, string connectCommand) where TSession : class
    {
        ThrowIfUnknownSession();
        if (!All && Session is not null && Session is not TSession)
        {
            WriteFailure(WrongSessionWorld(world));
            return;
        }
        var sessions = All
            ? SessionRegistry.Shared.List().OfType<TSession>().ToArray()
            : new[] { ResolveSession<TSession>(world, connectCommand) };
        foreach (var session in sessions) CloseSession((DeviceSession)(object)session, PassThru);
    }
}
