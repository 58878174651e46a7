using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// Logins on relays sharing Redis. <c>--webifi-max-sessions-per-account</c>: the cap counts the account's sessions on
/// every relay, with the single relay's rules (an idle session gives way to a new login; when all are in use, error 1).
/// Password guessing spread over relays is slowed down as if it went to one relay.
/// </summary>
public class WebifiRedisLoginTests
{
    private static readonly HttpClient Http = new();

    [RedisFact]
    public async Task The_session_cap_holds_across_relays()
    {
        await using var redis = await RedisServer.StartAsync();
        var options = new[] { "--webifi-max-sessions-per-account", "5", "--webifi-session-timeout", "2" };
        await using var relayA = await redis.StartRelayAsync(options);
        await using var relayB = await redis.StartRelayAsync(options);
        var relays = new[] { relayA, relayB };
        var clients = new List<Client>();
        try
        {
            // 12 clients that stay connected, alternately on A and B: 5 get in.
            var codes = new List<int>();
            for (int i = 0; i < 12; i++)
            {
                var (code, client) = await LoginAsync(relays[i % 2]);
                codes.Add(code);
                if (client is not null) clients.Add(client);
            }
            Assert.Equal(5, codes.Count(c => c == WebifiErrorCode.Success));
            Assert.Equal(7, codes.Count(c => c == WebifiErrorCode.Unknown));
            Assert.Equal(5, await CountSessionsAsync(relays));

            // A logout (on A) makes room for a login on B, and only for one.
            var leaving = clients.First(c => c.Relay == relayA);
            await leaving.LogOutAsync();
            clients.Remove(leaving);
            clients.Add(await LoginWhenRoomAsync(relayB, "after a logout"));
            Assert.Equal(WebifiErrorCode.Unknown, (await LoginAsync(relayA)).Code);

            // A client that went away (socket closed, on B) leaves an idle session: it gives way to a login on A,
            // at the latest once it has expired (2 s), and relay B ends it.
            var away = clients.First(c => c.Relay == relayB);
            await away.DisposeAsync();
            clients.Remove(away);
            clients.Add(await LoginWhenRoomAsync(relayA, "after a session went idle"));
            await Eventually.Succeeds(async () => Assert.Equal(5, await CountSessionsAsync(relays)), TestTimeouts.Long);
            Assert.DoesNotContain(away.SessionId, await SessionIdsAsync(relayB));
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }

    /// <summary>Logins that never attach (HTTP only) are idle: each new one ends the oldest, on whichever relay it is.</summary>
    [RedisFact]
    public async Task Idle_sessions_give_way_to_new_logins_across_relays()
    {
        await using var redis = await RedisServer.StartAsync();
        var options = new[] { "--webifi-max-sessions-per-account", "5" };
        await using var relayA = await redis.StartRelayAsync(options);
        await using var relayB = await redis.StartRelayAsync(options);
        var relays = new[] { relayA, relayB };
        var ids = new List<int>();
        for (int i = 0; i < 12; i++)
        {
            var answer = await WebifiSessionTests.PostAsync(Http, Server(relays[i % 2]), "~p=1~cn=webifi~cp=pswd");
            Assert.Equal(WebifiErrorCode.Success, answer.FindInt("e"));
            ids.Add(SessionId(answer.Find("id")!));
        }
        await Eventually.Succeeds(async () => Assert.Equal(ids.TakeLast(5), (await SessionIdsAsync(relayA)).Concat(await SessionIdsAsync(relayB)).Order()), TestTimeouts.Long);
    }

    /// <summary>
    /// Ten wrong passwords, alternately to relay A and B: each relay alone sees five (all free), together they are ten,
    /// so from the sixth on the attempts wait their turns (200 ms doubling, webifi relay defaults).
    /// </summary>
    [RedisFact]
    public async Task Failed_logins_count_on_all_relays()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var relayA = await redis.StartRelayAsync();
        await using var relayB = await redis.StartRelayAsync();
        var relays = new[] { relayA, relayB };
        for (int i = 0; i < 5; i++) Assert.Equal(WebifiErrorCode.InvalidCredentials, await GuessAsync(relays[i % 2], i));
        var clock = Stopwatch.StartNew();
        for (int i = 5; i < 10; i++) Assert.Equal(WebifiErrorCode.InvalidCredentials, await GuessAsync(relays[i % 2], i));
        // Shared: the 7th to 10th wait 200, 400, 800 and 1,600 ms after their relay's previous attempt.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"5 guesses past the free ones took {clock.ElapsedMilliseconds} ms");
    }

