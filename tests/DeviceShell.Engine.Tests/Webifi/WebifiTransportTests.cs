using System.Diagnostics;
using System.Net;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;
using DeviceShell.Lab.Gateway;
using DeviceShell.Lab.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// TLS over an https:// server with a CA made in the test. The Lab's gateway PKI (a CA and a server certificate it
/// signs, for 127.0.0.1 and localhost) serves the relay too.
/// </summary>
public class WebifiTlsTests
{
    [Theory]
    [InlineData(WebifiTransport.WebSocket)]
    [InlineData(WebifiTransport.LongPolling)]
    public async Task An_https_server_means_TLS_for_every_request_and_no_plaintext_is_sent(WebifiTransport transport)
    {
        using var certificates = GatewayCertificates.Create();
        await using var relay = await WebifiFixture.StartAsync(new WebifiRelayOptions { Certificate = certificates.Server });
        await using var proxy = LoopbackProxy.Start(relay.Port);
        // No -UseEncryption: the https:// server alone must be enough.
        var options = relay.ClientOptions(transport) with { Server = proxy.Server("https"), TrustedCertificate = certificates.Ca };
        var receiver = await relay.ConnectAsync(options with { Networks = new[] { "net1" } });
        var sender = await relay.ConnectAsync(options);
        Assert.True(receiver.UseEncryption);

        await sender.SendTextAsync("over TLS only", toNetworks: new[] { "net1" });
        Assert.Equal("over TLS only", Assert.Single(await receiver.ReceiveAsync(1)).Data);
        if (transport == WebifiTransport.LongPolling) Assert.True(receiver.DownloadCount >= 2);

        byte[] firstBytes = proxy.FirstBytes;
        // At least one connection per session (long polling reuses pooled HTTPS connections for its requests).
        Assert.True(firstBytes.Length >= 2, $"{firstBytes.Length} connections");
        Assert.All(firstBytes, b => Assert.Equal(LoopbackProxy.TlsHandshake, b));
    }

    /// <summary>
    /// docs/design/decisions.md §19: the official library's set_use_encryption on a running session. One port serves
    /// the relay with and without TLS (the proxy ends TLS), so the connections before and after each switch tell
    /// whether the session really changed: plaintext, then only TLS handshakes, then plaintext again, nothing lost.
    /// </summary>
    [Theory]
    [InlineData(WebifiTransport.WebSocket)]
    [InlineData(WebifiTransport.LongPolling)]
    public async Task Switching_encryption_on_a_running_session_moves_it_to_TLS_and_back_keeping_its_data(WebifiTransport transport)
    {
        using var certificates = GatewayCertificates.Create();
        await using var relay = await WebifiFixture.StartAsync();
        await using var proxy = LoopbackProxy.Start(relay.Port, certificates.Server);
        var options = relay.ClientOptions(transport) with { Server = proxy.Server("http"), TrustedCertificate = certificates.Ca };
        var receiver = await relay.ConnectAsync(transport, "net1");
        var sender = await relay.ConnectAsync(options);
        Assert.False(sender.UseEncryption);
        await sender.SendTextAsync("plain", toNetworks: new[] { "net1" }).Within();
        Assert.DoesNotContain(LoopbackProxy.TlsHandshake, proxy.FirstBytes);

        int before = proxy.FirstBytes.Length;
        await sender.SetTransportAsync(transport: null, useEncryption: true).Within();
        Assert.True(sender.UseEncryption);
        await sender.SendTextAsync("encrypted", toNetworks: new[] { "net1" }).Within();
        byte[] switched = proxy.FirstBytes[before..];
        Assert.NotEmpty(switched);
        Assert.All(switched, b => Assert.Equal(LoopbackProxy.TlsHandshake, b));

        before = proxy.FirstBytes.Length;
        await sender.SetTransportAsync(transport: null, useEncryption: false).Within();
        await sender.SendTextAsync("plain again", toNetworks: new[] { "net1" }).Within();
        byte[] back = proxy.FirstBytes[before..];
        if (transport == WebifiTransport.WebSocket)
        {
            Assert.NotEmpty(back);
            Assert.DoesNotContain(LoopbackProxy.TlsHandshake, back);
        }
        else
        {
            // Long polling's HTTP connections are pooled: a plaintext connection from before the switch to TLS may
            // carry the upload, and a TLS connection the old link's cancelled download had started may still be
            // opened (.NET finishes a connection attempt for its pool), carrying nothing. What counts is which kind
            // of connection carried each message.
            Assert.True(proxy.ClientSent("plain again", overTls: false), "'plain again' went out in plaintext");
            Assert.True(proxy.ClientSent("encrypted", overTls: true), "'encrypted' went out over TLS");
            Assert.False(proxy.ClientSent("encrypted", overTls: false), "'encrypted' never went out in plaintext");
        }

        var received = new List<string>();
        while (received.Distinct().Count() < 3) received.AddRange((await receiver.ReceiveAsync(1).Within()).Select(m => m.Data));
        Assert.Equal(new[] { "plain", "encrypted", "plain again" }, received.Distinct());
    }

