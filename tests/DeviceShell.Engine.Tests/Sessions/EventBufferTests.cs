using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Tests.Sessions;

public class EventBufferTests
{
    [Fact]
    public void Items_come_out_in_the_order_they_were_posted()
    {
        using var queue = new EventBuffer<int>(10);
        for (int i = 0; i < 5; i++) queue.Post(i);
        var taken = new List<int>();
        while (queue.TryTake(out int item)) taken.Add(item);
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, taken);
        Assert.Equal(0, queue.Dropped);
    }

    [Fact]
    public void A_full_queue_drops_the_oldest_and_counts_it()
    {
        using var queue = new EventBuffer<int>(3);
        Assert.True(queue.Post(1));
        queue.Post(2);
        queue.Post(3);
        Assert.False(queue.Post(4));
        Assert.False(queue.Post(5));
        Assert.Equal(2, queue.Dropped);
        Assert.Equal(3, queue.Count);
        var taken = new List<int>();
        while (queue.TryTake(out int item)) taken.Add(item);
        Assert.Equal(new[] { 3, 4, 5 }, taken);
    }

    [Fact]
    public async Task Take_times_out_when_nothing_comes()
    {
        using var queue = new EventBuffer<string>();
        var (taken, _) = await queue.TakeAsync(TimeSpan.FromMilliseconds(50)).Within();
        Assert.False(taken);
    }

    [Fact]
    public async Task Take_wakes_up_when_an_item_is_posted()
    {
        using var queue = new EventBuffer<string>();
        var waiting = queue.TakeAsync(TestTimeouts.Short);
        queue.Post("hello");
        var (taken, item) = await waiting.Within();
        Assert.True(taken);
        Assert.Equal("hello", item);
    }

    [Fact]
    public async Task Take_is_cancelled_by_its_token()
    {
        using var queue = new EventBuffer<string>();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queue.TakeAsync(Timeout.InfiniteTimeSpan, cancellationToken: cancel.Token).Within());
    }

    [Fact]
    public async Task Disposing_releases_a_waiting_consumer()
    {
        var queue = new EventBuffer<string>();
        var waiting = queue.TakeAsync(Timeout.InfiniteTimeSpan);
        queue.Dispose();
        var (taken, _) = await waiting.Within();
        Assert.False(taken);
    }

    [Fact]
    public async Task Concurrent_producers_and_consumers_lose_nothing_below_capacity()
    {
        const int producers = 4, perProducer = 5_000;
        using var queue = new EventBuffer<(int Producer, int Sequence)>(producers * perProducer);
        var received = new System.Collections.Concurrent.ConcurrentBag<(int, int)>();
        using var done = new CancellationTokenSource();
        var consumers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var (taken, item) = await queue.TakeAsync(TimeSpan.FromMilliseconds(200));
                if (taken) received.Add(item);
                else if (done.IsCancellationRequested) return;
            }
        })).ToArray();
        var producing = Enumerable.Range(0, producers).Select(p => Task.Run(() =>
        {
            for (int i = 0; i < perProducer; i++) queue.Post((p, i));
        })).ToArray();
        await Task.WhenAll(producing).Within(TestTimeouts.Long);
        done.Cancel();
        await Task.WhenAll(consumers).Within(TestTimeouts.Long);

        Assert.Equal(0, queue.Dropped);
        Assert.Equal(producers * perProducer, received.Count);
        Assert.Equal(producers * perProducer, received.Distinct().Count());
    }

    [Fact]
    public async Task Concurrent_producers_past_capacity_count_every_drop()
    {
        const int producers = 4, perProducer = 10_000, capacity = 100;
        using var queue = new EventBuffer<int>(capacity);
        var producing = Enumerable.Range(0, producers).Select(p => Task.Run(() =>
        {
            for (int i = 0; i < perProducer; i++) queue.Post(i);
        })).ToArray();
        await Task.WhenAll(producing).Within(TestTimeouts.Long);
        int left = 0;
        while (queue.TryTake(out _)) left++;
        Assert.Equal(capacity, left);
        Assert.Equal(producers * perProducer - capacity, queue.Dropped);
    }

    [Fact]
    public async Task Event_subscribers_get_every_item_in_order_off_the_posting_thread()
    {
        using var queue = new EventBuffer<int>();
        var seen = new List<int>();
        int postingThread = Environment.CurrentManagedThreadId;
        int? handlerThread = null;
        var all = new TaskCompletionSource();
        queue.Received += (_, item) =>
        {
            handlerThread = Environment.CurrentManagedThreadId;
            lock (seen)
            {
                seen.Add(item);
                if (seen.Count == 100) all.TrySetResult();
            }
        };
        for (int i = 0; i < 100; i++) queue.Post(i);
        await all.Task.Within();
        Assert.Equal(Enumerable.Range(0, 100), seen);
        Assert.NotEqual(postingThread, handlerThread);
    }

    [Fact]
    public async Task A_throwing_subscriber_does_not_stop_delivery()
    {
        using var queue = new EventBuffer<int>();
        var second = new TaskCompletionSource<int>();
        queue.Received += (_, _) => throw new InvalidOperationException("subscriber bug");
        queue.Received += (_, item) => { if (item == 2) second.TrySetResult(item); };
        queue.Post(1);
        queue.Post(2);
        Assert.Equal(2, await second.Task.Within());
    }
    [Fact]
    public async Task A_filtered_take_leaves_what_it_skipped_for_later_takers()
    {
        using var buffer = new EventBuffer<string>(10);
        foreach (var item in new[] { "a1", "b1", "a2", "b2" }) buffer.Post(item);
        var (taken, item2) = await buffer.TakeAsync(TestTimeouts.Short, s => s.StartsWith('b')).Within();
        Assert.True(taken);
        Assert.Equal("b1", item2);
        var rest = new List<string>();
        while (buffer.TryTake(out var item)) rest.Add(item);
        Assert.Equal(new[] { "a1", "a2", "b2" }, rest);
    }

    [Fact]
    public async Task A_reader_goes_on_after_the_last_item_it_looked_at_and_sees_new_items_in_order()
    {
        using var buffer = new EventBuffer<int>(100);
        buffer.Post(1);
        buffer.Post(2);
        using var odd = buffer.OpenReader(i => i % 2 == 1);
        Assert.Equal((true, 1), await odd.TakeAsync(TimeSpan.Zero).Within());
        Assert.Equal((false, 0), await odd.TakeAsync(TimeSpan.Zero).Within());
        var waiting = odd.TakeAsync(TestTimeouts.Short);
        buffer.Post(4);
        buffer.Post(3);
        Assert.Equal((true, 3), await waiting.Within());
        Assert.Equal(2, buffer.Count); // 2 and 4 stay for other takers
    }

    [Fact]
    public async Task Each_item_is_stored_once_for_takers_and_event_subscribers()
    {
        using var buffer = new EventBuffer<int>(3);
        var raised = new List<int>();
        var allRaised = new TaskCompletionSource();
        buffer.Received += (_, i) => { lock (raised) { raised.Add(i); if (raised.Count == 3) allRaised.TrySetResult(); } };
        for (int i = 1; i <= 3; i++) buffer.Post(i);
        await allRaised.Task.Within();
        // A full buffer of three items: raising them did not take them from the takers, and nothing was dropped.
        Assert.Equal(3, buffer.Count);
        Assert.Equal(0, buffer.Dropped);
        var taken = new List<int>();
        while (buffer.TryTake(out int item)) taken.Add(item);
        Assert.Equal(new[] { 1, 2, 3 }, taken);
    }

    [Fact]
    public void Dropping_an_item_a_consumer_already_received_is_no_loss()
    {
        using var buffer = new EventBuffer<int>(2);
        buffer.Post(1);
        buffer.Post(2);
        Assert.True(buffer.TryTake(out _)); // 1 was received
        Assert.True(buffer.Post(3));
        Assert.False(buffer.Post(4)); // 2 was dropped unseen
        Assert.Equal(1, buffer.Dropped);
    }

    [Fact]
    public void Drops_are_counted_per_consumer_an_item_raised_to_subscribers_is_still_lost_for_takers()
    {
        using var buffer = new EventBuffer<int>(2);
        var raised = new CountdownEvent(2);
        buffer.Received += (_, _) => raised.Signal();
        buffer.Post(1);
        buffer.Post(2);
        Assert.True(raised.Wait(TestTimeouts.Short));
        buffer.Post(3);
        buffer.Post(4);
        Assert.Equal(2, buffer.Dropped);           // no taker ever had 1 and 2
        Assert.Equal(0, buffer.DispatcherDropped); // the subscriber had both
        Assert.Equal(2, buffer.Count);
    }

    [Fact]
    public void Discard_starts_from_now_without_counting_a_loss()
    {
        using var buffer = new EventBuffer<int>(10);
        for (int i = 0; i < 5; i++) buffer.Post(i);
        Assert.Equal(5, buffer.Discard());
        Assert.Equal(0, buffer.Count);
        Assert.Equal(0, buffer.Dropped);
        buffer.Post(9);
        Assert.True(buffer.TryTake(out int next));
        Assert.Equal(9, next);
    }

    [Fact]
    public async Task Subscribers_hear_only_what_arrives_after_they_subscribed()
    {
        using var buffer = new EventBuffer<int>(10);
        buffer.Post(1);
        var first = new TaskCompletionSource<int>();
        buffer.Received += (_, i) => first.TrySetResult(i);
        buffer.Post(2);
        Assert.Equal(2, await first.Task.Within());
    }

    [Fact]
    public async Task The_sender_of_raised_events_is_the_owner()
    {
        var owner = new object();
        using var buffer = new EventBuffer<int>(10, owner);
        var sender = new TaskCompletionSource<object?>();
        buffer.Received += (s, _) => sender.TrySetResult(s);
        buffer.Post(1);
        Assert.Same(owner, await sender.Task.Within());
    }

    [Fact]
    public async Task Concurrent_filtered_readers_split_the_items_between_them_without_loss_or_duplicates()
    {
        const int perKind = 5_000;
        using var buffer = new EventBuffer<(char Kind, int Sequence)>(4 * perKind);
        var received = new System.Collections.Concurrent.ConcurrentDictionary<char, List<int>>();
        var readers = "abc".Select(kind => Task.Run(async () =>
        {
            using var reader = buffer.OpenReader(item => item.Kind == kind);
            var mine = received.GetOrAdd(kind, _ => new List<int>());
            while (mine.Count < perKind)
            {
                var (taken, item) = await reader.TakeAsync(TestTimeouts.Short);
                if (!taken) return;
                mine.Add(item.Sequence);
            }
        })).ToArray();
        var producing = Task.Run(() =>
        {
            for (int i = 0; i < perKind; i++)
                foreach (char kind in "abcd") buffer.Post((kind, i));
        });
        await Task.WhenAll(readers.Append(producing)).Within(TestTimeouts.Long);
        foreach (char kind in "abc") Assert.Equal(Enumerable.Range(0, perKind), received[kind]); // each in arrival order
        Assert.Equal(perKind, buffer.Count); // the d items nobody asked for stay
        Assert.Equal(0, buffer.Dropped);
    }

    [Fact]
    public async Task A_waiting_reader_is_cancelled_by_its_token()
    {
        using var buffer = new EventBuffer<int>(10);
        using var reader = buffer.OpenReader(i => i > 100);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        buffer.Post(1);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.TakeAsync(Timeout.InfiniteTimeSpan, cancel.Token).Within());
    }

    [Fact]
    public void The_dispatcher_counts_only_items_dropped_before_it_raised_them()
    {
        using var buffer = new EventBuffer<int>(2);
        using var inFirst = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        buffer.RaiseTypedEventsWith(i =>
        {
            if (i == 1)
            {
                inFirst.Set();
                release.Wait(TestTimeouts.Short);
            }
            return true;
        });
        buffer.Post(1);
        Assert.True(inFirst.Wait(TestTimeouts.Short)); // the dispatcher holds 1 and is stuck in its handler
        for (int i = 2; i <= 4; i++) buffer.Post(i);    // drops 1 (being raised) and 2 (not raised yet)
        release.Set();
        Assert.Equal(2, buffer.Dropped);
        Assert.Equal(1, buffer.DispatcherDropped);
    }

    [Fact]
    public void Without_subscribers_the_dispatcher_stops_and_items_are_kept_for_takers_alone()
    {
        using var buffer = new EventBuffer<int>(10);
        EventHandler<int> handler = (_, _) => { };
        buffer.Received += handler;
        buffer.Received -= handler;
        buffer.Post(1);
        Assert.True(buffer.TryTake(out int item));
        Assert.Equal(1, item);
        Assert.Equal(0, buffer.Bytes); // claimed and gone: nothing waits for a dispatcher
    }

    [Fact]
    public void A_byte_bound_drops_the_oldest_until_the_newest_fits()
    {
        using var buffer = new EventBuffer<byte[]>(capacity: 1000, maxBytes: 1000, sizeOf: item => item.Length);
        for (int i = 0; i < 10; i++) buffer.Post(new byte[300]); // 3 fit at a time
        Assert.Equal(3, buffer.Count);
        Assert.Equal(900, buffer.Bytes);
        Assert.Equal(7, buffer.Dropped);
        Assert.False(buffer.Post(new byte[5000])); // larger than the bound: kept alone, the rest dropped
        Assert.Equal(1, buffer.Count);
        Assert.Equal(5000, buffer.Bytes);
        Assert.True(buffer.TryTake(out var newest));
        Assert.Equal(5000, newest.Length);
        Assert.Equal(0, buffer.Bytes);
    }

    [Fact]
    public async Task Items_older_than_the_age_bound_are_dropped_and_counted()
    {
        using var buffer = new EventBuffer<int>(maxAge: TimeSpan.FromMilliseconds(100));
        buffer.Post(1);
        buffer.Post(2);
        await Task.Delay(300); // the point: the first two grow older than the 100 ms bound
        buffer.Post(3);
        Assert.Equal(2, buffer.Dropped);
        // Count, not a take: a take looks at the ages again, and a thread held up for 100 ms on a loaded machine would
        // find item 3 expired too.
        Assert.Equal(1, buffer.Count);
    }

    private EventHandler<int>? _typedEvent;

    [Fact]
    public void Typed_events_run_the_dispatcher_only_while_they_have_a_handler()
    {
        using var buffer = new EventBuffer<int>(capacity: 3);
        var heard = new List<int>();
        var third = new ManualResetEventSlim();
        bool Raise(int item) => EventBuffer<int>.InvokeEach(_typedEvent, this, item);
        EventHandler<int> handler = (_, item) => { lock (heard) heard.Add(item); if (item == 3) third.Set(); };
        buffer.AddTypedHandler(ref _typedEvent, handler, Raise);
        for (int i = 1; i <= 3; i++) buffer.Post(i);
        Assert.True(third.Wait(TestTimeouts.Short));
        buffer.RemoveTypedHandler(ref _typedEvent, handler);
        Assert.Null(_typedEvent);
        for (int i = 4; i <= 6; i++) buffer.Post(i); // nobody hears these: they wait for takers only
        lock (heard) Assert.Equal(new[] { 1, 2, 3 }, heard);
        Assert.True(buffer.TryTake(out int oldest));
        Assert.Equal(4, oldest);
        Assert.Equal(3, buffer.Dropped); // 1 to 3 were heard but never reached a taker
    }
}
