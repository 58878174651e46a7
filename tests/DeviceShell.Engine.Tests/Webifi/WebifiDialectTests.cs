using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// docs/design/decisions.md §19: against a relay that has not said it understands more, a session speaks the official dialect
/// (one message per frame or upload, the next after its answer, no message ids); a relay that keeps refusing what
/// it is sent gets a handful of connections, not a storm, and the sends fail naming why.
/// </summary>
public class WebifiDialectTests
{
    private static readonly string[] Net1 = { "net1" };

    [Theory]
    [MemberData(nameof(WebifiSessionTests.Transports), MemberType = typeof(WebifiSessionTests))]
    public async Task Through_a_front_that_accepts_only_the_official_dialect_1000_messages_arrive_once_and_in_order(WebifiTransport transport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        await using var front = await StrictRelayFront.StartAsync(relay.Port);
        var receiver = await relay.ConnectAsync(WebifiFixture.ClientOptions(front.Server, transport, "net1"));
        var sender = await relay.ConnectAsync(WebifiFixture.ClientOptions(front.Server, transport));

        var sends = Enumerable.Range(0, 1000).Select(i => sender.SendAsync(WebifiOutgoing.Text($"m{i}", toNetworks: Net1))).ToArray();
        await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(120));
        var received = await receiver.ReceiveAsync(1000, TimeSpan.FromSeconds(60));

        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"m{i}"), received.Select(m => m.Data));
        Assert.True(await receiver.StaysQuietAsync(TimeSpan.FromMilliseconds(500)));
        Assert.Empty(front.Breaches);
        // Both sessions asked for more at login, were refused, and logged in the official way.
        Assert.True(front.RefusedLogins >= 2, $"{front.RefusedLogins} refused logins");
        Assert.Equal((0L, 0L), (sender.Reconnects, receiver.Reconnects));
        Assert.Equal((WebifiDialect.Official, WebifiDialect.Official), (sender.Dialect, receiver.Dialect));
    }

    [Fact]
    public async Task The_DeviceShell_dialect_is_used_only_with_a_relay_that_answered_it_and_can_be_declined()
    {
        await using var relay = await WebifiFixture.StartAsync();
        var offered = await relay.ConnectAsync(WebifiTransport.WebSocket);
        var declined = await relay.ConnectAsync(relay.ClientOptions(WebifiTransport.WebSocket, "net1") with { Dialect = WebifiDialect.Official });
        Assert.Equal((WebifiDialect.DeviceShell, WebifiDialect.Official), (offered.Dialect, declined.Dialect));

        for (int i = 0; i < 100; i++) _ = offered.SendAsync(WebifiOutgoing.Text($"m{i}", toNetworks: Net1));
        var received = await declined.ReceiveAsync(100, TestTimeouts.Long);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"m{i}"), received.Select(m => m.Data));
    }

    /// <summary>
    /// A relay that closes the connection right after every data message (WebSocket: 1008 with a reason; long
    /// polling: the upload's connection is cut). The session keeps sending for 30 s: reconnects back off, so the
    /// relay sees a handful of connections, and each send fails naming the cause instead of being retried forever.
    /// </summary>
    [Theory]
    [MemberData(nameof(WebifiSessionTests.Transports), MemberType = typeof(WebifiSessionTests))]
    public async Task A_relay_that_keeps_refusing_the_data_sees_a_handful_of_connections_in_30_s_and_the_sends_fail_naming_the_cause(WebifiTransport transport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        await using var front = await StrictRelayFront.StartAsync(relay.Port, refuseData: true);
        var sender = await relay.ConnectAsync(WebifiFixture.ClientOptions(front.Server, transport) with { MaxReconnectDelay = TimeSpan.FromSeconds(30) });

        var failures = new ConcurrentQueue<Exception>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var sending = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await sender.SendAsync(WebifiOutgoing.Text("refused", toNetworks: Net1), stop.Token);
                }
                catch (OperationCanceledException)
                {
                    // The 30 s are over.
                }
                catch (Exception ex)
                {
                    failures.Enqueue(ex);
                }
            }
        });
        await sending.WaitAsync(TimeSpan.FromSeconds(40));

        int connections = transport == WebifiTransport.WebSocket ? front.WebSockets : front.Uploads;
        Assert.InRange(connections, 2, 15);
        var failure = Assert.IsType<DeviceException>(failures.First());
        Assert.Equal(("WebifiSendRefused", DeviceErrorKind.Connection), (failure.ErrorId, failure.Kind));
        if (transport == WebifiTransport.WebSocket)
        {
            Assert.Contains("1008", failure.Message, StringComparison.Ordinal);
            Assert.Contains(StrictRelayFront.RefusalReason, failure.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// docs/design/decisions.md §25.8, hostile: a relay that accepts every login and loses the session right after it (closes the
    /// WebSocket, then refuses the device id) drove ~16 re-logins/s. Socket reconnects and re-logins back off, and the
    /// pause starts over only when the relay accepts a send or keep-alive, so in 10 s it sees a few logins.
    /// </summary>
    [Fact]
    public async Task A_relay_that_forgets_every_session_right_after_the_login_sees_a_few_logins_not_a_storm()
    {
        await using var relay = await WebifiFixture.StartAsync();
        await using var front = await StrictRelayFront.StartAsync(relay.Port);
        var session = await relay.ConnectAsync(WebifiFixture.ClientOptions(front.Server, WebifiTransport.WebSocket, "net1") with { MaxReconnectDelay = TimeSpan.FromSeconds(30) });
        front.ForgetAfterLogin = true;
        try
        {
            // Its answer is the last thing this socket carries (the close may overtake it).
            await session.SetNetworksAsync(Net1).Within();
        }
        catch (DeviceException ex) when (ex.ErrorId == "WebifiConnectionLost")
        {
            // Closed before the answer was read: the same storm bait.
        }

        // A measuring window, not a wait for a condition: what counts is how few logins fall into it (at least one
        // re-login: the session did try again).
        await Task.Delay(TimeSpan.FromSeconds(10));
        Assert.InRange(front.Logins, 2, 8);
    }

    /// <summary>
    /// docs/design/decisions.md §25.7, hostile: relay session ids start again at 100 after a relay restart. A peer of the account holds
    /// the ids 100 to 102, learns the victim's message ids (the relay passes them to every recipient that asked) and
    /// plants a huge sequence under each id. After the restart the victim logs in again under one of those ids: its
    /// messages must still arrive, because the id it numbers them under is chosen afresh at every login.
    /// </summary>
    [Fact]
    public async Task Message_ids_planted_under_a_session_id_the_victim_gets_after_a_relay_restart_do_not_drop_its_messages()
    {
        await using var relay = await WebifiFixture.StartAsync();
        using var http = new HttpClient();
        var peers = new List<string>();
        for (int i = 0; i < 3; i++) peers.Add((await RawAsync(http, relay.Server, "~p=1~cn=webifi~cp=pswd~mi=1")).Find("id")!);
        Assert.Equal("4", (await RawAsync(http, new Uri(relay.Server, "Download"), $"~id={peers[0]}~n=net1~z=0")).Find("e"));
        var receiver = await relay.ConnectAsync(WebifiTransport.WebSocket, "net1");
        var victim = await relay.ConnectAsync(WebifiTransport.WebSocket);

        await victim.SendTextAsync("hello", toNetworks: Net1);
        Assert.Equal("hello", Assert.Single(await receiver.ReceiveAsync(1)).Data);
        var heard = await RawAsync(http, new Uri(relay.Server, "Download"), $"~id={peers[0]}~t=10~z=1");
        string victimSender = WebifiMessageId.Parse(heard.Find("u")!)!.Value.Sender;
        int z = 0;
        foreach (string peer in peers)
            Assert.Equal("0", (await RawAsync(http, new Uri(relay.Server, "Upload"), $"~id={peer}~n=net1~u={victimSender}.1000000000~d=planted~z={z++}")).Find("e"));
        Assert.Equal(3, (await receiver.ReceiveAsync(3)).Count(m => m.Data == "planted"));

        int victimBefore = victim.SessionId;
        await relay.RestartAsync(TimeSpan.FromMilliseconds(200));
        await Eventually.True(() => victim.SessionId != victimBefore && victim.Connected && receiver.Reconnects > 0 && receiver.Connected, TestTimeouts.Long);
        Assert.InRange(victim.SessionId, 100, 102);

        for (int i = 0; i < 5; i++) await victim.SendTextAsync($"after {i}", toNetworks: Net1);
        var after = await receiver.ReceiveAsync(5, TestTimeouts.Long);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"after {i}"), after.Select(m => m.Data));
        Assert.Equal(0, receiver.DroppedRepeats);
    }

    /// <summary>docs/design/decisions.md §25.8, hostile: an 8 MiB answer is decoded with about its own size in transient memory.</summary>
    [Fact]
    public void An_8_MiB_answer_is_decoded_in_memory_close_to_its_size()
    {
        var payload = new byte[8 * 1024 * 1024];
        Array.Fill(payload, (byte)'a');
        for (int i = 0; i < payload.Length; i += 4096) payload[i] = (byte)'~';
        var answer = new List<byte>();
        TildeCodec.AppendField(answer, "e", "0");
        TildeCodec.AppendField(answer, "f", "100");
        TildeCodec.AppendField(answer, "d", payload);
        byte[] wire = answer.ToArray();

        long before = GC.GetAllocatedBytesForCurrentThread();
        var fields = TildeCodec.Decode(wire);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(payload, fields[^1].Value);
        Assert.True(allocated < payload.Length + payload.Length / 4, $"{allocated / 1024} KiB allocated to decode {wire.Length / 1024} KiB");
    }

    /// <summary>
    /// docs/design/decisions.md §25.8, hostile: a relay that stops answering (its bytes swallowed, the socket open) must not hold
    /// Find-WebifiDevice past its time: the discovery request's acknowledgement is waited for within the same bound.
    /// </summary>
    [Fact]
    public async Task Discovery_against_a_relay_that_went_silent_ends_within_its_time()
    {
        await using var relay = await WebifiFixture.StartAsync();
        await using var proxy = LoopbackProxy.Start(relay.Port);
        var session = await relay.ConnectAsync(relay.ClientOptions(WebifiTransport.WebSocket, "net1") with
        {
            Server = proxy.Server("http"),
            ReplyTimeout = TimeSpan.FromSeconds(20),
        });
        proxy.SilenceAll();

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.DiscoverAsync(null, TimeSpan.FromSeconds(1)).WaitAsync(TimeSpan.FromSeconds(8)));
        Assert.Equal(("WebifiTimeout", DeviceErrorKind.Timeout), (error.ErrorId, error.Kind));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"{watch.Elapsed.TotalSeconds:0.0} s");
    }

    private static async Task<List<TildeField>> RawAsync(HttpClient http, Uri uri, string body)
    {
        using var response = await http.PostAsync(uri, new ByteArrayContent(Encoding.UTF8.GetBytes(body))).Within(TestTimeouts.Long);
        return TildeCodec.Decode(await response.Content.ReadAsByteArrayAsync());
    }
}
