namespace DeviceShell.Engine.Sessions;

/// <summary>
/// The one bounded buffer between a session's reader task and every consumer (docs/design/cmdlets.md §3, about_DeviceShell "Events").
/// Each item is stored once, in arrival order. Consumers read it through cursors of their own:
/// <list type="bullet">
/// <item>takers (Receive-* cmdlets, -SourceIdentifier forwardings, <see cref="TakeAsync"/>) claim the oldest unclaimed
/// item that matches their filter; what does not match stays for later takers;</item>
/// <item>the dispatcher raises <see cref="Received"/> for every item posted while it has subscribers, in order, on a
/// task of its own, so a slow handler delays neither the reader nor the takers.</item>
/// </list>
/// An item leaves the buffer once it is claimed and the dispatcher is past it. The reader posts and never blocks: when
/// the buffer is full the oldest item is dropped. Drops are counted per consumer, each item at most once per counter:
/// <see cref="Dropped"/> for takers (the item was never claimed), <see cref="DispatcherDropped"/> for .NET subscribers (it
/// was never raised). The dispatcher runs only while there are subscribers, so with none an item is stored once, for
/// takers alone. The buffer is bounded three ways (issue "Hold up on a hostile network"): items, bytes (each item's size as the
/// world measures it, so a peer sending large messages to a session nobody reads cannot grow it past a few MiB), and
/// optionally age. The newest item is always kept, even when it alone is larger than the byte bound: worlds limit a
/// single message on the wire, and losing the newest to keep an older one would turn drop-oldest upside down.
/// </summary>
public sealed partial class EventBuffer<T> : IDisposable
{
    private readonly object _gate = new();
    private readonly LinkedList<Entry> _entries = new();
    private readonly List<Cursor> _cursors = new();
    private readonly CancellationTokenSource _disposed = new();
    private readonly object? _sender;
    private TaskCompletionSource? _posted;
    private readonly Func<T, int> _sizeOf;
    private long _unclaimed;
    private long _dropped;
    private long _dispatcherDropped;
    private long _bytes;

    /// <summary>The byte bound a session gets unless the user asks for another: a few MiB per session at most.</summary>
    public const long DefaultMaxBytes = 4L * 1024 * 1024;

    /// <summary>What an item counts for when the world gives no size: a small event's object overhead.</summary>
    public const int DefaultItemSize = 64;

    /// <param name="capacity">The most items held at once.</param>
    /// <param name="sender">The sender .NET subscribers see (the session); the buffer itself when null.</param>
    /// <param name="maxBytes">The most bytes held at once, as <paramref name="sizeOf"/> counts them.</param>
    /// <param name="sizeOf">An item's size in bytes (payload plus overhead); <see cref="DefaultItemSize"/> when null.</param>
    /// <param name="maxAge">How long an item may wait for a consumer before it is dropped; unbounded when null.</param>
    public EventBuffer(int capacity = 10_000, object? sender = null, long maxBytes = DefaultMaxBytes, Func<T, int>? sizeOf = null, TimeSpan? maxAge = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        if (maxAge is { } age) ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(age, TimeSpan.Zero);
        Capacity = capacity;
        MaxBytes = maxBytes;
        MaxAge = maxAge;
        _sizeOf = sizeOf ?? (_ => DefaultItemSize);
        _sender = sender;
    }

    /// <summary>The most items the buffer holds; one more drops the oldest.</summary>
    public int Capacity { get; }

    /// <summary>The most bytes the buffer holds; an item that would pass it drops the oldest (the newest is always kept).</summary>
    public long MaxBytes { get; }

    /// <summary>How long an item waits for a consumer before it is dropped; null when items wait for ever.</summary>
    public TimeSpan? MaxAge { get; }

    /// <summary>Bytes held now (items not yet claimed, or not yet raised to .NET subscribers).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Items dropped before any taker claimed them (what Receive-* lost).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Items dropped before the dispatcher raised them to the .NET subscribers they were posted for.</summary>
    public long DispatcherDropped => Interlocked.Read(ref _dispatcherDropped);

    /// <summary>Items no taker has claimed yet (what a Receive-* would still get).</summary>
    public int Count
    {
        get { lock (_gate) { return (int)_unclaimed; } }
    }

