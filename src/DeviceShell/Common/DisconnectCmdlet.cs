using System.Management.Automation;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Base of the Disconnect-&lt;World&gt; cmdlets: closes the session given (default: the world's newest) or, with -All,
/// every session of the world, and removes it from the registry. Each world says only which session type it closes.
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
        var sessions = All
            ? SessionRegistry.Shared.List().OfType<TSession>().ToArray()
            : new[] { ResolveSession<TSession>(world, connectCommand) };
        foreach (var session in sessions)
        {
            var closing = (DeviceSession)(object)session;
            if (!ShouldProcess(closing.ToString(), "Disconnect")) continue;
            WriteVerbose($"Closing {closing}.");
            Await(token => closing.DisposeAsync().AsTask().WaitAsync(token));
            if (PassThru) WriteObject(session);
        }
    }
}
