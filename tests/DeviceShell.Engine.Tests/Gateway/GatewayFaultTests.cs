using System.Diagnostics;
using DeviceShell.Engine.Gateway;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Tests.Gateway;

/// <summary>The session against gateways that misbehave: a malformed status message, a slow answer, a peer gone silent.</summary>
public sealed class GatewayFaultTests
{
    [Fact]
    public async Task Malformed_status_message_resubscribes_with_a_gap_marker_and_disconnect_still_works()
    {
        await using var gateway = await HostileGateway.StartAsync();
        var session = await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = gateway.Port, CaCertificateFile = gateway.Certificates.CaFile, Timeout = TimeSpan.FromSeconds(5) }, CancellationToken.None).Within();
        try
        {
            var received = new List<GatewayStatusChange>();
            for (int i = 0; i < 3; i++)
            {
                var (taken, change) = await session.StatusChanges.TakeAsync(TestTimeouts.Short);
                Assert.True(taken, $"only {received.Count} status item(s) arrived: {string.Join(", ", received)}");
                received.Add(change);
            }
            Assert.Equal(1u, received[0].DeviceId);
            Assert.True(received[1].IsGap, $"expected the gap marker, got {received[1]}");
            Assert.Equal((2u, GatewayDeviceStatus.TcpConnected), (received[2].DeviceId, received[2].Status!.Value));
            Assert.Equal(1, session.Resubscriptions);
            Assert.Equal(DeviceSessionState.Connected, session.State);
        }
        finally
        {
            await session.DisposeAsync().AsTask().Within();
        }
        Assert.Equal(DeviceSessionState.Closed, session.State);
    }

    [Fact]
    public async Task Status_stream_that_is_malformed_every_time_is_resubscribed_with_back_off()
    {
        await using var gateway = await HostileGateway.StartAsync();
        gateway.MalformedEveryStream = true;
        await using var session = await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = gateway.Port, CaCertificateFile = gateway.Certificates.CaFile, Timeout = TimeSpan.FromSeconds(5) }, CancellationToken.None).Within();
        var watch = Stopwatch.StartNew();
        await Eventually.True(() => gateway.Subscriptions >= 3);
        await Task.Delay(TimeSpan.FromSeconds(8) - watch.Elapsed); // a measuring window, not a wait
        // 0.1 s doubling (±20 %): about 7 subscriptions in 8 s, where a retry 50 ms after each accepted stream made ~150.
        Assert.InRange(gateway.Subscriptions, 3, 9);
    }

    [Fact]
    public async Task Status_message_over_4_MiB_is_refused_by_default_and_accepted_when_the_limit_is_raised()
    {
        await using var gateway = await HostileGateway.StartAsync();
        gateway.OversizedChangeBytes = 5 * 1024 * 1024;
        await using (var bounded = await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = gateway.Port, CaCertificateFile = gateway.Certificates.CaFile, Timeout = TimeSpan.FromSeconds(5) }, CancellationToken.None).Within())
        {
            // The oversized change never arrives: the stream drops on it and the first thing the session reports is
            // the gap marker of its resubscription (posted once the second subscription's headers came back).
            var first = await GatewayFixture.NextAsync(bounded, _ => true);
            Assert.True(first.IsGap, $"expected the gap marker, got device {first.DeviceId}");
            Assert.Contains("larger than this session accepts", first.Message);
        }
        await using var raised = await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = gateway.Port, CaCertificateFile = gateway.Certificates.CaFile, Timeout = TimeSpan.FromSeconds(5), MaxReceiveMessageSize = 8 * 1024 * 1024 }, CancellationToken.None).Within();
        Assert.Equal(3u, (await GatewayFixture.NextAsync(raised, _ => true)).DeviceId);
    }

    [Fact]
    public async Task Call_past_its_deadline_fails_as_a_timeout()
    {
        await using var gateway = await HostileGateway.StartAsync();
        await using var session = await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = gateway.Port, CaCertificateFile = gateway.Certificates.CaFile, Timeout = TimeSpan.FromSeconds(5) }, CancellationToken.None).Within();
        gateway.DeviceListDelay = TimeSpan.FromSeconds(10);
        session.CallTimeout = TimeSpan.FromMilliseconds(300);
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.GetDevicesAsync(CancellationToken.None)).Within();
        Assert.Equal((DeviceErrorKind.Timeout, "GatewayDeadlineExceeded"), (error.Kind, error.ErrorId));
        Assert.True(watch.ElapsedMilliseconds < 3000, $"the deadline took {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Connect_check_does_not_list_the_devices()
    {
        // A gateway managing thousands of devices answers GetDeviceList slowly and at length; connecting must not ask for it.
        await using var gateway = await HostileGateway.StartAsync();
        gateway.DeviceListDelay = TimeSpan.FromSeconds(30);
        var connecting = Stopwatch.StartNew();
        await using var session = await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = gateway.Port, CaCertificateFile = gateway.Certificates.CaFile, Timeout = TimeSpan.FromSeconds(2) }, CancellationToken.None).Within();
        Assert.True(connecting.Elapsed < TimeSpan.FromSeconds(2), $"connecting took {connecting.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Every_session_on_a_shared_connection_notices_a_silent_gateway_and_resubscribes()
    {
        await using var lab = await GatewayFixture.StartAsync();
        await using var relay = SilentRelay.Start(lab.Endpoint.Port);
        var sessions = new List<GatewaySession>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                sessions.Add(await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = relay.Port, CaCertificateFile = lab.Endpoint.CaCertificate!, Timeout = TimeSpan.FromSeconds(2), KeepAlive = TimeSpan.FromSeconds(1) }, CancellationToken.None).Within());
            }
            await Eventually.True(() => lab.Simulator.Subscribers == 3);
            Assert.Equal(1, lab.Simulator.ConnectionsSeen);

            relay.GoSilent();
            await Eventually.True(() => sessions.All(s => s.State == DeviceSessionState.Reconnecting));
            relay.Resume();
            await Eventually.True(() => sessions.All(s => s.State == DeviceSessionState.Connected && s.Resubscriptions == 1), TestTimeouts.Long);
            foreach (var session in sessions)
            {
                Assert.True((await GatewayFixture.NextAsync(session, c => c.IsGap)).IsGap);
                Assert.NotEmpty(await session.SearchAsync(TimeSpan.Zero, CancellationToken.None).Within());
            }
        }
        finally
        {
            foreach (var session in sessions) await session.DisposeAsync().AsTask().Within();
        }
    }

    [Fact]
    public async Task Silent_gateway_is_detected_by_keepalive_pings_and_the_session_resubscribes_when_it_answers_again()
    {
        await using var lab = await GatewayFixture.StartAsync();
        await using var relay = SilentRelay.Start(lab.Endpoint.Port);
        // The pings (KeepAlive) notice the silence, not the call deadline: that one is a loaded machine's (the connect's
        // first call took over 2 s at load 50).
        var session = await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = relay.Port, CaCertificateFile = lab.Endpoint.CaCertificate!, Timeout = TestTimeouts.Short, KeepAlive = TimeSpan.FromSeconds(1) }, CancellationToken.None).Within(TestTimeouts.Long);
        try
        {
            // Idle for longer than the ping delay: answered pings keep the session connected.
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            Assert.Equal(DeviceSessionState.Connected, session.State);
            Assert.Equal(0, session.Resubscriptions);

            relay.GoSilent();
            var silent = Stopwatch.StartNew();
            await Eventually.True(() => session.State == DeviceSessionState.Reconnecting);
            Assert.True(silent.Elapsed < TimeSpan.FromSeconds(4.5), $"the silence was noticed after {silent.Elapsed.TotalSeconds:0.0} s");

            relay.Resume();
            await Eventually.True(() => session.State == DeviceSessionState.Connected && session.Resubscriptions == 1, TestTimeouts.Long);
            Assert.True((await GatewayFixture.NextAsync(session, c => c.IsGap)).IsGap);
            Assert.NotEmpty(await session.SearchAsync(TimeSpan.Zero, CancellationToken.None).Within());
        }
        finally
        {
            await session.DisposeAsync().AsTask().Within();
        }
    }
}
