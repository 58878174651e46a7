namespace DeviceShell.Engine.Sessions;

// The dispatcher: raises Received and the owner's typed .NET events for every item posted while they have subscribers.
public sealed partial class EventBuffer<T>
{
    private EventHandler<T>? _received;
    private Cursor? _dispatcherCursor;
    private Func<T, bool>? _raiseTypedEvents;
    private int _typedHandlers;

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
}
