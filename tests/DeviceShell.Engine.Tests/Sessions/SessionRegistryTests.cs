using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Tests.Sessions;

public class SessionRegistryTests
{
    internal sealed class FakeSession : DeviceSession
    {
        public FakeSession(DeviceWorld world) : base(world, "test") => SetState(DeviceSessionState.Connected);

        public int Closed { get; private set; }

        public override long DroppedEvents => 0;

        public override int QueuedEvents => 0;

        protected override ValueTask CloseCoreAsync()
        {
            Closed++;
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public void Ids_are_unique_and_increasing()
    {
        var registry = new SessionRegistry();
        var a = registry.Add(new FakeSession(DeviceWorld.Brick));
        var b = registry.Add(new FakeSession(DeviceWorld.Gateway));
        Assert.Equal(1, a.Id);
        Assert.Equal(2, b.Id);
        Assert.Same(b, registry.Find(2));
        Assert.Null(registry.Find(3));
    }

    [Fact]
    public void The_newest_session_of_a_world_is_its_default()
    {
        var registry = new SessionRegistry();
        var first = registry.Add(new FakeSession(DeviceWorld.Brick));
        registry.Add(new FakeSession(DeviceWorld.Webifi));
        var second = registry.Add(new FakeSession(DeviceWorld.Brick));
        Assert.Same(second, registry.GetDefault(DeviceWorld.Brick));
        registry.Remove(second);
        Assert.Same(first, registry.GetDefault(DeviceWorld.Brick));
        Assert.Null(registry.GetDefault(DeviceWorld.PiLink));
    }

    [Fact]
    public void List_filters_by_world_in_opening_order()
    {
        var registry = new SessionRegistry();
        var a = registry.Add(new FakeSession(DeviceWorld.Brick));
        registry.Add(new FakeSession(DeviceWorld.Gateway));
        var c = registry.Add(new FakeSession(DeviceWorld.Brick));
        Assert.Equal(new DeviceSession[] { a, c }, registry.List(DeviceWorld.Brick));
        Assert.Equal(3, registry.List().Count);
    }

    [Fact]
    public void Registering_twice_is_refused()
    {
        var registry = new SessionRegistry();
        var session = registry.Add(new FakeSession(DeviceWorld.Brick));
        Assert.Throws<InvalidOperationException>(() => registry.Add(session));
    }

    [Fact]
    public async Task Disposing_closes_once_and_unregisters()
    {
        var registry = new SessionRegistry();
        var session = registry.Add(new FakeSession(DeviceWorld.PiLink));
        Assert.NotNull(session.ConnectedAt);
        await session.DisposeAsync();
        await session.DisposeAsync();
        Assert.Equal(1, session.Closed);
        Assert.Equal(DeviceSessionState.Closed, session.State);
        Assert.Null(session.ConnectedAt);
        Assert.Empty(registry.List());
    }

    [Fact]
    public async Task State_changes_are_raised_off_the_calling_thread()
    {
        var session = new FakeSession(DeviceWorld.Brick);
        var changed = new TaskCompletionSource<SessionStateChangedEventArgs>();
        session.StateChanged += (_, e) => changed.TrySetResult(e);
        await session.DisposeAsync();
        var e = await changed.Task.Within();
        Assert.Equal(DeviceSessionState.Connected, e.Previous);
        Assert.Equal(DeviceSessionState.Closed, e.Current);
    }

    [Fact]
    public async Task Concurrent_adds_and_removes_keep_the_registry_consistent()
    {
        var registry = new SessionRegistry();
        var tasks = Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 500; i++)
            {
                var s = registry.Add(new FakeSession((DeviceWorld)(i % 4)));
                _ = registry.GetDefault(s.World);
                if (i % 2 == 0) registry.Remove(s);
            }
        })).ToArray();
        await Task.WhenAll(tasks).Within(TestTimeouts.Long);
        var left = registry.List();
        Assert.Equal(8 * 250, left.Count);
        Assert.Equal(left.Count, left.Select(s => s.Id).Distinct().Count());
    }
}
