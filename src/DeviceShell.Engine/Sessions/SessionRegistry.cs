namespace DeviceShell.Engine.Sessions;

/// <summary>
/// Every open session in the process. Static rather than a PowerShell variable so that
/// runspaces, thread jobs and ForEach-Object -Parallel in the same process all see the same sessions.
/// The newest registered session of a world is that world's default.
/// </summary>
public sealed class SessionRegistry
{
    private readonly object _gate = new();
    private readonly List<DeviceSession> _sessions = new();
    private int _lastId;

    /// <summary>The registry of this process, shared by every runspace; the cmdlets use only this one.</summary>
    public static SessionRegistry Shared { get; } = new();

    /// <summary>Registers the session, gives it an Id and makes it its world's default.</summary>
    public T Add<T>(T session) where T : DeviceSession
    {
        ArgumentNullException.ThrowIfNull(session);
        lock (_gate)
        {
            if (session.Id != 0) throw new InvalidOperationException($"Session {session.Id} is registered already.");
            session.Id = ++_lastId;
            session.Registry = this;
            _sessions.Add(session);
        }
        return session;
    }

    internal bool Remove(DeviceSession session)
    {
        lock (_gate) { return _sessions.Remove(session); }
    }

    /// <summary>Sessions in the order they were opened, optionally of one world only.</summary>
    public IReadOnlyList<DeviceSession> List(DeviceWorld? world = null)
    {
        lock (_gate)
        {
            return world is null ? _sessions.ToArray() : _sessions.Where(s => s.World == world).ToArray();
        }
    }

    /// <summary>The registered session with this <see cref="DeviceSession.Id"/>, or null when there is none (closed sessions are removed).</summary>
    public DeviceSession? Find(int id)
    {
        lock (_gate) { return _sessions.Find(s => s.Id == id); }
    }

    /// <summary>The newest session of the world that is still registered, or null.</summary>
    public DeviceSession? GetDefault(DeviceWorld world)
    {
        lock (_gate) { return _sessions.FindLast(s => s.World == world); }
    }
}
