using System.Management.Automation;
using DeviceShell.Commands;
using DeviceShell.Engine.Sessions;
using DeviceShell.Testing;

namespace DeviceShell.Cmdlets.Tests.Sessions;

/// <summary>The shared -Session rule and the Receive-* drain, through a small cmdlet made for the test.</summary>
[Collection(RegistryCollection.Name)]
public class SessionResolutionTests
{
    [Cmdlet(VerbsCommunications.Receive, "TestItem")]
    [OutputType(typeof(string))]
    public sealed class ReceiveTestItemCommand : ReceiveCmdlet
    {
        protected override void ProcessRecord()
        {
            var session = ResolveSession<TestSupport.PlainSession>("PiLink", "Connect-PiLink");
            Drain(session, session.Queue, item => !item.StartsWith('#'));
        }
    }

    [Fact]
    public void Without_any_session_the_command_stops_with_SessionNotFound()
    {
        foreach (var stale in SessionRegistry.Shared.List().OfType<TestSupport.PlainSession>()) SessionRegistry.Shared.Remove(stale);
        var run = CmdletHarness.Invoke(new ReceiveTestItemCommand(), ("TimeoutSec", 0));
        Assert.NotNull(run.TerminatingError);
        Assert.Equal("SessionNotFound", run.TerminatingError!.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, run.TerminatingError.CategoryInfo.Category);
    }

    [Fact]
    public async Task The_newest_session_is_the_default_and_Session_takes_an_id()
    {
        await using var older = SessionRegistry.Shared.Add(new TestSupport.PlainSession(DeviceWorld.PiLink));
        await using var newer = SessionRegistry.Shared.Add(new TestSupport.PlainSession(DeviceWorld.PiLink));
        older.Queue.Post("from older");
        newer.Queue.Post("from newer");

        var byDefault = CmdletHarness.Invoke(new ReceiveTestItemCommand(), ("Count", 1), ("TimeoutSec", 5));
        Assert.Equal(new object[] { "from newer" }, byDefault.Objects);

        var byId = CmdletHarness.Invoke(new ReceiveTestItemCommand(), ("Session", older.Id.ToString()), ("Count", 1), ("TimeoutSec", 5));
        Assert.Equal(new object[] { "from older" }, byId.Objects);
    }

    [Fact]
    public async Task A_session_of_another_world_is_refused()
    {
        await using var other = SessionRegistry.Shared.Add(new OtherSession());
        var run = CmdletHarness.Invoke(new ReceiveTestItemCommand(), ("Session", other), ("TimeoutSec", 0));
        Assert.Equal("WrongSessionWorld", run.TerminatingError?.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, run.TerminatingError!.CategoryInfo.Category);
    }

    [Fact]
    public async Task Sessions_bind_from_the_pipeline()
    {
        await using var session = SessionRegistry.Shared.Add(new TestSupport.PlainSession(DeviceWorld.PiLink));
        session.Queue.Post("piped");
        var run = CmdletHarness.Invoke(new ReceiveTestItemCommand(), new Dictionary<string, object?> { ["Count"] = 1, ["TimeoutSec"] = 5 }, input: new[] { session });
        Assert.Equal(new object[] { "piped" }, run.Objects);
    }

    [Fact]
    public async Task Drain_honours_count_filter_and_timeout()
    {
        await using var session = SessionRegistry.Shared.Add(new TestSupport.PlainSession(DeviceWorld.PiLink));
        foreach (string item in new[] { "a", "#skip", "b", "c" }) session.Queue.Post(item);
        var two = CmdletHarness.Invoke(new ReceiveTestItemCommand(), ("Session", session), ("Count", 2), ("TimeoutSec", 5));
        Assert.Equal(new object[] { "a", "b" }, two.Objects);

        var rest = CmdletHarness.Invoke(new ReceiveTestItemCommand(), ("Session", session), ("Count", 5), ("TimeoutSec", 0.2));
        Assert.Equal(new object[] { "c" }, rest.Objects);
        Assert.Contains(rest.Verbose, v => v.Contains("1 of 5", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Items_posted_while_waiting_arrive_and_Ctrl_C_ends_the_wait()
    {
        await using var session = SessionRegistry.Shared.Add(new TestSupport.PlainSession(DeviceWorld.PiLink));
        using var stop = new CancellationTokenSource();
        _ = Task.Run(async () =>
        {
            await Task.Delay(100);
            session.Queue.Post("late");
            await Task.Delay(200);
            stop.Cancel();
        });
        var started = DateTime.UtcNow;
        var run = CmdletHarness.Invoke(new ReceiveTestItemCommand(), new Dictionary<string, object?> { ["Session"] = session }, stop: stop.Token);
        Assert.True(run.Stopped);
        Assert.Equal(new object[] { "late" }, run.Objects);
        Assert.True(DateTime.UtcNow - started < TestSupport.Short);
    }

    [Fact]
    public async Task SourceIdentifier_forwards_items_to_the_PowerShell_event_queue()
    {
        await using var session = SessionRegistry.Shared.Add(new TestSupport.PlainSession(DeviceWorld.PiLink));
        session.Queue.Post("event");
        var run = CmdletHarness.Invoke(new ReceiveTestItemCommand(), ("Session", session), ("Count", 1), ("TimeoutSec", 5), ("SourceIdentifier", "Test.Items"));
        Assert.Empty(run.Objects);
        var e = Assert.Single(run.Events.ReceivedEvents);
        Assert.Equal("Test.Items", e.SourceIdentifier);
        Assert.Same(session, e.Sender);
        Assert.Equal("event", e.SourceArgs[0]);
    }

    private sealed class OtherSession : DeviceSession
    {
        public OtherSession() : base(DeviceWorld.Webifi, "elsewhere:0") { }

        public override long DroppedEvents => 0;

        protected override ValueTask CloseCoreAsync() => ValueTask.CompletedTask;
    }
}
