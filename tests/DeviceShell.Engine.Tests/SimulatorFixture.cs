namespace DeviceShell.Engine.Tests;

/// <summary>
/// The one shape of the engine tests' fixtures, each named <c>&lt;World&gt;Fixture</c> (<c>BrickFixture</c>,
/// <c>GatewayFixture</c>, <c>WebifiFixture</c>, <c>PiLinkFixture</c>): a server of one world on a free loopback port,
/// started by the fixture's static <c>StartAsync</c>, and the sessions a test opened through the fixture's
/// <c>ConnectAsync</c>. A test holds it with <c>await using</c>; disposing closes those sessions (each bounded), then
/// stops the server, so a failed test leaves no socket, timer or process to the tests after it.
/// </summary>
internal abstract class SimulatorFixture<TSession> : IAsyncDisposable where TSession : IAsyncDisposable
{
    private readonly List<TSession> _sessions = new();

    /// <summary>Keeps a session the fixture opened, to close it before the server stops.</summary>
    protected TSession Track(TSession session)
    {
        lock (_sessions) _sessions.Add(session);
        return session;
    }

    /// <summary>Stops the server; the fixture's sessions are closed by then.</summary>
    protected abstract ValueTask StopServerAsync();

    public async ValueTask DisposeAsync()
    {
        TSession[] sessions;
        lock (_sessions) sessions = _sessions.ToArray();
        foreach (var session in sessions) await session.DisposeAsync().AsTask().Within(TestTimeouts.Long);
        await StopServerAsync();
    }
}
