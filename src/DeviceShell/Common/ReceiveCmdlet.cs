using System.Management.Automation;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Base of the Receive-* cmdlets (about_DeviceShell "Events"): takes the matching items from the session's event
/// buffer on the pipeline thread until -Count items were written, -TimeoutSec passed, or Ctrl+C; what does not match
/// stays for later receives. With -SourceIdentifier the same taking runs in the background, from now on (with
/// -IncludeQueued from the oldest queued item), and each item goes to the PowerShell event queue of the runspace that
/// asked (Wait-Event, Register-EngineEvent), until Unregister-Event.
/// </summary>
public abstract class ReceiveCmdlet : SessionCmdlet
{
    /// <summary>How long to wait in all; without it, until -Count items or Ctrl+C (or Unregister-Event when forwarding).</summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public double? TimeoutSec { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Count { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SourceIdentifier { get; set; }

    /// <summary>Start from now: discard everything queued for receives (matching or not) before receiving.</summary>
    [Parameter]
    public SwitchParameter DiscardQueued { get; set; }

    /// <summary>
    /// With -SourceIdentifier: forward the matching items queued before this call too. Without it forwarding starts
    /// from now and the queued items stay for later receives. A receive without -SourceIdentifier always starts with
    /// what is queued (-DiscardQueued drops it).
    /// </summary>
    [Parameter]
    public SwitchParameter IncludeQueued { get; set; }

    /// <summary>
    /// Receives matching items of <paramref name="buffer"/>. <paramref name="write"/> writes one taken item and
    /// returns whether it counts toward -Count (the default writes it as output).
    /// </summary>
    /// <summary>The most items one lock of the buffer hands over.</summary>
    private const int ReceiveBatch = 256;

    protected void Receive<T>(DeviceSession session, EventBuffer<T> buffer, Func<T, bool>? filter = null, Func<T, bool>? write = null)
    {
        if (DiscardQueued) WriteVerbose($"Discarded {buffer.Discard()} queued item(s).");
        if (SourceIdentifier is not null)
        {
            StartForwarding(session, buffer, filter);
            return;
        }
        if (TimeoutSec is null && Count is null)
            WriteVerbose("Receiving until Ctrl+C (give -Count or -TimeoutSec to stop earlier).");
        var deadline = Deadline();
        int delivered = 0;
        using var reader = buffer.OpenReader(filter);
        var batch = new List<T>(ReceiveBatch);
        while (Count is null || delivered < Count)
        {
            // What is waiting is taken in batches under one lock; only an empty buffer makes the cmdlet wait.
            batch.Clear();
            if (reader.TryTakeMany(batch, Count is null ? ReceiveBatch : Math.Min(ReceiveBatch, Count.Value - delivered)) == 0)
            {
                bool taken;
                T item;
                try
                {
                    (taken, item) = reader.TakeAsync(TimeLeft(deadline), StopToken).GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    throw new PipelineStoppedException();
                }
                if (!taken) break;
                batch.Add(item);
            }
            foreach (var item in batch)
            {
                if (write is null) WriteObject(item);
                if (write is null || write(item)) delivered++;
            }
        }
        if (Count is not null && delivered < Count)
            WriteVerbose($"Received {delivered} of {Count} item(s) before the timeout.");
    }

    private void StartForwarding<T>(DeviceSession session, EventBuffer<T> buffer, Func<T, bool>? filter)
    {
        var forwarding = new EventForwarding<T>(Events, session, buffer, filter, Count, TimeoutSec, IncludeQueued);
        try
        {
            // The subscriber belongs to this runspace's event manager: the events go to the runspace that asked.
            forwarding.Start(SourceIdentifier!);
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, "SourceIdentifierInUse", ErrorCategory.ResourceExists, SourceIdentifier));
        }
        WriteVerbose($"Forwarding to the event queue as '{SourceIdentifier}' until Unregister-Event -SourceIdentifier {SourceIdentifier}.");
    }

    private DateTime Deadline() => TimeoutSec is double seconds ? DateTime.UtcNow + TimeSpan.FromSeconds(seconds) : DateTime.MaxValue;

    internal static TimeSpan TimeLeft(DateTime deadline)
    {
        if (deadline == DateTime.MaxValue) return Timeout.InfiniteTimeSpan;
        var left = deadline - DateTime.UtcNow;
        return left < TimeSpan.Zero ? TimeSpan.Zero : left;
    }
}
