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
public sealed class EventBuffer<T> : IDisposable
{
    private readonly object _gate = new();
    private readonly LinkedList<Entry> _entries = new();
    private readonly List<Cursor> _cursors = new();
    private readonly CancellationTokenSource _disposed = new();
    private readonly object? _sender;
    private TaskCompletionSource? _posted;
    private EventHandler<T>? _received;
    private Cursor? _dispatcherCursor;
    private Func<T, bool>? _raiseTypedEvents;
    private int _typedHandlers;
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

    /// <summary>Raised for every item posted while there is a subscriber, in order, on the buffer's dispatcher task.</summary>
    public event EventHandler<T>? Received
    {
        add
        {
            lock (_gate)
            {
                _received += value;
                StartDispatcher();
            }
        }
        remove
        {
            lock (_gate)
            {
                _received -= value;
                StopDispatcherIfUnheard();
            }
        }
    }

    /// <summary>
    /// Hands every item posted from now on to <paramref name="raiseTypedEvents"/> on the dispatcher task; it raises the
    /// owner's typed .NET events (e.g. CallbackReceived) and returns whether any handler got the item. The owner calls it
    /// when its first typed handler subscribes, and with null when its last one leaves (the dispatcher then stops).
    /// </summary>
    public void RaiseTypedEventsWith(Func<T, bool>? raiseTypedEvents)
    {
        lock (_gate)
        {
            _raiseTypedEvents = raiseTypedEvents;
            if (raiseTypedEvents is null) StopDispatcherIfUnheard();
            else StartDispatcher();
        }
    }

    /// <summary>
    /// Adds <paramref name="value"/> to one of the owner's typed .NET events (e.g. CallbackReceived), which
    /// <paramref name="raiseTypedEvents"/> raises. The dispatcher runs only while some typed event has a handler, so
    /// the events nobody listens to are stored once, for takers, and only takers' losses count as drops.
    /// </summary>
    public void AddTypedHandler<TArgs>(ref EventHandler<TArgs>? handlers, EventHandler<TArgs>? value, Func<T, bool> raiseTypedEvents)
    {
        if (value is null) return;
        lock (_gate)
        {
            handlers += value;
            _typedHandlers++;
            RaiseTypedEventsWith(raiseTypedEvents);
        }
    }

    /// <summary>Removes a handler added with <see cref="AddTypedHandler"/>; the last one stops the dispatcher.</summary>
    public void RemoveTypedHandler<TArgs>(ref EventHandler<TArgs>? handlers, EventHandler<TArgs>? value)
    {
        lock (_gate)
        {
            var before = handlers;
            handlers -= value;
            if (ReferenceEquals(before, handlers)) return; // it was not subscribed
            if (--_typedHandlers == 0) RaiseTypedEventsWith(null);
        }
    }

