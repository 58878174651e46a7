using DeviceShell.Engine.Bricks;
using DeviceShell.Lab.Bricks;

namespace DeviceShell.Engine.Tests.Bricks;

/// <summary>
/// docs/design/decisions.md §13.2: under a flood of callbacks (the simulator writes them as fast as loopback takes them) every callback is
/// either delivered or counted in DroppedEvents, exactly; none is counted twice, and none is lost below the bound.
/// </summary>
public class CallbackFloodTests
{
    private const string Uid = "6qY"; // a Brick of the default stack

    [Theory]
    [InlineData(200_000, 0)]     // a consumer that falls behind: many drops, each one counted
    [InlineData(5_000, 0)]       // below the bound: nothing may be lost even with a slow start
    [InlineData(200_000, 1)]     // with a .NET subscriber too: still each callback once in the count
    public async Task Every_callback_is_delivered_or_counted_as_dropped_exactly(int sent, int subscribers)
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        long raised = 0;
        for (int i = 0; i < subscribers; i++) session.CallbackReceived += (_, _) => Interlocked.Increment(ref raised);
        using var reader = session.Events.OpenReader(e => e.Kind == BrickEventKind.Callback);
        bed.Daemon.Flood(Uid, sent);
        // Everything arrives before the consumer starts: still below the bound.
        if (sent <= 5_000) await Eventually.True(() => session.Events.Count >= sent, what: $"{sent} callbacks queued");

        long received = 0;
        int lastIndex = -1;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (received + session.DroppedEvents < sent && clock.Elapsed < Eventually.Patience)
        {
            var (taken, item) = await reader.TakeAsync(TimeSpan.FromSeconds(1));
            if (!taken) continue;
            int index = BitConverter.ToInt32(item.Payload);
            Assert.True(index > lastIndex, $"callback {index} arrived after {lastIndex}: order broken");
            lastIndex = index;
            received++;
        }
        await Task.Delay(300); // a window, not a wait: a miscount would go on growing after the last callback
        Assert.Equal(sent, received + session.DroppedEvents);
        if (sent <= 5_000) Assert.Equal(0, session.DroppedEvents);
    }
}
