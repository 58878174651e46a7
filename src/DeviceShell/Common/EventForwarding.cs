using System.Management.Automation;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// One -SourceIdentifier forwarding: a background task that takes matching items with its own reader and generates
/// one PowerShell event per item, one after the other on that task, so the event queue keeps the order they arrived in.
/// Ends at -Count, -TimeoutSec, when the session closes, or when Unregister-Event removes its subscriber.
/// </summary>
/// <param name="includeQueued">Forward the items queued before the start too; otherwise forwarding starts from now and
/// those stay for later receives, as a Register-ObjectEvent subscriber hears only what is raised after it subscribed.</param>
internal sealed class EventForwarding<T>(PSEventManager events, DeviceSession session, EventBuffer<T> buffer, Func<T, bool>? filter, int? count, double? timeoutSec,
    bool includeQueued)
{
    private readonly CancellationTokenSource _unregistered = new();
    private PSEventSubscriber? _subscriber;

    /// <summary>
    /// What the PowerShell subscriber is registered on, so that Get-EventSubscriber shows the forwarding and
    /// Unregister-Event stops it: removing the subscriber's handler is the stop signal. It is never raised; the events
    /// are generated directly, one after the other, to keep their order.
    /// </summary>
    public event EventHandler? Forwarded
    {
        add { }
        remove => _unregistered.Cancel();
    }

    /// <summary>Registers the subscriber under <paramref name="sourceIdentifier"/> and starts forwarding.</summary>
    /// <exception cref="ArgumentException">When a subscriber with that source identifier exists.</exception>
    public void Start(string sourceIdentifier)
    {
        _subscriber = events.SubscribeEvent(this, nameof(Forwarded), sourceIdentifier, null, (ScriptBlock?)null, false, false);
        var reader = buffer.OpenReader(filter, onlyNew: !includeQueued);
        _ = Task.Run(() => ForwardAsync(reader));
    }

    private async Task ForwardAsync(EventBuffer<T>.EventReader reader)
    {
        var deadline = timeoutSec is double seconds ? DateTime.UtcNow + TimeSpan.FromSeconds(seconds) : DateTime.MaxValue;
        int forwarded = 0;
        try
        {
            while (count is null || forwarded < count)
            {
                var (taken, item) = await reader.TakeAsync(ReceiveCmdlet.TimeLeft(deadline), _unregistered.Token).ConfigureAwait(false);
                if (!taken) break;
                // Sender and EventArgs as a .NET event has them, so $Sender and $EventArgs work in -Action blocks and
                // $Event.SourceEventArgs after Wait-Event. Processed on this task: the next item waits until it is queued.
                events.GenerateEvent(_subscriber!.SourceIdentifier, session, new object?[] { session, item }, null, true, false);
                forwarded++;
            }
        }
        catch (OperationCanceledException)
        {
            return; // Unregister-Event removed the subscriber already.
        }
        finally
        {
            reader.Dispose();
        }
        events.UnsubscribeEvent(_subscriber!);
    }
}
