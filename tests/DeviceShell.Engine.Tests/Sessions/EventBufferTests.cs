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
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queue.TakeAsync(Timeout.InfiniteTimeSpan, cancel.Token).Within());
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
}
