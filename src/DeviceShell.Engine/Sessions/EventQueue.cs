namespace DeviceShell.Engine.Sessions;

/// <summary>
/// The bounded queue between a connection's reader task and its consumers (cmdlets.md §3).
/// The reader posts and never blocks: when the queue is full the oldest item is dropped and
/// counted in <see cref="Dropped"/>. Pull consumers (Receive-* cmdlets) take items with a timeout;
/// .NET event subscribers are called on a dispatcher task of their own, so a slow handler delays
/// neither the reader nor the pull consumers.
/// </summary>
public sealed class EventQueue<T> : IDisposable
{
    private readonly object _gate = new();
    private readonly Queue<T> _items = new();
    private readonly Queue<T> _toDispatch = new();
    private readonly SemaphoreSlim _available = new(0);
    private readonly SemaphoreSlim _dispatchAvailable = new(0);
    private readonly CancellationTokenSource _disposed = new();
    private EventHandler<T>? _received;
    private Task? _dispatcher;
    private long _dropped;

    public EventQueue(int capacity = 10_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    /// <summary>Items that were thrown away because a consumer did not keep up.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public int Count
    {
        get { lock (_gate) { return _items.Count; } }
    }

    /// <summary>Raised for every posted item, in order, on the queue's dispatcher task.</summary>
    public event EventHandler<T>? Received
    {
        add
        {
            lock (_gate)
            {
                _received += value;
                _dispatcher ??= Task.Run(DispatchLoopAsync);
            }
        }
        remove
        {
            lock (_gate) { _received -= value; }
        }
    }

    /// <summary>Adds an item; never blocks. Returns false when an older item had to be dropped.</summary>
    public bool Post(T item)
    {
        bool keptAll = true;
        bool signal;
        bool dispatch;
        lock (_gate)
        {
            if (_items.Count >= Capacity)
            {
                _items.Dequeue();
                keptAll = false;
                signal = false; // the count of waiting items did not change
            }
            else
            {
                signal = true;
            }
            _items.Enqueue(item);

            dispatch = _received is not null;
            if (dispatch)
            {
                if (_toDispatch.Count >= Capacity)
                {
                    _toDispatch.Dequeue();
                    Interlocked.Increment(ref _dropped);
                    dispatch = false;
                }
                _toDispatch.Enqueue(item);
            }
        }
        if (!keptAll) Interlocked.Increment(ref _dropped);
        if (signal) _available.Release();
        if (dispatch) _dispatchAvailable.Release();
        return keptAll;
    }

    public bool TryTake(out T item)
    {
        if (_available.Wait(0))
        {
            lock (_gate) { item = _items.Dequeue(); }
            return true;
        }
        item = default!;
        return false;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for an item. Returns false on timeout.</summary>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> fires.</exception>
    public async Task<(bool Taken, T Item)> TakeAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        bool got;
        try
        {
            got = await _available.WaitAsync(timeout, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, default!); // the queue was disposed: nothing more will come
        }
        if (!got) return (false, default!);
        lock (_gate) { return (true, _items.Dequeue()); }
    }

    /// <summary>Blocking form of <see cref="TakeAsync"/> for the pipeline thread.</summary>
    public bool Take(TimeSpan timeout, CancellationToken cancellationToken, out T item)
    {
        (bool taken, item) = TakeAsync(timeout, cancellationToken).GetAwaiter().GetResult();
        return taken;
    }

    private async Task DispatchLoopAsync()
    {
        while (!_disposed.IsCancellationRequested)
        {
            try
            {
                await _dispatchAvailable.WaitAsync(_disposed.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            T item;
            EventHandler<T>? handlers;
            lock (_gate)
            {
                if (_toDispatch.Count == 0) continue;
                item = _toDispatch.Dequeue();
                handlers = _received;
            }
            if (handlers is null) continue;
            foreach (EventHandler<T> handler in handlers.GetInvocationList())
            {
                try
                {
                    handler(this, item);
                }
                catch (Exception)
                {
                    // A subscriber's bug must not stop delivery to the others or kill the dispatcher.
                }
            }
        }
    }

    public void Dispose()
    {
        _disposed.Cancel();
    }
}
