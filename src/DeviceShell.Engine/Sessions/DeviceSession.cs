using DeviceShell.Engine.Sessions.Recording;

namespace DeviceShell.Engine.Sessions;

/// <summary>
/// What every world's session has in common (docs/design/cmdlets.md §2). A world derives from this, owns its
/// connection and reader task, and posts background traffic into its <see cref="EventBuffer{T}"/>.
/// Thread-safe: state changes may come from the reader task while the pipeline thread reads them.
/// </summary>
public abstract class DeviceSession : IAsyncDisposable
{
    private int _state = (int)DeviceSessionState.Connecting;
    private long _connectedAtTicks;

    /// <summary>Starts a session in state <see cref="DeviceSessionState.Connecting"/>; it gets its <see cref="Id"/> when registered.</summary>
    /// <param name="world">The world the session belongs to.</param>
    /// <param name="endpoint">Where it connects, as shown to the user ("host:port" or a URL).</param>
    protected DeviceSession(DeviceWorld world, string endpoint)
    {
        World = world;
        Endpoint = endpoint;
    }

    /// <summary>Process-wide number given by <see cref="SessionRegistry"/>; 0 until registered.</summary>
    public int Id { get; internal set; }

    internal SessionRegistry? Registry { get; set; }

    /// <summary>The device world this session belongs to.</summary>
    public DeviceWorld World { get; }

    /// <summary>Where the session connects, as shown to the user ("host:port" for TCP worlds, the relay's URL for Webifi).</summary>
    public string Endpoint { get; protected set; }

    /// <summary>The current life-cycle state; may change at any time from the session's own tasks (see <see cref="StateChanged"/>).</summary>
    public DeviceSessionState State => (DeviceSessionState)Volatile.Read(ref _state);

    /// <summary>When the current connection came up, in local time (null while not connected).</summary>
    /// <remarks>
    /// Every timestamp the engine hands out is a local <see cref="DateTime"/>, not a DateTimeOffset: PowerShell remoting
    /// carries a DateTime as itself but a DateTimeOffset as text, and a local value compares with Get-Date.
    /// </remarks>
    public DateTime? ConnectedAt
    {
        get
        {
            long ticks = Interlocked.Read(ref _connectedAtTicks);
            return ticks == 0 ? null : new DateTime(ticks, DateTimeKind.Utc).ToLocalTime();
        }
    }

    /// <summary>Background items dropped because nobody consumed them fast enough.</summary>
    public abstract long DroppedEvents { get; }

    /// <summary>Background items waiting for a Receive-* (the buffer itself is not shown, see about_DeviceShell "Events").</summary>
    public abstract int QueuedEvents { get; }

    /// <summary>Raised (off the reader thread) whenever <see cref="State"/> changes.</summary>
    public event EventHandler<SessionStateChangedEventArgs>? StateChanged;

    /// <summary>Moves the session to <paramref name="state"/>, records it and raises <see cref="StateChanged"/> off the calling thread when it changed.</summary>
    protected void SetState(DeviceSessionState state)
    {
        var previous = (DeviceSessionState)Interlocked.Exchange(ref _state, (int)state);
        if (previous == state) return;
        Record("state", new RecordField("state", state.ToString()));
        if (state == DeviceSessionState.Connected)
            Interlocked.Exchange(ref _connectedAtTicks, DateTime.UtcNow.Ticks);
        else if (previous == DeviceSessionState.Connected)
            Interlocked.Exchange(ref _connectedAtTicks, 0);
        var handlers = StateChanged;
        if (handlers is not null)
        {
            var args = new SessionStateChangedEventArgs(previous, state);
            // Never run user handlers on the reader thread that called us.
            ThreadPool.QueueUserWorkItem(_ => handlers(this, args));
        }
    }

    private DeviceRecorder? _recorder;

    /// <summary>The recording in progress (docs/recording-format.md), or null.</summary>
    public DeviceRecorder? Recording => Volatile.Read(ref _recorder);

