using System.Diagnostics;
using System.Globalization;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// Relays scaled out on Redis (<c>--webifi-redis</c>): Debian's redis-server and each relay as its own Lab process,
/// clients of one account on different relays.
/// </summary>
public class WebifiRedisTests
{
    public static TheoryData<WebifiTransport, WebifiTransport> Pairs => WebifiSessionTests.Pairs;

    [RedisTheory]
    [MemberData(nameof(Pairs))]
    public async Task Sessions_on_different_relays_exchange_data_exactly_once_in_order(WebifiTransport senderTransport, WebifiTransport receiverTransport)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var relayA = await redis.StartRelayAsync();
        await using var relayB = await redis.StartRelayAsync();
        await using var clients = new Clients();
        var receiver = await clients.ConnectAsync(Server(relayB), receiverTransport, "net1");
        var sender = await clients.ConnectAsync(Server(relayA), senderTransport, "net2");
        Assert.NotEqual(sender.SessionId, receiver.SessionId);

        const int total = 300;
        var sends = Enumerable.Range(0, total).Select(i => sender.SendAsync(WebifiOutgoing.Text(Text(i), "seq", new[] { "net1" }))).ToArray();
        await Task.WhenAll(sends).Within(TestTimeouts.Long);
        var messages = await receiver.ReceiveAsync(total, TestTimeouts.Long);
        Assert.Equal(Enumerable.Range(0, total), messages.Select(m => int.Parse(m.Data, CultureInfo.InvariantCulture)));
        Assert.All(messages, m => Assert.Equal((sender.SessionId, "seq"), (m.FromSessionId, m.DataType)));
        Assert.True(await receiver.StaysQuietAsync(TimeSpan.FromMilliseconds(300)), "no duplicates");