    /// <summary>Calls each handler in turn; one that throws does not keep the item from the others. True when there was any.</summary>
    internal static bool InvokeEach<TArgs>(EventHandler<TArgs>? handlers, object sender, TArgs args)
    {
        if (handlers is null) return false;
        foreach (EventHandler<TArgs> handler in handlers.GetInvocationList())
        {
            try
            {
                handler(sender, args);
            }
            catch (Exception)
            {
                // A subscriber's bug must not stop delivery to the others or kill the dispatcher.
            }
        }
        return true;
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

    /// <summary>Claims the oldest unclaimed item at once, if there is one.</summary>
    public bool TryTake(out T item)
    {
        lock (_gate)
        {
            DropExpired();
            for (var node = _entries.First; node is not null; node = node.Next)
            {
                if (node.Value.Claimed) continue;
                item = Claim(node);
                return true;
            }
        }
        item = default!;
        return false;
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the oldest unclaimed item that matches <paramref name="filter"/> and
    /// claims it; items that do not match stay for other takers. Returns false on timeout or when the buffer is disposed.
    /// </summary>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> fires.</exception>
    public async Task<(bool Taken, T Item)> TakeAsync(TimeSpan timeout, Func<T, bool>? filter = null, CancellationToken cancellationToken = default)
    {
        using var reader = OpenReader(filter);
        return await reader.TakeAsync(timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Blocking form of <see cref="TakeAsync"/> for the pipeline thread.</summary>
    public bool Take(TimeSpan timeout, CancellationToken cancellationToken, out T item, Func<T, bool>? filter = null)
    {
        (bool taken, item) = TakeAsync(timeout, filter, cancellationToken).GetAwaiter().GetResult();
        return taken;
    }

    /// <summary>
    /// A taker's cursor, starting at the oldest unclaimed item (or, with <paramref name="onlyNew"/>, at the next item
    /// posted, leaving what is queued to other takers): successive takes go on from where the last one stopped, so items
    /// the filter skipped are not examined again. Dispose it when done.
    /// </summary>
    public EventReader OpenReader(Func<T, bool>? filter = null, bool onlyNew = false)
    {
        lock (_gate)
        {
            var cursor = new Cursor { Next = onlyNew ? null : _entries.First };
            _cursors.Add(cursor);
            return new EventReader(this, cursor, filter);
        }
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

    /// <summary>Starts the dispatcher unless it runs; subscribers hear what arrives from now on, as with any .NET event.</summary>
    private void StartDispatcher()
    {
        if (_dispatcherCursor is not null) return;
        var cursor = new Cursor();
        _dispatcherCursor = cursor;
        _cursors.Add(cursor);
        _ = Task.Run(() => DispatchLoopAsync(cursor));
    }

    /// <summary>With no subscriber left the dispatcher stops: items are then stored for takers alone.</summary>
    private void StopDispatcherIfUnheard()
    {
        if (_received is not null || _raiseTypedEvents is not null || _dispatcherCursor is not { } cursor) return;
        _cursors.Remove(cursor);
        _dispatcherCursor = null;
        var node = _entries.First;
        while (node is not null)
        {
            var next = node.Next;
            node.Value.AwaitsDispatcher = false;
            RemoveIfDone(node);
            node = next;
        }
        var posted = _posted;
        _posted = null;
        posted?.TrySetResult(); // wakes the loop, which sees it is no longer the dispatcher and ends
    }

    private void CloseCursor(Cursor cursor)
    {
        lock (_gate) { _cursors.Remove(cursor); }
    }

    /// <summary>
    /// Claims the next matching item after <paramref name="cursor"/>, or returns the signal of the next post.
    /// </summary>
    private (bool Taken, T Item, Task Posted) TryAdvance(Cursor cursor, Func<T, bool>? filter)
    {
        lock (_gate)
        {
            DropExpired();
            while (cursor.Next is { } node)
            {
                cursor.Next = node.Next;
                if (node.Value.Claimed) continue;
                if (filter is not null && !filter(node.Value.Item)) continue;
                return (true, Claim(node), Task.CompletedTask);
            }
            return (false, default!, NextPost());
        }
    }

    private int TakeMany(Cursor cursor, Func<T, bool>? filter, List<T> items, int max)
    {
        int taken = 0;
        lock (_gate)
        {
            DropExpired();
            while (taken < max && cursor.Next is { } node)
            {
                cursor.Next = node.Next;
                if (node.Value.Claimed) continue;
                if (filter is not null && !filter(node.Value.Item)) continue;
                items.Add(Claim(node));
                taken++;
            }
        }
        return taken;
    }

    private async Task DispatchLoopAsync(Cursor cursor)
    {
        while (true)
        {
            T item;
            EventHandler<T>? handlers;
            Func<T, bool>? raiseTypedEvents;
            Task? posted = null;
            lock (_gate)
            {
                if (_disposed.IsCancellationRequested || _dispatcherCursor != cursor) return;
                var node = cursor.Next;
                if (node is null)
                {
                    posted = NextPost();
                    item = default!;
                }
                else
                {
                    cursor.Next = node.Next;
                    if (!node.Value.AwaitsDispatcher) continue;
                    // Taken from the buffer's point of view now: a drop from here on is no loss for the subscribers.
                    node.Value.AwaitsDispatcher = false;
                    item = node.Value.Item;
                    RemoveIfDone(node);
                }
                handlers = _received;
                raiseTypedEvents = _raiseTypedEvents;
            }
            if (posted is not null)
            {
                await posted.ConfigureAwait(false);
                continue;
            }
            InvokeEach(handlers, _sender ?? this, item);
            raiseTypedEvents?.Invoke(item);
        }
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

    /// <summary>One taker's cursor over the buffer (a Receive-* call or a -SourceIdentifier forwarding).</summary>
    public sealed class EventReader : IDisposable
    {
        private readonly EventBuffer<T> _buffer;
        private readonly Cursor _cursor;
        private readonly Func<T, bool>? _filter;

        internal EventReader(EventBuffer<T> buffer, Cursor cursor, Func<T, bool>? filter)
        {
            _buffer = buffer;
            _cursor = cursor;
            _filter = filter;
        }

        /// <summary>Waits up to <paramref name="timeout"/> for the next matching item; false on timeout or when the buffer is disposed.</summary>
        /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> fires.</exception>
        public Task<(bool Taken, T Item)> TakeAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            // An item already waiting costs no timer, no token source and no await.
            var (taken, item, _) = _buffer.TryAdvance(_cursor, _filter);
            return taken ? Task.FromResult((true, item)) : WaitAndTakeAsync(timeout, cancellationToken);
        }

        /// <summary>
        /// Claims up to <paramref name="max"/> matching items that are waiting now, in order, under one lock; adds them
        /// to <paramref name="items"/> and returns how many. Never waits (a flood is drained in batches, not item by item).
        /// </summary>
        public int TryTakeMany(List<T> items, int max)
        {
            ArgumentNullException.ThrowIfNull(items);
            return _buffer.TakeMany(_cursor, _filter, items, max);
        }

        private async Task<(bool Taken, T Item)> WaitAndTakeAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
            while (true)
            {
                var (taken, item, posted) = _buffer.TryAdvance(_cursor, _filter);
                if (taken) return (true, item);
                if (_buffer._disposed.IsCancellationRequested) return (false, default!);
                cancellationToken.ThrowIfCancellationRequested();
                long left = deadline - Environment.TickCount64;
                if (left <= 0) return (false, default!);
                try
                {
                    await posted.WaitAsync(deadline == long.MaxValue ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(left), cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // The timeout passed: one last look above, then give up.
                }
            }
        }

        public void Dispose() => _buffer.CloseCursor(_cursor);
    }
}