    /// <summary>Whether this world writes its traffic to a recording; the others refuse <see cref="StartRecording"/>.</summary>
    private protected virtual bool CanRecord => false;

    /// <summary>
    /// Starts recording what this session exchanges to <paramref name="path"/>. Fails with DeviceRecordingNotSupported
    /// (a world that does not record yet), DeviceRecordingInProgress, SessionClosed, DeviceRecordingFileExists or
    /// DeviceRecordingFailed.
    /// </summary>
    public DeviceRecorder StartRecording(string path, bool overwrite)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!CanRecord)
            throw new DeviceException(DeviceErrorKind.NotSupported, "DeviceRecordingNotSupported", $"{World} sessions cannot be recorded yet.", this);
        lock (_recordingGate)
        {
            if (State == DeviceSessionState.Closed)
                throw new DeviceException(DeviceErrorKind.InvalidOperation, "SessionClosed", $"{this} is closed.", this);
            if (_recorder is not null)
                throw new DeviceException(DeviceErrorKind.InvalidOperation, "DeviceRecordingInProgress",
                    $"{this} is already recording to {_recorder.Path}; stop that recording first.", this);
            var recorder = DeviceRecorder.Create(path, this, overwrite);
            Volatile.Write(ref _recorder, recorder);
            return recorder;
        }
    }

    /// <summary>Ends the recording in progress and completes its file; fails with DeviceRecordingNotStarted when there is none.</summary>
    public async Task<DeviceRecorder> StopRecordingAsync()
    {
        DeviceRecorder? recorder;
        lock (_recordingGate)
        {
            recorder = _recorder;
            Volatile.Write(ref _recorder, null);
        }
        if (recorder is null)
            throw new DeviceException(DeviceErrorKind.InvalidOperation, "DeviceRecordingNotStarted", $"{this} is not recording.", this);
        await recorder.StopAsync().ConfigureAwait(false);
        return recorder;
    }

    private readonly object _recordingGate = new();

    /// <summary>Adds one record to the recording in progress, if any (cheap when there is none).</summary>
    private protected void Record(string kind, params RecordField[] fields) => Volatile.Read(ref _recorder)?.Write(kind, fields);

    /// <summary>Closes the connection for good. Idempotent.</summary>
    protected abstract ValueTask CloseCoreAsync();

    /// <summary>Closes the session and removes it from the registry.</summary>
    public async ValueTask DisposeAsync()
    {
        if (State == DeviceSessionState.Closed) return;
        try
        {
            await CloseCoreAsync().ConfigureAwait(false);
        }
        finally
        {
            SetState(DeviceSessionState.Closed);
            // A recording ends with its session, complete: the Closed state is its last record.
            if (Recording is not null)
            {
                try
                {
                    await StopRecordingAsync().ConfigureAwait(false);
                }
                catch (DeviceException)
                {
                    // A failed write already ended that recording; closing the session must not fail for it.
                }
            }
            Registry?.Remove(this);
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>The world, id, endpoint and state, e.g. "Brick session 1 (localhost:4223, Connected)".</summary>
    public override string ToString() => $"{World} session {Id} ({Endpoint}, {State})";
}

/// <summary>The old and the new state of a <see cref="DeviceSession.StateChanged"/> event.</summary>
public sealed class SessionStateChangedEventArgs : EventArgs
{
    /// <summary>Creates the event data for one state change.</summary>
    /// <param name="previous">The state before the change.</param>
    /// <param name="current">The state after the change.</param>
    public SessionStateChangedEventArgs(DeviceSessionState previous, DeviceSessionState current)
    {
        Previous = previous;
        Current = current;
    }

    /// <summary>The state before the change.</summary>
    public DeviceSessionState Previous { get; }

    /// <summary>The state after the change.</summary>
    public DeviceSessionState Current { get; }
}
