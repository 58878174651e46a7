using System.Management.Automation;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Base of the Receive-* cmdlets: drains a session's event queue on the pipeline thread until
/// -Count items were written, -TimeoutSec passed without the count being reached, or Ctrl+C.
/// With -SourceIdentifier each item goes to the PowerShell event queue instead (Wait-Event,
/// Register-EngineEvent), as New-Event would put it there.
/// </summary>
public abstract class ReceiveCmdlet : SessionCmdlet
{
    /// <summary>How long to wait in all; without it, until -Count items or Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public double? TimeoutSec { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Count { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SourceIdentifier { get; set; }

    /// <summary>Writes matching items from <paramref name="queue"/>; returns how many were delivered.</summary>
    protected int Drain<T>(DeviceSession session, EventQueue<T> queue, Func<T, bool>? filter = null) where T : notnull
    {
        if (TimeoutSec is null && Count is null)
            WriteVerbose("Receiving until Ctrl+C (give -Count or -TimeoutSec to stop earlier).");
        var deadline = TimeoutSec is double seconds ? DateTime.UtcNow + TimeSpan.FromSeconds(seconds) : DateTime.MaxValue;
        int delivered = 0;
        while (Count is null || delivered < Count)
        {
            var left = deadline == DateTime.MaxValue ? Timeout.InfiniteTimeSpan : deadline - DateTime.UtcNow;
            if (left != Timeout.InfiniteTimeSpan && left < TimeSpan.Zero) left = TimeSpan.Zero;
            bool taken;
            T item;
            try
            {
                taken = queue.Take(left, StopToken, out item);
            }
            catch (OperationCanceledException)
            {
                throw new PipelineStoppedException();
            }
            if (!taken) break;
            if (filter is not null && !filter(item)) continue;
            delivered++;
            if (SourceIdentifier is null) WriteObject(item);
            else Events.GenerateEvent(SourceIdentifier, session, new object[] { item }, null);
        }
        if (Count is not null && delivered < Count)
            WriteVerbose($"Received {delivered} of {Count} item(s) before the timeout.");
        return delivered;
    }
}
