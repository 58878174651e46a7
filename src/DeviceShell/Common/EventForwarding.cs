using System.Management.Automation;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// One -SourceIdentifier forwarding: a background task that takes matching items with its own reader and generates
/// one PowerShell event per item, one after the other on that task, so the event queue keeps the order they arrived in.
/// Ends at -Count, -TimeoutSec, when the session closes, or when Unregister-Event removes its subscriber.
/// </summary>
internal sealed class EventForwarding<T>
{
    private readonly PSEventManager _events;
    private readonly PSEventSubscriber _subscriber;
    private readonly DeviceSession _session;
    private readonly EventBuffer<T>.EventReader _reader;
    private readonly int? _count;
    private readonly double? _timeoutSec;
    private readonly CancellationTokenSource _unregistered = new();

    public EventForwarding(PSEventManager events, PSEventSubscriber subscriber, DeviceSession session, EventBuffer<T>.EventReader reader, int? count, double? timeoutSec)
    {
        _events = events;
        _subscriber = subscriber;
        _session = session;
        _reader = reader;
        _count = count;
        _timeoutSec = timeoutSec;
    }

    public void Start()
    {
        _subscriber.Unsubscribed += (_, _) => _unregistered.Cancel();
        _ = Task.Run(ForwardAsync);
    }

    private async Task ForwardAsync()
    {
        var deadline = _timeoutSec is double seconds ? DateTime.UtcNow + TimeSpan.FromSeconds(seconds) : DateTime.MaxValue;
        int forwarded = 0;
        try
        {
            while (_count is null || forwarded < _count)
            {
                var (taken, item) = await _reader.TakeAsync(ReceiveCmdlet.TimeLeft(deadline), _unregistered.Token).ConfigureAwait(false);
                if (!taken) break;
                // Sender and EventArgs as a .NET event has them, so $Sender and $EventArgs work in -Action blocks and
                // $Event.SourceEventArgs after Wait-Event. Processed on this task: the next item waits until it is queued.
                _events.GenerateEvent(_subscriber.SourceIdentifier, _session, new object?[] { _session, item }, null, true, false);
                forwarded++;
            }
        }
        catch (OperationCanceledException)
        {
            return; // Unregister-Event removed the subscriber already.
        }
        finally
        {
            _reader.Dispose();
        }
        _events.UnsubscribeEvent(_subscriber);
    }
}
