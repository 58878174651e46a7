using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// docs/design/decisions.md §25.1 and §25.2: relays on Redis when Redis fails. A restart without persistence hands out session ids
/// again, a stall outlasts the client library's timeouts; either way no message may reach another account, and every
/// message acknowledged with code 0 is delivered. Raw clients speak the official libraries' dialect (no message ids).
/// </summary>
public sealed class WebifiRedisFailureTests : IDisposable
{
    private static readonly HttpClient Http = new();

    private readonly string _accounts = Path.Combine(Path.GetTempPath(), $"webifi-accounts-{Guid.NewGuid():N}.json");

    public WebifiRedisFailureTests() =>
        File.WriteAllText(_accounts, """
            [{"connectName":"alice","connectPassword":"alice-pw","networks":["net1"]},
             {"connectName":"bob","connectPassword":"bob-pw","networks":["net1"]}]
            """);

    public void Dispose() => File.Delete(_accounts);

    /// <summary>
    /// Alice is served by relay A when redis-server restarts empty; bob then logs in on relay B and gets alice's session
    /// ids (Redis counts from the start again). Bob's data goes to bob's sessions only, alice's relay ends her stale
    /// sessions (her DeviceShell client logs in again), and what alice sends on a stale session is refused, not lost.
    /// </summary>
    [RedisFact]
    public async Task After_a_Redis_restart_no_message_crosses_accounts()
    {
        await using var redis = await RedisServer.StartAsync();
        // The default session timeout: relays refresh their sessions every 5 s, so bob logs in before relay A looks.
        await using var relayA = await redis.StartRelayAsync("--webifi-accounts", _accounts);
        await using var relayB = await redis.StartRelayAsync("--webifi-accounts", _accounts);
        await using var aliceRaw = await RawClient.LoginAsync(relayA, "alice", "alice-pw");
        await using var alice = await WebifiSession.ConnectAsync(Options(relayA, "alice", "alice-pw", WebifiTransport.WebSocket)).Within();

        await redis.RestartAsync();
        await using var bobRaw = await RawClient.LoginAsync(relayB, "bob", "bob-pw");
        await using var bob = await WebifiSession.ConnectAsync(Options(relayB, "bob", "bob-pw", WebifiTransport.LongPolling)).Within();
        // Bob has alice's numbers now (100 and 101): Redis counts from the start again.

        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(WebifiErrorCode.Success, await bobRaw.SendAsync($"~n=net1~dt=t~d=bob-raw-{i}"));
            await bob.SendTextAsync($"bob-{i}", toNetworks: new[] { "net1" });
        }
        // Addressed by the number alice's raw client had: that id is bob's own session now (or nobody's).
        await bobRaw.SendAsync($"~s={aliceRaw.SessionId}~dt=t~d=bob-raw-by-id");
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"bob-raw-{i}"), (await bob.ReceiveAsync(5, TestTimeouts.Long)).Select(m => m.Data));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"bob-{i}"), await bobRaw.ReceiveDataAsync(5, TestTimeouts.Long));
        Assert.Empty(await aliceRaw.ReceiveDataAsync(int.MaxValue, TimeSpan.FromSeconds(3)));
        Assert.True(await alice.StaysQuietAsync(TimeSpan.FromSeconds(1)), "alice's DeviceShell client got bob's data");

        // Alice's stale raw session: her send is refused (error 12, or her socket was closed as her session ended), not
        // acknowledged and dropped.
        Assert.NotEqual(WebifiErrorCode.Success, await aliceRaw.SendAsync("~n=net1~dt=t~d=alice-stale"));
    }

    /// <summary>
    /// Redis frozen (SIGSTOP) for 8 s, longer than the client library's 5 s timeout, with a 4 s session timeout; then
    /// long enough for every key the relays stopped refreshing to expire. Every message acknowledged with code 0 before,
    /// during and after the stall is delivered; the others were answered with an error (or not at all: sent again).
    /// </summary>
    [RedisFact]
    public async Task After_a_Redis_stall_every_acknowledged_message_is_delivered()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var relayA = await redis.StartRelayAsync("--webifi-accounts", _accounts, "--webifi-session-timeout", "4");
        await using var relayB = await redis.StartRelayAsync("--webifi-accounts", _accounts, "--webifi-session-timeout", "4");
        await using var receiver = await RawClient.LoginAsync(relayB, "alice", "alice-pw");
        var senders = new List<RawClient> { await RawClient.LoginAsync(relayA, "alice", "alice-pw") };
        var acknowledged = new List<string>();
        var answers = new List<string>();

        // A sender whose socket the relay closed logs in again, as the official libraries do, and sends again what was
        // not acknowledged (so a message may arrive twice: at least once).
        async Task SendAsync(string text)
        {
            for (int attempt = 0; attempt < 2; attempt++)
            {
                int code = await senders[^1].SendAsync($"~n=net1~dt=t~d={text}", TestTimeouts.Long);
                answers.Add($"{text}: {code}");
                if (code == WebifiErrorCode.Success) acknowledged.Add(text);
                if (code != -1) return;
                senders.Add(await RawClient.LoginAsync(relayA, "alice", "alice-pw"));
            }
        }

        for (int i = 0; i < 5; i++) await SendAsync($"before-{i}");
        var stall = redis.FreezeAsync(TimeSpan.FromSeconds(8));
        for (int i = 0; i < 5; i++) await SendAsync($"during-{i}");
        await stall.Within(TestTimeouts.Long);
        // Past the lifetime of every key not refreshed since the stall (session timeout + 10 s = 14 s, from before it).
        await Task.Delay(TimeSpan.FromSeconds(7));
        for (int i = 0; i < 5; i++) await SendAsync($"after-{i}");

        try
        {
            Assert.True(acknowledged.Contains("after-4"), string.Join(", ", answers));
            var received = new HashSet<string>();
            var deadline = DateTime.UtcNow + TestTimeouts.Long;
            while (!received.IsSupersetOf(acknowledged) && DateTime.UtcNow < deadline)
            {
                var batch = await receiver.ReceiveDataAsync(int.MaxValue, TimeSpan.FromSeconds(1));
                if (batch.Count == 0) await Task.Delay(100); // the socket closed: nothing more comes, the deadline ends it
                received.UnionWith(batch);
            }
            Assert.True(received.IsSupersetOf(acknowledged), $"acknowledged but not delivered: {string.Join(", ", acknowledged.Except(received))} (answers: {string.Join(", ", answers)})");
        }
        finally
        {
            foreach (var sender in senders) await sender.DisposeAsync();
        }
    }

    /// <summary>
    /// One WebSocket frame of data messages is one routing call: messages addressed differently (a network, a session
    /// id, an unknown id, two groups) keep their own codes and their order. A recipient whose relay holds all its bytes
    /// (mailbox and stream full, <c>--webifi-mailbox-bytes</c>) gets from a frame what still fits, in order; the
    /// sender hears 1 for the rest, and nothing is delivered twice.
    /// </summary>
    [RedisFact]
    public async Task A_frame_keeps_each_messages_code_and_order_and_a_full_recipient_gets_what_fits()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var relayA = await redis.StartRelayAsync("--webifi-accounts", _accounts, "--webifi-mailbox-bytes", "4000");
        await using var relayB = await redis.StartRelayAsync("--webifi-accounts", _accounts, "--webifi-mailbox-bytes", "4000");
        // A long-polling receiver on relay B that does not download until the end: its mailbox and stream fill up.
        var login = await WebifiSessionTests.PostAsync(Http, Server(relayB), "~p=1~cn=alice~cp=alice-pw");
        string receiver = login.Find("id")!;
        string receiverId = receiver[..receiver.IndexOf('s', StringComparison.Ordinal)];
        Assert.Equal(WebifiErrorCode.NetworksSet, (await WebifiSessionTests.PostAsync(Http, new Uri(Server(relayB), "Download"), $"~id={receiver}~n=net1~z=0")).FindInt("e"));
        await using var sender = await RawClient.LoginAsync(relayA, "alice", "alice-pw");

        int[] codes = await sender.SendFrameAsync("~n=net1~dt=t~d=a0", $"~s={receiverId}~dt=t~d=a1", "~s=999999~dt=t~d=a2", "~n=net1~dt=u~d=a3", $"~n=net1~dt=t~d=a4~s={receiverId}~dt=t~d=a5");
        Assert.Equal(new[] { WebifiErrorCode.Success, WebifiErrorCode.Success, WebifiErrorCode.NotDelivered, WebifiErrorCode.Success, WebifiErrorCode.Success }, codes);
        // 900-byte messages: the mailbox takes 4 (the next would pass 4000 bytes), then the stream holds 4 unread; the
        // next does not fit, and 400 bytes of room are left.
        string filler = new('x', 900);
        codes = await sender.SendFrameAsync(Enumerable.Repeat($"~n=net1~dt=t~d={filler}", 4).ToArray());
        Assert.Equal(new[] { WebifiErrorCode.Success, WebifiErrorCode.Success, WebifiErrorCode.Success, WebifiErrorCode.Success }, codes);
        // All of it in relay B's mailbox, and relay B's read recorded in Redis: the stream has nothing unread.
        await Eventually.Succeeds(async () =>
        {
            var sessions = await relayB.ControlAsync("webifi", "sessions", null, TestTimeouts.Short);
            Assert.Equal(9, Assert.Single(sessions.EnumerateArray()).GetProperty("queued").GetInt32());
            Assert.Equal("0", await redis.HashFieldAsync($"deviceshell:webifi:{{a:alice}}:session:{receiverId}", "unread-bytes"));
        }, TestTimeouts.Long);
        codes = await sender.SendFrameAsync(Enumerable.Repeat($"~n=net1~dt=t~d={filler}", 5).ToArray());
        Assert.Equal(new[] { WebifiErrorCode.Success, WebifiErrorCode.Success, WebifiErrorCode.Success, WebifiErrorCode.Success, WebifiErrorCode.Unknown }, codes);
        codes = await sender.SendFrameAsync($"~n=net1~dt=t~d={filler}", "~n=net1~dt=t~d=small", $"~n=net1~dt=t~d={filler}");
        Assert.Equal(new[] { WebifiErrorCode.Unknown, WebifiErrorCode.Success, WebifiErrorCode.Unknown }, codes);

        var received = new List<string>();
        var deadline = DateTime.UtcNow + TestTimeouts.Long;
        while (received.Count < 14 && DateTime.UtcNow < deadline)
        {
            var answer = await WebifiSessionTests.PostAsync(Http, new Uri(Server(relayB), "Download"), $"~id={receiver}~t=1");
            received.AddRange(answer.Where(f => f.Key == "d").Select(f => f.Text.Length == 900 ? "filler" : f.Text));
        }
        Assert.Equal(["a0", "a1", "a3", "a4", "a5", .. Enumerable.Repeat("filler", 8), "small"], received);
        var more = await WebifiSessionTests.PostAsync(Http, new Uri(Server(relayB), "Download"), $"~id={receiver}~t=1");
        Assert.DoesNotContain(more, f => f.Key == "d");
    }

    private static WebifiConnectOptions Options(DeviceLab relay, string name, string password, WebifiTransport transport) =>
        WebifiFixture.ClientOptions(Server(relay), transport, "net1") with { ConnectName = name, ConnectPassword = WebifiFixture.Secure(password) };

    private static Uri Server(DeviceLab relay) => new($"http://127.0.0.1:{relay["webifi"]!.Port}/");

    /// <summary>
    /// A client in the official libraries' dialect over a WebSocket, listening to net1: answers (<c>rt=s</c>) and data
    /// (<c>rt=r</c>) read by one reader and kept apart.
    /// </summary>
    private sealed class RawClient : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket = new();
        private readonly Channel<int> _sendCodes = Channel.CreateUnbounded<int>();
        private readonly Channel<string> _data = Channel.CreateUnbounded<string>();
        private readonly SemaphoreSlim _sending = new(1, 1);
        private Task _reading = Task.CompletedTask;

        public int SessionId { get; private set; }

        public static async Task<RawClient> LoginAsync(DeviceLab relay, string name, string password)
        {
            // Just after a Redis restart the relay may refuse until it has reconnected.
            var answer = await Eventually.Succeeds(async () =>
            {
                var fields = await WebifiSessionTests.PostAsync(Http, Server(relay), $"~p=1~cn={name}~cp={password}");
                Assert.True(fields.FindInt("e") == WebifiErrorCode.Success, $"The relay refused {name}'s login: {fields.FindInt("e")}.");
                return fields;
            }, TestTimeouts.Long);
            string deviceId = answer.Find("id")!;
            var client = new RawClient { SessionId = int.Parse(deviceId.AsSpan(0, deviceId.IndexOf('s', StringComparison.Ordinal)), CultureInfo.InvariantCulture) };
            await client._socket.ConnectAsync(new Uri($"ws://127.0.0.1:{relay["webifi"]!.Port}/api/WebSocket"), CancellationToken.None).Within();
            var control = Channel.CreateUnbounded<string>();
            client._reading = client.ReadAsync(control.Writer);
            await client.WriteAsync($"~id={deviceId}~t=1");
            Assert.Equal("~rt=a~e=0~t=1", await control.Reader.ReadAsync().AsTask().Within());
            await client.WriteAsync("~nc=1~ns=net1~t=1");
            Assert.Equal("~rt=n~e=4~t=1", await control.Reader.ReadAsync().AsTask().Within());
            return client;
        }

        /// <summary>Sends one data message and returns the relay's code for it, or -1 when the relay closed the socket (not acknowledged).</summary>
        public async Task<int> SendAsync(string message, TimeSpan? limit = null)
        {
            await _sending.WaitAsync();
            try
            {
                await WriteAsync(message + "~t=1");
                return await _sendCodes.Reader.ReadAsync().AsTask().Within(limit ?? TestTimeouts.Long);
            }
            catch (Exception ex) when (ex is ChannelClosedException or WebSocketException)
            {
                return -1;
            }
            finally
            {
                _sending.Release();
            }
        }

        /// <summary>Sends data messages in one WebSocket frame and returns the relay's codes for them, in order.</summary>
        public async Task<int[]> SendFrameAsync(params string[] messages)
        {
            await _sending.WaitAsync();
            try
            {
                await WriteAsync(string.Concat(messages.Select(m => m + "~t=1")));
                var codes = new int[messages.Length];
                for (int i = 0; i < codes.Length; i++) codes[i] = await _sendCodes.Reader.ReadAsync().AsTask().Within(TestTimeouts.Long);
                return codes;
            }
            finally
            {
                _sending.Release();
            }
        }

        /// <summary>The payloads received within <paramref name="limit"/>, at most <paramref name="count"/>.</summary>
        public async Task<List<string>> ReceiveDataAsync(int count, TimeSpan limit)
        {
            var received = new List<string>();
            using var timeout = new CancellationTokenSource(limit);
            try
            {
                while (received.Count < count) received.Add(await _data.Reader.ReadAsync(timeout.Token));
            }
            catch (OperationCanceledException)
            {
                // What came within the limit.
            }
            catch (ChannelClosedException)
            {
                // The relay closed the socket.
            }
            return received;
        }

        private Task WriteAsync(string text) =>
            _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None).Within();

        private async Task ReadAsync(ChannelWriter<string> control)
        {
            var buffer = new byte[1024 * 1024];
            try
            {
                while (true)
                {
                    int length = 0;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                        if (result.MessageType == WebSocketMessageType.Close) return;
                        length += result.Count;
                    }
                    while (!result.EndOfMessage);
                    var fields = TildeCodec.Decode(buffer.AsSpan(0, length));
                    switch (fields[0].Text)
                    {
                        case "s":
                            foreach (var code in fields.Where(f => f.Key == "e")) _sendCodes.Writer.TryWrite(int.Parse(code.Text, CultureInfo.InvariantCulture));
                            break;
                        case "r":
                            foreach (var data in fields.Where(f => f.Key == "d")) _data.Writer.TryWrite(data.Text);
                            break;
                        default:
                            control.TryWrite(Encoding.UTF8.GetString(buffer, 0, length));
                            break;
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // The relay went away, or the test aborted the socket: what was read stays readable.
            }
            finally
            {
                _data.Writer.TryComplete();
                _sendCodes.Writer.TryComplete();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _socket.Abort();
            await _reading.Within();
            _socket.Dispose();
        }
    }
}
