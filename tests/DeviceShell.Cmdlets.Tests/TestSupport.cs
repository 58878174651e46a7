using System.Reflection;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Cmdlets.Tests;

internal static class TestSupport
{
    public static readonly TimeSpan Short = TimeSpan.FromSeconds(5);

    public static string RepoRoot { get; } = typeof(TestSupport).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepoRoot").Value!;

    /// <summary>A session of any world with no connection behind it, for tests of the session plumbing only.</summary>
    internal sealed class PlainSession : DeviceSession
    {
        public PlainSession(DeviceWorld world) : base(world, "nowhere:0") => SetState(DeviceSessionState.Connected);

        public override long DroppedEvents => Queue.Dropped;

        public EventQueue<string> Queue { get; } = new(100);

        protected override ValueTask CloseCoreAsync()
        {
            Queue.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