        // The other way, by session id; and the relay of the receiver knows only its own session.
        await receiver.SendTextAsync("back", toSessionIds: new[] { sender.SessionId });
        var back = Assert.Single(await sender.ReceiveAsync(1, TestTimeouts.Long));
        Assert.Equal(("back", receiver.SessionId), (back.Data, back.FromSessionId));
        var listed = await relayB.Webifi.SessionsAsync(TestTimeouts.Short);
        Assert.Equal(receiver.SessionId, Assert.Single(listed).SessionId);
    }

    /// <summary>
    /// Redis Cluster runs a script only when all its keys are in one slot: everything of an account is under its hash
    /// tag, and only keys that plain commands use are outside (docs/design/decisions.md §26).
    /// </summary>
    [RedisFact]
    public async Task Every_key_of_an_account_shares_its_hash_tag()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var relayA = await redis.StartRelayAsync();
        await using var relayB = await redis.StartRelayAsync();
        await using var clients = new Clients();
        var receiver = await clients.ConnectAsync(Server(relayB), WebifiTransport.WebSocket, "net1");
        var sender = await clients.ConnectAsync(Server(relayA), WebifiTransport.LongPolling, "net2");
        await sender.SendAsync(WebifiOutgoing.Text("x", "seq", new[] { "net1" })).Within(TestTimeouts.Long);
        Assert.Single(await receiver.ReceiveAsync(1, TestTimeouts.Long));

        var keys = await redis.KeysAsync();
        Assert.Contains(keys, k => k.StartsWith("deviceshell:webifi:{a:webifi}:stream:", StringComparison.Ordinal));
        Assert.Contains(keys, k => k.StartsWith("deviceshell:webifi:{a:webifi}:listeners:", StringComparison.Ordinal));
        Assert.All(keys, key => Assert.True(
            key.StartsWith("deviceshell:webifi:{a:webifi}:", StringComparison.Ordinal)
            || key == "deviceshell:webifi:next-id"
            || key.StartsWith("deviceshell:webifi:device:", StringComparison.Ordinal)
            || key.StartsWith("deviceshell:webifi:login-failures:", StringComparison.Ordinal),
            $"{key} is outside the account's hash tag"));
    }

    /// <summary>Discovery is plain data: a request on relay A reaches the account's listeners on every relay, and their answers come back.</summary>
    [RedisFact]
    public async Task Discovery_finds_the_devices_on_every_relay()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var relayA = await redis.StartRelayAsync();
        await using var relayB = await redis.StartRelayAsync();
        await using var clients = new Clients();
        var onB = await clients.ConnectAsync(Server(relayB), WebifiTransport.WebSocket, "net1");
        var alsoOnB = await clients.ConnectAsync(Server(relayB), WebifiTransport.LongPolling, "net1");
        var onA = await clients.ConnectAsync(Server(relayA), WebifiTransport.WebSocket, "net1");
        await clients.ConnectAsync(Server(relayB), WebifiTransport.WebSocket, "net2");
        var asking = await clients.ConnectAsync(Server(relayA), WebifiTransport.LongPolling, "net2");
        var found = await asking.DiscoverAsync(new[] { "net1" }, TimeSpan.FromSeconds(2)).Within(TestTimeouts.Long);
        Assert.Equal(new[] { onB.SessionId, alsoOnB.SessionId, onA.SessionId }.Order(), found.Select(d => d.SessionId).Order());
    }

    /// <summary>
    /// Relay A acknowledges data once it is in Redis, before relay B has read it: a sender faster than the receiver's
    /// relay must be slowed down, not have its messages cut from a stream past the mailbox (here 200 messages).
    /// </summary>
    [RedisFact]
    public async Task A_sender_faster_than_the_receivers_relay_loses_nothing()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var relayA = await redis.StartRelayAsync("--webifi-mailbox-capacity", "200");
        await using var relayB = await redis.StartRelayAsync("--webifi-mailbox-capacity", "200");
        await using var clients = new Clients();
        var receiver = await clients.ConnectAsync(Server(relayB), WebifiTransport.WebSocket, "net1");
        var sender = await clients.ConnectAsync(Server(relayA), WebifiTransport.WebSocket, "net2");
        const int total = 5000;
        var sends = Enumerable.Range(0, total).Select(i => sender.SendAsync(WebifiOutgoing.Text(Text(i), "seq", new[] { "net1" }))).ToArray();
        var messages = await receiver.ReceiveAsync(total, TestTimeouts.Long);
        await Task.WhenAll(sends).Within(TestTimeouts.Long);
        Assert.Equal(Enumerable.Range(0, total), messages.Select(m => int.Parse(m.Data, CultureInfo.InvariantCulture)));
    }

    /// <summary>An orderly stop (stdin closed): the relay writes out what it holds, and the rest is delivered by the other relay.</summary>
    [RedisTheory]
    [MemberData(nameof(Pairs))]
    public async Task Stopping_the_receivers_relay_during_1000_sends_loses_nothing_and_duplicates_nothing(WebifiTransport senderTransport, WebifiTransport receiverTransport)
    {
        var numbers = await SendAcrossAFailingRelayAsync(senderTransport, receiverTransport, relay => relay.StopAsync(TestTimeouts.Long));
        Assert.Equal(Enumerable.Range(0, 1000), numbers);
    }

    /// <summary>
    /// A crash (SIGKILL) of the receiver's relay: nothing acknowledged to the sender is lost, and nothing comes twice
    /// although the next relay writes again what the dead one had written in its last second (the Webifi protocol has no
    /// receipt): the messages carry the sender's numbers (WebifiMessageId) and the receiver drops the repeats.
    /// </summary>
    [RedisTheory]
    [MemberData(nameof(Pairs))]
    public async Task Killing_the_receivers_relay_during_1000_sends_loses_nothing_and_duplicates_nothing(WebifiTransport senderTransport, WebifiTransport receiverTransport)
    {
        var numbers = await SendAcrossAFailingRelayAsync(senderTransport, receiverTransport, Kill);
        Assert.Equal(Enumerable.Range(0, 1000), numbers);
    }

    /// <summary>
    /// A crash of the sender's relay: the sender logs in again through its load balancer and sends what was not
    /// acknowledged again, some of which the dead relay had routed; the receiver gets each message once, in order.
    /// </summary>
    [RedisTheory]
    [MemberData(nameof(Pairs))]
    public async Task Killing_the_senders_relay_during_1000_sends_loses_nothing_and_duplicates_nothing(WebifiTransport senderTransport, WebifiTransport receiverTransport)
    {
        var numbers = await SendAcrossAFailingRelayAsync(senderTransport, receiverTransport, Kill, senderFails: true);
        Assert.Equal(Enumerable.Range(0, 1000), numbers);
    }

    private static Task Kill(DeviceLab relay)
    {
        using (var process = Process.GetProcessById(relay.ProcessId)) process.Kill();
        return Task.CompletedTask;
    }

    /// <summary>
    /// The sender on relay A sends 1,000 messages to a receiver on relay B (or, when <paramref name="senderFails"/>, the
    /// sender on B to the receiver on A); mid-stream relay B fails, and the load balancer in front of it sends its client
    /// to relay A. Returns the numbers the receiver got, in order.
    /// </summary>
    private static async Task<List<int>> SendAcrossAFailingRelayAsync(WebifiTransport senderTransport, WebifiTransport receiverTransport, Func<DeviceLab, Task> fail, bool senderFails = false)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var relayA = await redis.StartRelayAsync();
        await using var relayB = await redis.StartRelayAsync();
        await using var balancer = LoopbackProxy.Start(relayB["webifi"]!.Port);
        await using var clients = new Clients();
        var receiver = await clients.ConnectAsync(senderFails ? Server(relayA) : balancer.Server("http"), receiverTransport, "net1");
        var sender = await clients.ConnectAsync(senderFails ? balancer.Server("http") : Server(relayA), senderTransport, "net2");
        const int total = 1000;
        var sends = new List<Task>();
        var failed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var producer = Task.Run(async () =>
        {
            for (int i = 0; i < total; i++)
            {
                // At least the second half is sent after the failure, while the receiver is away or logging in again.
                if (i == total / 2) await failed.Task;
                lock (sends) sends.Add(sender.SendAsync(WebifiOutgoing.Text(Text(i), "seq", new[] { "net1" })));
                if (i % 5 == 0) await Task.Delay(2); // spreads the sends so the failure falls among them
            }
        });
        // Mid-stream, at a moment set by the sender (its 300th message acknowledged).
        await WaitForSendAsync(sends, 300);
        await fail(relayB);
        balancer.Retarget(relayA["webifi"]!.Port);
        failed.SetResult();
        await producer.Within(TestTimeouts.Long);
        Task[] all;
        lock (sends) all = sends.ToArray();
        await Task.WhenAll(all).Within(TestTimeouts.Long);

        var numbers = new List<int>();
        while (!numbers.Contains(total - 1))
            numbers.Add(int.Parse((await receiver.ReceiveAsync(1, TestTimeouts.Long))[0].Data, CultureInfo.InvariantCulture));
        Assert.True(await receiver.StaysQuietAsync(TimeSpan.FromMilliseconds(300)), "nothing after the last message");
        // Relay A serves the moved client now: a WebSocket client authenticates its session again there (relay A takes
        // it over from Redis), a long-polling one logs in again (a receiver's new session adopts what relay B had not delivered).
        var servedByA = await relayA.Webifi.SessionsAsync(TestTimeouts.Short);
        Assert.Contains((senderFails ? sender : receiver).SessionId, servedByA.Select(s => s.SessionId));
        if (!senderFails) Assert.Equal(0, sender.Reconnects);
        return numbers;
    }

    private static async Task WaitForSendAsync(List<Task> sends, int count)
    {
        Task? send = null;
        await Eventually.True(() =>
        {
            lock (sends) send = sends.Count >= count ? sends[count - 1] : null;
            return send is not null;
        }, TestTimeouts.Long, $"the sender to reach message {count}");
        await send!.Within(TestTimeouts.Long);
    }

    private static Uri Server(DeviceLab relay) => new($"http://127.0.0.1:{relay["webifi"]!.Port}/");

    private static string Text(int i) => i.ToString(CultureInfo.InvariantCulture);

    /// <summary>The test's client sessions, closed on dispose.</summary>
    private sealed class Clients : IAsyncDisposable
    {
        private readonly List<WebifiSession> _sessions = new();

        public async Task<WebifiSession> ConnectAsync(Uri server, WebifiTransport transport, params string[] networks)
        {
            var session = await WebifiSession.ConnectAsync(WebifiFixture.ClientOptions(server, transport, networks)).Within(TestTimeouts.Long);
            _sessions.Add(session);
            return session;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var session in _sessions) await session.DisposeAsync().AsTask().Within(TestTimeouts.Long);
        }
    }
}