    /// <summary>docs/design/decisions.md §25.3: logins wait for Redis without holding a thread, and attempts in flight are not failures.</summary>
    [RedisFact]
    public async Task Forty_parallel_logins_to_a_relay_on_Redis_are_all_served()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var relay = await redis.StartRelayAsync();
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => WebifiSessionTests.PostAsync(Http, Server(relay), "~p=1~cn=webifi~cp=pswd"))).Within(TestTimeouts.Long);
        Assert.All(answers, a => Assert.Equal(WebifiErrorCode.Success, a.FindInt("e")));
    }

    /// <summary>
    /// docs/design/decisions.md §25.3: Redis busy for 3 s (<c>DEBUG SLEEP</c>) while 30 logins wait for it; the keep-alives of a
    /// client that needs nothing from Redis are answered at once all the while, and the logins are served afterwards.
    /// </summary>
    [RedisFact]
    public async Task A_sleeping_Redis_delays_no_other_clients_keep_alives()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var relay = await redis.StartRelayAsync();
        var (_, client) = await LoginAsync(relay);
        await using var attached = client!;
        var sleep = redis.SleepAsync(3);
        var logins = Enumerable.Range(0, 30).Select(_ => WebifiSessionTests.PostAsync(Http, Server(relay), "~p=1~cn=webifi~cp=pswd")).ToArray();
        var slowest = TimeSpan.Zero;
        int keepAlives = 0, answeredWhileAsleep = 0;
        while (!sleep.IsCompleted)
        {
            var clock = Stopwatch.StartNew();
            Assert.Equal("~rt=k~t=1", await attached.AskAsync("~t=1"));
            if (!sleep.IsCompleted) answeredWhileAsleep++;
            if (clock.Elapsed > slowest) slowest = clock.Elapsed;
            keepAlives++;
            await Task.Delay(100); // paces the keep-alives: each one measured while Redis sleeps
        }
        await sleep;
        var answers = await Task.WhenAll(logins).Within(TestTimeouts.Long);
        Assert.All(answers, a => Assert.Equal(WebifiErrorCode.Success, a.FindInt("e")));
        // A keep-alive that waited on Redis is answered only once Redis wakes, so the relay would answer none while it
        // sleeps (about 25 at this pace on a quiet machine). Counted rather than timed: a busy 2-core machine once held
        // one keep-alive 1.7 s, and a bound on the slowest failed where the relay waited on nothing.
        Assert.True(answeredWhileAsleep >= 5, $"{answeredWhileAsleep} of {keepAlives} keep-alives were answered while Redis slept; the slowest took {slowest.TotalMilliseconds:F0} ms");
    }

    private static async Task<int> GuessAsync(DeviceLab relay, int attempt) =>
        (await WebifiSessionTests.PostAsync(Http, Server(relay), $"~p=1~cn=webifi~cp=guess{attempt}")).FindInt("e") ?? -1;

    /// <summary>Logs in over HTTP and, when accepted, attaches a WebSocket to the session (in use: not evicted).</summary>
    private static async Task<(int Code, Client? Client)> LoginAsync(DeviceLab relay)
    {
        var answer = await WebifiSessionTests.PostAsync(Http, Server(relay), "~p=1~cn=webifi~cp=pswd");
        int code = answer.FindInt("e") ?? -1;
        if (code != WebifiErrorCode.Success) return (code, null);
        string deviceId = answer.Find("id")!;
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{relay["webifi"]!.Port}/api/WebSocket"), CancellationToken.None).Within();
        var client = new Client(relay, SessionId(deviceId), socket);
        Assert.Equal("~rt=a~e=0~t=1", await client.AskAsync($"~id={deviceId}~t=1"));
        return (code, client);
    }

    /// <summary>Logs in until accepted (the relay that made room tells Redis a moment after it answered its client).</summary>
    private static Task<Client> LoginWhenRoomAsync(DeviceLab relay, string what) =>
        Eventually.Succeeds(async () =>
        {
            var (code, client) = await LoginAsync(relay);
            Assert.True(client is not null, $"No login was accepted {what}: error {code}.");
            return client!;
        }, TestTimeouts.Long, TestTimeouts.Long);

    private static async Task<int> CountSessionsAsync(IEnumerable<DeviceLab> relays)
    {
        int count = 0;
        foreach (var relay in relays) count += (await SessionIdsAsync(relay)).Count;
        return count;
    }

    private static async Task<List<int>> SessionIdsAsync(DeviceLab relay) =>
        (await relay.Webifi.SessionsAsync(TestTimeouts.Short)).Select(s => s.SessionId).ToList();

    private static int SessionId(string deviceId) => int.Parse(deviceId.AsSpan(0, deviceId.IndexOf('s', StringComparison.Ordinal)), CultureInfo.InvariantCulture);

    private static Uri Server(DeviceLab relay) => new($"http://127.0.0.1:{relay["webifi"]!.Port}/");

    private sealed class Client(DeviceLab relay, int sessionId, ClientWebSocket socket) : IAsyncDisposable
    {
        public DeviceLab Relay { get; } = relay;

        public int SessionId { get; } = sessionId;

        public async Task<string> AskAsync(string message)
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(message), WebSocketMessageType.Text, true, CancellationToken.None).Within();
            var buffer = new byte[4096];
            var received = await socket.ReceiveAsync(buffer, CancellationToken.None).Within();
            return Encoding.ASCII.GetString(buffer, 0, received.Count);
        }

        public async Task LogOutAsync() => Assert.Equal("~rt=c~e=0~t=1", await AskAsync("~c=t~t=1"));

        public ValueTask DisposeAsync()
        {
            socket.Abort();
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