    /// <summary>Adds an item; never blocks. Returns false when an item nobody had received had to be dropped.</summary>
    public bool Post(T item)
    {
        bool keptAll = true;
        TaskCompletionSource? posted;
        lock (_gate)
        {
            if (_disposed.IsCancellationRequested) return true;
            int size = _sizeOf(item);
            keptAll &= DropExpired();
            while (IsFull(size)) keptAll &= DropOldest();
            var node = _entries.AddLast(new Entry(item, size, _received is not null || _raiseTypedEvents is not null));
            _bytes += size;
            _unclaimed++;
            foreach (var cursor in _cursors) cursor.Next ??= node;
            posted = _posted; // only when someone waits: no allocation per post otherwise
            _posted = null;
        }
        posted?.TrySetResult();
        return keptAll;
    }

    /// <summary>Claims every unclaimed item without delivering it (the user asked to start from now); not counted as dropped.</summary>
    public int Discard()
    {
        lock (_gate)
        {
            int discarded = 0;
            var node = _entries.First;
            while (node is not null)
            {
                var next = node.Next;
                if (!node.Value.Claimed)
                {
                    node.Value.Claimed = true;
                    _unclaimed--;
                    discarded++;
                    RemoveIfDone(node);
                }
                node = next;
            }
            return discarded;
        }
    }

    /// <summary>Ends the buffer: waiting takers return with nothing and later posts are ignored. Idempotent.</summary>
    public void Dispose()
    {
        TaskCompletionSource? posted;
        lock (_gate)
        {
            if (_disposed.IsCancellationRequested) return;
            _disposed.Cancel();
            posted = _posted;
            _posted = null;
        }
        posted?.TrySetResult();
    }

    /// <summary>The signal of the next post, created for the first waiter (under <see cref="_gate"/>).</summary>
    private Task NextPost() => _disposed.IsCancellationRequested ? Task.CompletedTask : (_posted ??= NewSignal()).Task;

    /// <summary>Whether an item of <paramref name="incomingSize"/> bytes needs the oldest to go first.</summary>
    private bool IsFull(int incomingSize) =>
        _entries.Count > 0 && (_entries.Count >= Capacity || _bytes + incomingSize > MaxBytes);

    /// <summary>Drops items older than <see cref="MaxAge"/>; false when one of them was a real loss.</summary>
    private bool DropExpired()
    {
        if (MaxAge is not { } maxAge) return true;
        long oldestAllowed = Environment.TickCount64 - (long)maxAge.TotalMilliseconds;
        bool keptAll = true;
        while (_entries.First is { } head && head.Value.PostedAt < oldestAllowed) keptAll &= DropOldest();
        return keptAll;
    }

    /// <summary>Removes the head, counting it for each consumer that had not had it; false when takers lost it.</summary>
    private bool DropOldest()
    {
        var head = _entries.First!;
        bool lost = !head.Value.Claimed;
        if (lost)
        {
            _unclaimed--;
            Interlocked.Increment(ref _dropped);
        }
        if (head.Value.AwaitsDispatcher) Interlocked.Increment(ref _dispatcherDropped);
        Remove(head);
        return !lost;
    }

    private T Claim(LinkedListNode<Entry> node)
    {
        node.Value.Claimed = true;
        _unclaimed--;
        var item = node.Value.Item;
        RemoveIfDone(node);
        return item;
    }

    private void RemoveIfDone(LinkedListNode<Entry> node)
    {
        if (node.Value.Claimed && !node.Value.AwaitsDispatcher) Remove(node);
    }

    /// <summary>Unlinks a node; cursors standing on it move on to the next one.</summary>
    private void Remove(LinkedListNode<Entry> node)
    {
        foreach (var cursor in _cursors)
        {
            if (cursor.Next == node) cursor.Next = node.Next;
        }
        _bytes -= node.Value.Size;
        _entries.Remove(node);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal sealed class Entry
    {
        public Entry(T item, int size, bool awaitsDispatcher)
        {
            Item = item;
            Size = size;
            AwaitsDispatcher = awaitsDispatcher;
            PostedAt = Environment.TickCount64;
        }

        public T Item { get; }

        /// <summary>What the item counts for against <see cref="MaxBytes"/>.</summary>
        public int Size { get; }

        /// <summary>When it was posted, in <see cref="Environment.TickCount64"/> milliseconds.</summary>
        public long PostedAt { get; }

        /// <summary>A taker claimed it (or Discard did): no Receive-* will get it any more.</summary>
        public bool Claimed { get; set; }

        /// <summary>Posted while the dispatcher had subscribers, and not yet raised.</summary>
        public bool AwaitsDispatcher { get; set; }
    }

    /// <summary>Where one consumer goes on reading: the next node to look at, null when it has read everything.</summary>
    internal sealed class Cursor
    {
        public LinkedListNode<Entry>? Next { get; set; }
    }
}