    [Fact]
    public async Task A_relay_certificate_from_another_CA_than_the_given_one_is_refused()
    {
        using var relayCertificates = GatewayCertificates.Create();
        using var otherCertificates = GatewayCertificates.Create();
        await using var relay = await WebifiFixture.StartAsync(new WebifiRelayOptions { Certificate = relayCertificates.Server });
        var options = relay.ClientOptions(WebifiTransport.WebSocket) with { TrustedCertificate = otherCertificates.Ca };
        var error = await Assert.ThrowsAsync<DeviceException>(() => WebifiSession.ConnectAsync(options).Within());
        Assert.Equal(("WebifiConnectionFailed", DeviceErrorKind.Connection), (error.ErrorId, error.Kind));
        Assert.Equal(0, relay.Relay.LoginRequests);
    }

    [Fact]
    public async Task A_certificate_from_the_trusted_CA_for_another_name_is_refused()
    {
        using var certificates = GatewayCertificates.Create(new[] { "relay.example" }, Array.Empty<IPAddress>());
        await using var relay = await WebifiFixture.StartAsync(new WebifiRelayOptions { Certificate = certificates.Server });
        var options = relay.ClientOptions(WebifiTransport.LongPolling) with { TrustedCertificate = certificates.Ca };
        var error = await Assert.ThrowsAsync<DeviceException>(() => WebifiSession.ConnectAsync(options).Within());
        Assert.Equal(("WebifiConnectionFailed", DeviceErrorKind.Connection), (error.ErrorId, error.Kind));
        Assert.Equal(0, relay.Relay.LoginRequests);
    }
}

/// <summary>The WebSocket's own reconnect (Websocket.Client) under the session: a drop is repaired without a new login.</summary>
public class WebifiWebSocketReconnectTests
{
    /// <summary>
    /// Through an outage both transports keep their device id (the WebSocket library reconnects its socket, long polling
    /// polls again, as the Python library does): Reconnecting while the relay cannot be reached, a send made meanwhile
    /// waits, and the same session resumes with no new login — so relays on Redis can take the session over with what
    /// it had not received.
    /// </summary>
    [Theory]
    [MemberData(nameof(WebifiSessionTests.Transports), MemberType = typeof(WebifiSessionTests))]
    public async Task A_lost_connection_resumes_the_same_session_without_a_new_login(WebifiTransport transport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        await using var proxy = LoopbackProxy.Start(relay.Port);
        var session = await relay.ConnectAsync(relay.ClientOptions(transport, "net1") with { Server = proxy.Server("http") });
        var states = Record(session);
        int sessionId = session.SessionId;
        long logins = relay.Relay.LoginRequests;

        proxy.Retarget(RedisServer.FreePort());
        proxy.CutAll();
        await Eventually.True(() => session.State == DeviceSessionState.Reconnecting, TestTimeouts.Short, "the session to notice the relay is unreachable");
        var send = session.SendTextAsync("during the outage", toSessionIds: new[] { sessionId });
        proxy.Retarget(relay.Port);
        await send.Within(TestTimeouts.Short);
        Assert.Equal("during the outage", Assert.Single(await session.ReceiveAsync(1)).Data);

        Assert.Equal(sessionId, session.SessionId);
        Assert.Equal(0, session.Reconnects);
        Assert.Equal(logins, relay.Relay.LoginRequests);
        Assert.Equal(DeviceSessionState.Connected, session.State);
        Assert.Equal(new[] { DeviceSessionState.Reconnecting, DeviceSessionState.Connected }, states.Take(2));
    }

