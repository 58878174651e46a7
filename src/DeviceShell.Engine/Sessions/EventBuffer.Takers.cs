namespace DeviceShell.Engine.Sessions;

// The takers: Receive-* calls and -SourceIdentifier forwardings claim items through cursors of their own.
public sealed partial class EventBuffer<T>
{
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

        /// <summary>Closes this cursor so the buffer no longer keeps items for it.</summary>
        public void Dispose() => _buffer.CloseCursor(_cursor);
    }
}
