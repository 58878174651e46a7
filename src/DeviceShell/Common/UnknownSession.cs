using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// What <see cref="SessionTransformationAttribute"/> binds to -Session for an Id with no open session: a transformation
/// can only fail as ParameterArgumentTransformationError, so it hands this on and the command stops with the module's
/// SessionNotFound (ObjectNotFound) when it looks at its session. Never registered, never written to the pipeline.
/// </summary>
internal sealed class UnknownSession(int requestedId, string message) : DeviceSession(default, "")
{
    public int RequestedId { get; } = requestedId;

    public string Message { get; } = message;

    public override long DroppedEvents => 0;

    public override int QueuedEvents => 0;

    protected override ValueTask CloseCoreAsync() => ValueTask.CompletedTask;
}