    [Fact]
    public async Task A_cut_during_1000_sends_loses_nothing_and_keeps_the_order_without_a_new_login()
    {
        await using var relay = await WebifiFixture.StartAsync();
        await using var proxy = LoopbackProxy.Start(relay.Port);
        var receiver = await relay.ConnectAsync(WebifiTransport.WebSocket, "net1");
        var sender = await relay.ConnectAsync(relay.ClientOptions(WebifiTransport.WebSocket) with { Server = proxy.Server("http") });
        int senderId = sender.SessionId;
        const int total = 1000;
        var sends = Enumerable.Range(0, total)
            .Select(i => sender.SendAsync(WebifiOutgoing.Text(i.ToString(System.Globalization.CultureInfo.InvariantCulture), "seq", new[] { "net1" })))
            .ToArray();
        var before = await receiver.ReceiveAsync(100, TestTimeouts.Long);
        int connectionsBeforeCut = proxy.FirstBytes.Length;
        proxy.CutAll();
        await Task.WhenAll(sends).Within(TestTimeouts.Long);

        // A cut, unlike an orderly relay stop, can swallow the acknowledgement of a delivered message, which then
        // goes out again: at least once, so the first arrivals must be every number, in order.
        var received = before.Select(m => int.Parse(m.Data, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        while (received.Distinct().Count() < total)
            received.AddRange((await receiver.ReceiveAsync(1, TestTimeouts.Long)).Select(m => int.Parse(m.Data, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(Enumerable.Range(0, total), received.Distinct());
        Assert.Equal((senderId, 0L, 0), (sender.SessionId, sender.Reconnects, sender.BufferedCount));
        // The login and the first WebSocket may share one pooled connection; the cut must bring a new one.
        Assert.True(proxy.FirstBytes.Length > connectionsBeforeCut, "a new WebSocket after the cut");
    }

    [Fact]
    public async Task A_relay_that_goes_silent_trips_the_no_message_timeout_and_the_socket_is_reconnected()
    {
        await using var relay = await WebifiFixture.StartAsync();
        await using var proxy = LoopbackProxy.Start(relay.Port);
        var options = relay.ClientOptions(WebifiTransport.WebSocket, "net1") with
        {
            Server = proxy.Server("http"),
            KeepAliveInterval = TimeSpan.FromMilliseconds(200),
            ReplyTimeout = TimeSpan.FromSeconds(1),
        };
        // The login must answer within the short reply timeout too, which a loaded machine missed (load 50): tried
        // again until it does, since the test is about the silence that comes after it.
        var session = await Eventually.Succeeds(() => relay.ConnectAsync(options), TestTimeouts.Long, TestTimeouts.Short);
        var reconnecting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        session.StateChanged += (_, e) => { if (e.Current == DeviceSessionState.Reconnecting) reconnecting.TrySetResult(); };
        int sessionId = session.SessionId;

        // No FIN, no RST: the socket stays open and only the relay's answers (rt=k included) vanish.
        var silent = Stopwatch.StartNew();
        proxy.SilenceAll();
        await reconnecting.Task.Within(TestTimeouts.Short);
        // The library's no-message timeout is keep-alive interval + reply timeout (1.2 s), checked once a second.
        Assert.InRange(silent.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4));

        await session.SendTextAsync("heard again", toSessionIds: new[] { sessionId }).Within(TestTimeouts.Short);
        Assert.Equal("heard again", Assert.Single(await session.ReceiveAsync(1)).Data);
        Assert.Equal((sessionId, 0L), (session.SessionId, session.Reconnects));
    }

    private static List<DeviceSessionState> Record(WebifiSession session)
    {
        var states = new List<DeviceSessionState>();
        session.StateChanged += (_, e) => { lock (states) states.Add(e.Current); };
        return states;
    }
}

/// <summary>A server that answers with a body that never ends must not make the client hang or grow.</summary>
public class WebifiHostileServerTests
{
    private const int AnswerLimit = 64 * 1024;

    /// <summary>
    /// What the server can write before it blocks once the client stops reading: the limit plus both loopback socket
    /// buffers (a few MiB with Linux autotuning). A client reading without bound would take gigabytes in the same time.
    /// </summary>
    private const long WrittenBound = 32L * 1024 * 1024;

    [Theory]
    [InlineData("/", false, WebifiTransport.LongPolling)]
    [InlineData("/", true, WebifiTransport.LongPolling)]
    [InlineData("/Download", false, WebifiTransport.LongPolling)]
    [InlineData("/api/WebSocket", false, WebifiTransport.WebSocket)]
    public async Task An_endless_answer_is_a_protocol_error_within_bounded_memory_and_time(string endlessPath, bool declareLength, WebifiTransport transport)
    {
        await using var server = new EndlessAnswerServer(endlessPath, declareLength);
        var options = new WebifiConnectOptions
        {
            Server = server.Server,
            ConnectName = "webifi",
            ConnectPassword = WebifiFixture.Secure("pswd"),
            Networks = new[] { "net1" },
            Transport = transport,
            MaxAnswerBytes = AnswerLimit,
            ReplyTimeout = TimeSpan.FromSeconds(20),
        };
        var elapsed = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeviceException>(() => WebifiSession.ConnectAsync(options).Within(TestTimeouts.Long));
        Assert.Equal(("WebifiAnswerTooLarge", DeviceErrorKind.Protocol), (error.ErrorId, error.Kind));
        Assert.Contains($"longer than {AnswerLimit} bytes", error.Message, StringComparison.Ordinal);
        Assert.True(elapsed.Elapsed < options.ReplyTimeout / 2, $"took {elapsed.Elapsed}: the limit, not the timeout, must end the read");
        Assert.InRange(server.EndlessBytes, declareLength ? 0 : AnswerLimit, WrittenBound);
    }
}
