using System.Text;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;
using DeviceShell.Lab.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>The client engine against the Lab relay over real loopback HTTP and WebSockets, in both transports.</summary>
public class WebifiSessionTests
{
    public static TheoryData<WebifiTransport> Transports => new() { WebifiTransport.WebSocket, WebifiTransport.LongPolling };

    public static TheoryData<WebifiTransport, WebifiTransport> Pairs => new()
    {
        { WebifiTransport.WebSocket, WebifiTransport.WebSocket },
        { WebifiTransport.LongPolling, WebifiTransport.LongPolling },
        { WebifiTransport.WebSocket, WebifiTransport.LongPolling },
        { WebifiTransport.LongPolling, WebifiTransport.WebSocket },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public async Task Data_reaches_the_network_with_sender_and_data_type(WebifiTransport senderTransport, WebifiTransport receiverTransport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        var receiver = await relay.ConnectAsync(receiverTransport, "net1");
        var sender = await relay.ConnectAsync(senderTransport, "net2");
        Assert.True(sender.SessionId >= 0);
        Assert.NotEqual(sender.SessionId, receiver.SessionId);
        Assert.Equal(DeviceSessionState.Connected, sender.State);

        await sender.SendTextAsync("hello", "greet", new[] { "net1" });
        await sender.SendTextAsync("second", toNetworks: new[] { "net1" });
        var messages = await receiver.ReceiveAsync(2);
        Assert.Equal(("hello", "greet", sender.SessionId), (messages[0].Data, messages[0].DataType, messages[0].FromSessionId));
        Assert.Equal(("second", ""), (messages[1].Data, messages[1].DataType));
        Assert.True(await sender.StaysQuietAsync(TimeSpan.FromMilliseconds(200)), "no self-delivery through a network");
        Assert.Equal(0, sender.BufferedCount);
        Assert.True(sender.UploadCount >= 2);
        if (receiverTransport == WebifiTransport.LongPolling) Assert.True(receiver.DownloadCount >= 2);
        else Assert.Equal(0, receiver.DownloadCount);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Delivery_rules_default_networks_own_session_echo_and_one_copy(WebifiTransport transport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        var both = await relay.ConnectAsync(transport, "net1", "net2");
        var sender = await relay.ConnectAsync(transport, "net1", "net2");

        await sender.SendTextAsync("to default networks");
        await sender.SendTextAsync("to both networks", toNetworks: new[] { "net1", "net2" });
        await sender.SendTextAsync("by id and network", toNetworks: new[] { "net1" }, toSessionIds: new[] { both.SessionId });
        var received = await both.ReceiveAsync(3);
        Assert.Equal(new[] { "to default networks", "to both networks", "by id and network" }, received.Select(m => m.Data));
        Assert.True(await both.StaysQuietAsync(TimeSpan.FromMilliseconds(200)), "one copy only");

        await sender.SendTextAsync("to myself", toSessionIds: new[] { sender.SessionId });
        Assert.Equal("to myself", Assert.Single(await sender.ReceiveAsync(1)).Data);
        Assert.True(await both.StaysQuietAsync(TimeSpan.FromMilliseconds(100)));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Hard_payloads_survive(WebifiTransport transport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        var (receiver, sender) = await relay.ConnectPairAsync(transport);
        string[] payloads = { "~", "~~", "~t=1", "a~t=1b~t=1", "nul\0inside\0", "Grüße 世界 🙂", "", "=~-", "~c=t" };
        foreach (string payload in payloads) await sender.SendTextAsync(payload, "odd~type", new[] { "net1" });
        var received = await receiver.ReceiveAsync(payloads.Length);
        Assert.Equal(payloads, received.Select(m => m.Data));
        Assert.All(received, m => Assert.Equal("odd~type", m.DataType));

        var binary = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        await sender.SendAsync(new WebifiOutgoing(binary, "bin", new[] { "net1" }, Array.Empty<int>())).Within();
        Assert.Equal(binary, Assert.Single(await receiver.ReceiveAsync(1)).Bytes);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_large_payload_is_delivered_and_one_over_the_limit_is_refused_clearly(WebifiTransport transport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        var (receiver, sender) = await relay.ConnectPairAsync(transport);
        // The worst case for escaping: every byte is '~' and doubles on the wire.
        var large = Enumerable.Repeat((byte)'~', 1024 * 1024).ToArray();
        await sender.SendAsync(new WebifiOutgoing(large, "big", new[] { "net1" }, Array.Empty<int>())).Within(TestTimeouts.Long);
        Assert.Equal(large, Assert.Single(await receiver.ReceiveAsync(1, TestTimeouts.Long)).Bytes);

        var tooLarge = new WebifiOutgoing(new byte[1024 * 1024 + 1], "", new[] { "net1" }, Array.Empty<int>());
        var refused = Assert.Throws<DeviceException>(() => { _ = sender.SendAsync(tooLarge); });
        Assert.Equal(("WebifiPayloadTooLarge", DeviceErrorKind.InvalidArgument), (refused.ErrorId, refused.Kind));
        Assert.Equal(0, sender.BufferedCount);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Unknown_networks_and_session_ids_give_errors_5_and_2(WebifiTransport transport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        var session = await relay.ConnectAsync(transport, "net1", "nosuch");
        Assert.Equal(WebifiErrorCode.NotAllNetworksSet, session.LastError?.Code);
        // The relay refuses the set as a whole; the session names the refused network and keeps the known one.
        Assert.Equal("unknown networks: nosuch", session.LastError?.Context);
        Assert.Contains("Not all of the listen-to networks", session.LastError?.Text, StringComparison.Ordinal);
        Assert.Equal(new[] { "net1" }, session.Networks);

        var notSet = await Assert.ThrowsAsync<DeviceException>(() => session.SetNetworksAsync(new[] { "net2", "other" }).Within());
        Assert.Equal(("WebifiNetworkNotSet", DeviceErrorKind.InvalidArgument), (notSet.ErrorId, notSet.Kind));
        Assert.Contains("error 5 (unknown networks: other)", notSet.Message, StringComparison.Ordinal);
        Assert.Equal(new[] { "net2" }, session.Networks);

        var notDelivered = await Assert.ThrowsAsync<DeviceException>(() => session.SendTextAsync("x", toNetworks: new[] { "nosuch" }));
        Assert.Equal(("WebifiNotDelivered", DeviceErrorKind.NotFound), (notDelivered.ErrorId, notDelivered.Kind));
        var unknownId = await Assert.ThrowsAsync<DeviceException>(() => session.SendTextAsync("x", toSessionIds: new[] { 99999 }));
        Assert.Equal("WebifiNotDelivered", unknownId.ErrorId);
        Assert.Equal(0, session.BufferedCount);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Networks_change_while_running(WebifiTransport transport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        var (listener, sender) = await relay.ConnectPairAsync(transport);
        await listener.SetNetworksAsync(new[] { "net2" }).Within();
        Assert.Equal(new[] { "net2" }, listener.Networks);
        await sender.SendTextAsync("old", toNetworks: new[] { "net1" });
        await sender.SendTextAsync("new", toNetworks: new[] { "net2" });
        Assert.Equal("new", Assert.Single(await listener.ReceiveAsync(1)).Data);
        Assert.True(await listener.StaysQuietAsync(TimeSpan.FromMilliseconds(200)));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Discovery_finds_discoverable_sessions_and_passes_the_request_to_the_others(WebifiTransport transport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        var device = await relay.ConnectAsync(relay.ClientOptions(transport, "net1") with { Name = "kitchen ~ sensor" });
        var hidden = await relay.ConnectAsync(relay.ClientOptions(transport, "net1") with { Discoverable = false });
        var finder = await relay.ConnectAsync(transport, "net2");

        // Discovery collects for the whole window: 2 s leaves room for a loaded machine's answer.
        var found = await finder.DiscoverAsync(new[] { "net1" }, TimeSpan.FromSeconds(2)).Within();
        var only = Assert.Single(found);
        Assert.Equal(("kitchen ~ sensor", device.SessionId), (only.Name, only.SessionId));
        Assert.True(await device.StaysQuietAsync(TimeSpan.FromMilliseconds(100)), "an answered request is not passed on");
        var request = Assert.Single(await hidden.ReceiveAsync(1));
        Assert.Equal(("?", "Discovery", finder.SessionId), (request.Data, request.DataType, request.FromSessionId));
        // The responses answered the module's own request: they are collected, not replayed as background data.
        Assert.True(await finder.StaysQuietAsync(TimeSpan.FromMilliseconds(100)), "a collected Discovery Response is not passed on");
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_wrong_password_is_a_clear_authentication_error_without_retries(WebifiTransport transport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        var options = relay.ClientOptions(transport, "net1") with { ConnectPassword = WebifiFixture.Secure("wrong") };
        var error = await Assert.ThrowsAsync<DeviceException>(() => WebifiSession.ConnectAsync(options).Within());
        Assert.Equal(("WebifiAuthenticationFailed", DeviceErrorKind.Authentication), (error.ErrorId, error.Kind));
        Assert.Contains("error 8", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", error.Message, StringComparison.Ordinal);
        await Task.Delay(300); // a window, not a wait: a retry would land in it
        Assert.Equal(1, relay.Relay.LoginRequests); // no retry storm
        Assert.Equal(0, relay.Relay.SessionCount);
    }

    [Fact]
    public async Task A_relay_that_is_down_at_start_is_a_connection_error()
    {
        int port;
        await using (var relay = await WebifiFixture.StartAsync()) port = relay.Port;
        var options = new WebifiConnectOptions { Server = new Uri($"http://127.0.0.1:{port}/"), ConnectName = "webifi", ConnectPassword = WebifiFixture.Secure("pswd") };
        var error = await Assert.ThrowsAsync<DeviceException>(() => WebifiSession.ConnectAsync(options).Within());
        Assert.Equal(("WebifiConnectionFailed", DeviceErrorKind.Connection), (error.ErrorId, error.Kind));
        Assert.Contains("error 20", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Close_ends_the_relay_session(WebifiTransport transport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        var session = await relay.ConnectAsync(transport, "net1");
        Assert.Equal(1, relay.Relay.SessionCount);
        await session.DisposeAsync().AsTask().Within();
        Assert.Equal(DeviceSessionState.Closed, session.State);
        Assert.Equal(0, relay.Relay.SessionCount);
        var closed = Assert.Throws<DeviceException>(() => { _ = session.SendAsync(WebifiOutgoing.Text("late")); });
        Assert.Equal("WebifiSessionClosed", closed.ErrorId);
    }

    [Fact]
    public async Task Keep_alives_keep_an_idle_WebSocket_up()
    {
        await using var relay = await WebifiFixture.StartAsync();
        // Without rt=k answers the link would break after the first keep-alive plus the reply timeout.
        var session = await relay.ConnectAsync(relay.ClientOptions(WebifiTransport.WebSocket, "net1") with
        {
            KeepAliveInterval = TimeSpan.FromMilliseconds(100),
            ReplyTimeout = TimeSpan.FromSeconds(1),
        });
        long uploads = session.UploadCount;
        await Task.Delay(1500); // the point: idle through many keep-alives
        Assert.Equal(DeviceSessionState.Connected, session.State);
        Assert.Equal(0, session.Reconnects);
        Assert.Equal(uploads, session.UploadCount); // keep-alives are not uploads
        await session.SendTextAsync("still here", toSessionIds: new[] { session.SessionId });
        Assert.Single(await session.ReceiveAsync(1));
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public async Task A_relay_restart_during_1000_sends_loses_nothing_and_duplicates_nothing(WebifiTransport senderTransport, WebifiTransport receiverTransport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        var receiver = await relay.ConnectAsync(receiverTransport, "net1");
        var sender = await relay.ConnectAsync(senderTransport, "net2");
        const int total = 1000;
        var sends = new List<Task>();
        var producer = Task.Run(async () =>
        {
            for (int i = 0; i < total; i++)
            {
                lock (sends) sends.Add(sender.SendAsync(WebifiOutgoing.Text(i.ToString(System.Globalization.CultureInfo.InvariantCulture), "seq", new[] { "net1" })));
                if (i % 20 == 0) await Task.Delay(2); // spreads the sends so the restart falls among them
            }
        });
        var before = await receiver.ReceiveAsync(100, TestTimeouts.Long);
        await relay.RestartAsync(TimeSpan.FromMilliseconds(200));
        await producer.Within(TestTimeouts.Long);
        Task[] all;
        lock (sends) all = sends.ToArray();
        await Task.WhenAll(all).Within(TestTimeouts.Long);

        var after = await receiver.ReceiveAsync(total - before.Count, TestTimeouts.Long);
        var numbers = before.Concat(after).Select(m => int.Parse(m.Data, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(Enumerable.Range(0, total), numbers);
        Assert.True(await receiver.StaysQuietAsync(TimeSpan.FromMilliseconds(300)), "no duplicates");
        Assert.True(sender.Reconnects >= 1 && receiver.Reconnects >= 1);
        Assert.Equal(0, sender.BufferedCount);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task After_error_12_the_client_logs_in_again_and_sends_what_was_refused(WebifiTransport transport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        var (receiver, sender) = await relay.ConnectPairAsync(transport);
        int oldId = sender.SessionId;
        Assert.Equal(2, await DeviceShell.Engine.Lab.LabCommandTable.For(relay.Relay, "webifi").RunAsync(new DeviceShell.Engine.Lab.ExpireWebifiSessions()));
        await sender.SendTextAsync("after expiry", toNetworks: new[] { "net1" });
        Assert.NotEqual(oldId, sender.SessionId);
        Assert.Equal("after expiry", Assert.Single(await receiver.ReceiveAsync(1, TestTimeouts.Long)).Data);
    }

    [Fact]
    public async Task A_login_refused_after_a_restart_fails_the_queued_sends_instead_of_retrying()
    {
        await using var relay = await WebifiFixture.StartAsync();
        var session = await relay.ConnectAsync(WebifiTransport.WebSocket, "net1");
        var otherAccount = new WebifiRelayOptions { Accounts = new[] { new WebifiAccount("someone", "else", new[] { "net1" }) } };
        await relay.RestartAsync(TimeSpan.FromMilliseconds(300), otherAccount);
        // Queued while reconnecting, or refused at once when the session already gave up: either way a clear error.
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.SendAsync(WebifiOutgoing.Text("never delivered")).Within(TestTimeouts.Long));
        Assert.Equal("WebifiAuthenticationFailed", error.ErrorId);
        Assert.Equal(DeviceSessionState.Disconnected, session.State);
        Assert.Equal(WebifiErrorCode.InvalidCredentials, session.LastError?.Code);
        Assert.Throws<DeviceException>(() => { _ = session.SendAsync(WebifiOutgoing.Text("later")); });
    }

    [Fact]
    public async Task A_client_that_never_reads_keeps_relay_memory_bounded()
    {
        var options = new WebifiRelayOptions { MailboxCapacity = 200, MailboxBytes = 256 * 1024 };
        await using var relay = await WebifiFixture.StartAsync(options);
        // A long-polling listener that never asks for its data.
        using var http = new HttpClient();
        var login = await PostAsync(http, relay.Server, "~p=1~cn=webifi~cp=pswd");
        string deviceId = login.Find("id")!;
        Assert.Equal(4, (await PostAsync(http, new Uri(relay.Server, "Download"), $"~id={deviceId}~n=net1~z=0")).FindInt("e"));

        var sender = await relay.ConnectAsync(WebifiTransport.WebSocket);
        var payload = new string('x', 4096);
        var sends = Enumerable.Range(0, 1000).Select(_ => sender.SendAsync(WebifiOutgoing.Text(payload, "", new[] { "net1" }))).ToArray();
        await Task.WhenAll(sends).Within(TestTimeouts.Long);
        Assert.InRange(relay.Relay.QueuedBytes, 1, options.MailboxBytes);
        Assert.InRange(relay.Relay.QueuedMessages, 1, options.MailboxCapacity);
        Assert.True(relay.Relay.DroppedMessages >= 1000 - options.MailboxCapacity);
    }

    internal static async Task<List<TildeField>> PostAsync(HttpClient http, Uri uri, string body)
    {
        using var response = await http.PostAsync(uri, new ByteArrayContent(Encoding.UTF8.GetBytes(body))).Within();
        return TildeCodec.Decode(await response.Content.ReadAsByteArrayAsync());
    }
}

/// <summary>Encryption: the relay serves HTTPS/WSS with a self-signed certificate made in-process; the client trusts exactly that one.</summary>
public class WebifiEncryptionTests
{
    private static System.Security.Cryptography.X509Certificates.X509Certificate2 SelfSigned() => WebifiRelayOptions.CreateSelfSignedCertificate();

    [Theory]
    [InlineData(WebifiTransport.WebSocket)]
    [InlineData(WebifiTransport.LongPolling)]
    public async Task Data_flows_over_TLS_when_the_client_trusts_the_relay_certificate(WebifiTransport transport)
    {
        using var certificate = SelfSigned();
        await using var relay = await WebifiFixture.StartAsync(new WebifiRelayOptions { Certificate = certificate });
        var receiver = await relay.ConnectAsync(relay.ClientOptions(transport, "net1") with { UseEncryption = true, TrustedCertificate = certificate });
        var sender = await relay.ConnectAsync(relay.ClientOptions(transport) with { UseEncryption = true, TrustedCertificate = certificate });
        await sender.SendTextAsync("secret handshake", toNetworks: new[] { "net1" });
        Assert.Equal("secret handshake", Assert.Single(await receiver.ReceiveAsync(1)).Data);
    }

    [Fact]
    public async Task An_untrusted_certificate_is_a_connection_error()
    {
        using var certificate = SelfSigned();
        await using var relay = await WebifiFixture.StartAsync(new WebifiRelayOptions { Certificate = certificate });
        var error = await Assert.ThrowsAsync<DeviceException>(() => WebifiSession.ConnectAsync(relay.ClientOptions(WebifiTransport.WebSocket) with { UseEncryption = true }).Within());
        Assert.Equal(("WebifiConnectionFailed", DeviceErrorKind.Connection), (error.ErrorId, error.Kind));
    }
}
