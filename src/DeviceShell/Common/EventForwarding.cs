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

    /// <summary>
    /// Registers the subscriber under <paramref name="sourceIdentifier"/> and starts forwarding. When the identifier
    /// belongs to a <c>Register-EngineEvent -Forward</c> subscriber (a remote runspace sending its events on to the
    /// client), the events go through that one instead: it passes each to the client in order, and Unregister-Event
    /// of it ends the forwarding.
    /// </summary>
    /// <exception cref="ArgumentException">When another kind of subscriber with that source identifier exists.</exception>
    public void Start(string sourceIdentifier)
    {
        _subscriber = ForwardingEngineEventSubscriber(sourceIdentifier)
            ?? events.SubscribeEvent(this, nameof(Forwarded), sourceIdentifier, null, (ScriptBlock?)null, false, false);
        var reader = buffer.OpenReader(filter, onlyNew: !includeQueued);
        _ = Task.Run(() => ForwardAsync(reader));
    }

    // Subscribers is a copy taken under the event manager's lock.
    private PSEventSubscriber? ForwardingEngineEventSubscriber(string sourceIdentifier) =>
        events.Subscribers.FirstOrDefault(s => s.ForwardEvent && s.SourceObject is null && s.Action is null
            && string.Equals(s.SourceIdentifier, sourceIdentifier, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// An item as its property values by name, for an event a remote runspace forwards to its client: remoting sends
    /// the event's arguments with no depth left, so an object would arrive as its ToString alone, while a dictionary
    /// of plain values arrives whole ($Event.SourceArgs[1].Text works on the client as it does here). Sequence numbers
    /// the items of this forwarding from 1 in the order they were sent: the client queues each forwarded event from a
    /// thread-pool thread, so its queue may hold them in another order (docs/design/decisions.md §21.3).
    /// </summary>
    private static System.Collections.Specialized.OrderedDictionary PropertyValues(T item, int sequence)
    {
        var values = new System.Collections.Specialized.OrderedDictionary(StringComparer.OrdinalIgnoreCase);
        foreach (var property in PSObject.AsPSObject(item).Properties)
        {
            if (!property.IsGettable) continue;
            object? value;
            try { value = property.Value; }
            catch (GetValueException) { continue; } // a getter that fails is left out, as the serializer does
            values[property.Name] = value is null || value is string || value.GetType().IsPrimitive || value is DateTime or TimeSpan or byte[] or Guid
                ? value : value.ToString();
        }
        values["Sequence"] = sequence;
        return values;
    }

    private bool OwnsSubscriber => _subscriber!.SourceObject == this;

    /// <summary>Whether Unregister-Event removed the borrowed engine-event subscriber (ours signals through <see cref="Forwarded"/>).</summary>
    private bool BorrowedSubscriberGone()
    {
        return !OwnsSubscriber && !events.Subscribers.Contains(_subscriber!);
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
                if (!taken || BorrowedSubscriberGone()) break;
                // Sender and EventArgs as a .NET event has them, so $Sender and $EventArgs work in -Action blocks and
                // $Event.SourceEventArgs after Wait-Event. Processed on this task: the next item waits until it is queued.
                object? argument = OwnsSubscriber ? item : PropertyValues(item, forwarded + 1);
                events.GenerateEvent(_subscriber!.SourceIdentifier, session, new object?[] { session, argument }, null, true, false);
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
        if (OwnsSubscriber) events.UnsubscribeEvent(_subscriber!);
    }
}
