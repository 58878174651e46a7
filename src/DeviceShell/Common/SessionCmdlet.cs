using System.Management.Automation;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Base of every cmdlet that works on a session. <c>-Session</c> binds by value and by property name
/// (so <c>Get-DeviceSession | Get-BrickEnumeration</c> works); without it the world's newest session is used.
/// The parameter is typed as the common <see cref="DeviceSession"/> so that it has one type across the module.
/// </summary>
public abstract class SessionCmdlet : DeviceCmdlet
{
    [Parameter(ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(SessionCompleter))]
    [SessionTransformation]
    public DeviceSession? Session { get; set; }

    /// <summary>
    /// The session this command works on: the one given, else the world's default. When there is none,
    /// or the one given belongs to another world, the command stops with a clear error record.
    /// </summary>
    /// <remarks>
    /// TSession is constrained to <c>class</c>, not to DeviceSession: a constraint naming an engine type makes the
    /// runtime load the engine when PowerShell reads this type, before the module initializer can resolve it.
    /// </remarks>
    protected TSession ResolveSession<TSession>(string world, string connectCommand) where TSession : class
    {
        ThrowIfUnknownSession();
        if (Session is null)
        {
            var fallback = SessionRegistry.Shared.List().OfType<TSession>().LastOrDefault();
            if (fallback is null) ThrowTerminatingError(ErrorRecords.SessionNotFound(world, connectCommand));
            WriteVerbose($"Using {fallback}.");
            if (fallback is DeviceSession fallbackSession) WarnIfLabExited(fallbackSession);
            return fallback!;
        }
        if (Session is TSession typed)
        {
            WarnIfLabExited(Session);
            if (Session.State == DeviceSessionState.Closed)
                ThrowTerminatingError(ErrorRecords.From(new DeviceException(DeviceErrorKind.InvalidOperation, "SessionClosed",
                    $"{typed} is closed. Open a new one with {connectCommand}.", typed)));
            return typed;
        }
        ThrowFailure(WrongSessionWorld(world));
        return null!;
    }

    /// <summary>Stops with SessionNotFound when -Session named an Id with no open session.</summary>
    protected void ThrowIfUnknownSession()
    {
        if (Session is UnknownSession unknown) ThrowTerminatingError(ErrorRecords.SessionNotFound(unknown.RequestedId, unknown.Message));
    }

    /// <summary>The failure for a -Session of another world than the command's.</summary>
    protected DeviceException WrongSessionWorld(string world) =>
        new(DeviceErrorKind.InvalidArgument, "WrongSessionWorld", $"{Session} is not a {world} session.", Session);
}
