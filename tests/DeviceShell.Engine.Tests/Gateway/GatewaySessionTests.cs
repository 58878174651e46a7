using DeviceShell.Engine.Gateway;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Gateway;
using Google.Protobuf;
using Grpc.Core;
using Gsdk.Connect;

namespace DeviceShell.Engine.Tests.Gateway;

/// <summary>The engine client against the gateway simulator over real TLS + HTTP/2 on loopback.</summary>
public sealed class GatewaySessionTests
{
    private const uint BioEntryW2 = 544140286;
    private const uint BioStationL2 = 546835041;
    private const uint IncomingDevice = 939342898;

    [Fact]
    public async Task Search_finds_the_tutorial_subnet_after_the_search_time()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync();
        Assert.Equal(DeviceSessionState.Connected, session.State);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var found = await session.SearchAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None).Within();
        Assert.True(watch.ElapsedMilliseconds >= 280, $"the search answered after {watch.ElapsedMilliseconds} ms");
        Assert.Equal(4, found.Count);
        Assert.Contains(found, d => d.DeviceId == BioEntryW2 && d.Type == GatewayDeviceType.BioentryW2 && d.Port == 51211);
        Assert.Contains(found, d => d.Type == GatewayDeviceType.BioliteN2);
        Assert.Contains(found, d => d.DeviceId == IncomingDevice && d.ConnectionMode == GatewayConnectionMode.DeviceToServer);
    }

    [Fact]
    public async Task Slow_search_past_the_deadline_is_a_timeout_and_cancel_is_prompt()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync();
        using var channel = lab.OpenChannel();
        var slow = new SearchDeviceRequest { Timeout = 5000 };
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RpcException>(() => new Connect.ConnectClient(channel).SearchDeviceAsync(slow, deadline: DateTime.UtcNow.AddMilliseconds(200)).ResponseAsync).Within();
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.True(watch.ElapsedMilliseconds < 2000);

        using var cancel = new CancellationTokenSource(200);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => session.SearchAsync(TimeSpan.FromSeconds(5), cancel.Token)).Within();
    }

    [Fact]
    public async Task Sync_connect_lists_the_device_and_streams_its_status()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync();
        var raised = new TaskCompletionSource<GatewayStatusChange>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.StatusChanged += (_, change) => raised.TrySetResult(change);
        uint id = await session.ConnectDeviceAsync("192.168.0.110", 51211, false, CancellationToken.None).Within();
        Assert.Equal(BioEntryW2, id);
        Assert.Equal(id, (await raised.Task.Within()).DeviceId);
        var change = await GatewayFixture.NextAsync(session, c => c.DeviceId == id);
        Assert.Equal(GatewayDeviceStatus.TcpConnected, change.Status);
        var device = Assert.Single(await session.GetDevicesAsync(CancellationToken.None).Within());
        Assert.Equal((id, GatewayDeviceType.BioentryW2, false, GatewayDeviceStatus.TcpConnected), (device.DeviceId, device.Type, device.AutoReconnect, device.Status));

        var unreachable = await Assert.ThrowsAsync<DeviceException>(() => session.ConnectDeviceAsync("192.168.0.250", 51211, false, CancellationToken.None)).Within();
        Assert.Equal((DeviceErrorKind.Connection, "GatewayUnavailable"), (unreachable.Kind, unreachable.ErrorId));

        await session.DisconnectAllDevicesAsync(CancellationToken.None).Within();
        Assert.Equal(GatewayDeviceStatus.Disconnected, (await GatewayFixture.NextAsync(session, c => c.DeviceId == id)).Status);
        Assert.Empty(await session.GetDevicesAsync(CancellationToken.None).Within());
    }

    [Fact]
    public async Task All_calls_and_the_status_stream_share_one_HTTP2_connection()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync();
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => session.GetDevicesAsync(CancellationToken.None))).Within();
        await session.SearchAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None).Within();
        Assert.Equal(1, lab.Simulator.Subscribers);
        Assert.Equal(1, lab.Simulator.ConnectionsSeen);
    }

    [Fact]
    public async Task Sessions_to_one_gateway_share_one_connection_until_the_last_one_closes()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var sessions = new List<GatewaySession>();
        for (int i = 0; i < 3; i++) sessions.Add(await lab.ConnectAsync());
        await Eventually.True(() => lab.Simulator.Subscribers == 3);
        Assert.Equal(1, lab.Simulator.ConnectionsSeen);

        // Each session keeps its own status stream on the shared connection.
        uint id = await sessions[0].ConnectDeviceAsync("192.168.0.110", 51211, false, CancellationToken.None).Within();
        foreach (var session in sessions) Assert.Equal(GatewayDeviceStatus.TcpConnected, (await GatewayFixture.NextAsync(session, c => c.DeviceId == id)).Status);

        // Closing some sessions leaves the channel to the others; closing the last one closes the connection.
        await sessions[0].DisposeAsync();
        await sessions[1].DisposeAsync();
        Assert.Single(await sessions[2].GetDevicesAsync(CancellationToken.None).Within());
        await Eventually.True(() => lab.Simulator.Subscribers == 1);
        Assert.Equal(1, lab.Simulator.ConnectionsSeen);
        await sessions[2].DisposeAsync();
        var next = await lab.ConnectAsync();
        Assert.Single(await next.GetDevicesAsync(CancellationToken.None).Within());
        Assert.Equal(2, lab.Simulator.ConnectionsSeen);
    }

    [Fact]
    public async Task Status_buffer_is_bounded_in_bytes_as_well_as_items()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync(eventCapacity: 100_000, maxEventBytes: 8 * 96);
        await session.AddAsyncConnectionsAsync(new[] { new GatewayAsyncConnection(BioEntryW2, "192.168.0.110") }, CancellationToken.None).Within();
        for (int i = 0; i < 500; i++)
        {
            lab.Simulator.RemoveDevice(BioEntryW2);
            lab.Simulator.AddDevice(BioEntryW2, "BIOENTRY_W2", "192.168.0.110");
        }
        await Eventually.True(() => session.DroppedEvents > 0);
        Assert.True(session.StatusChanges.Count <= 8, $"{session.StatusChanges.Count} changes held");
        Assert.True(session.StatusChanges.Bytes <= 8 * 96, $"{session.StatusChanges.Bytes} bytes held");
    }

    [Fact]
    public async Task Unknown_device_id_is_NotFound()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync();
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.DisconnectDevicesAsync(new uint[] { 12345 }, CancellationToken.None)).Within();
        Assert.Equal((DeviceErrorKind.NotFound, "GatewayNotFound"), (error.Kind, error.ErrorId));
        Assert.Contains("12345", error.Message);
    }

    [Fact]
    public async Task Async_connection_reconnects_when_the_device_comes_back()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync();
        await session.AddAsyncConnectionsAsync(new[] { new GatewayAsyncConnection(BioStationL2, "192.168.0.104") }, CancellationToken.None).Within();
        Assert.Equal(GatewayDeviceStatus.TcpConnected, (await GatewayFixture.NextAsync(session, c => c.DeviceId == BioStationL2)).Status);
        Assert.True(Assert.Single(await session.GetDevicesAsync(CancellationToken.None).Within()).AutoReconnect);

        lab.Simulator.RemoveDevice(BioStationL2);
        Assert.Equal(GatewayDeviceStatus.Disconnected, (await GatewayFixture.NextAsync(session, c => c.DeviceId == BioStationL2)).Status);
        Assert.Equal(GatewayDeviceStatus.TcpCannotConnect, (await GatewayFixture.NextAsync(session, c => c.DeviceId == BioStationL2)).Status);
        lab.Simulator.AddDevice(BioStationL2, "BIOSTATION_L2", "192.168.0.104");
        Assert.Equal(GatewayDeviceStatus.TcpConnected, (await GatewayFixture.NextAsync(session, c => c.DeviceId == BioStationL2)).Status);

        await session.DeleteAsyncConnectionsAsync(new[] { BioStationL2 }, CancellationToken.None).Within();
        Assert.Empty(await session.GetDevicesAsync(CancellationToken.None).Within());
    }

    [Fact]
    public async Task Async_connection_to_a_device_that_appears_later_connects_then()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync();
        await session.AddAsyncConnectionsAsync(new[] { new GatewayAsyncConnection(800001, "192.168.0.180") }, CancellationToken.None).Within();
        Assert.Equal(GatewayDeviceStatus.TcpCannotConnect, (await GatewayFixture.NextAsync(session, c => c.DeviceId == 800001)).Status);
        lab.Simulator.AddDevice(800001, "FACESTATION_F2", "192.168.0.180");
        Assert.Equal(GatewayDeviceStatus.TcpConnected, (await GatewayFixture.NextAsync(session, c => c.DeviceId == 800001)).Status);
        Assert.Equal(GatewayDeviceType.FacestationF2, Assert.Single(await session.GetDevicesAsync(CancellationToken.None).Within()).Type);
    }

    [Fact]
    public async Task Device_to_server_device_waits_in_the_pending_list_until_the_filter_admits_it()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync();
        Assert.False((await session.GetAcceptFilterAsync(CancellationToken.None).Within()).AllowAll);
        // After a reconnect round the device has tried and been refused.
        var pending = await Eventually.Succeeds(async () => Assert.Single(await session.GetPendingDevicesAsync(CancellationToken.None)));
        Assert.Equal(IncomingDevice, pending.DeviceId);
        Assert.True(pending.LastTry > DateTime.Now.AddMinutes(-1));

        await session.SetAcceptFilterAsync(new GatewayAcceptFilter { DeviceId = new[] { IncomingDevice } }, CancellationToken.None).Within();
        Assert.Equal(new[] { IncomingDevice }, (await session.GetAcceptFilterAsync(CancellationToken.None).Within()).DeviceId);
        Assert.Equal(GatewayDeviceStatus.TcpConnected, (await GatewayFixture.NextAsync(session, c => c.DeviceId == IncomingDevice)).Status);
        var device = Assert.Single(await session.GetDevicesAsync(CancellationToken.None).Within());
        Assert.Equal((GatewayConnectionMode.DeviceToServer, false), (device.ConnectionMode, device.AutoReconnect));
        Assert.Empty(await session.GetPendingDevicesAsync(CancellationToken.None).Within());
    }

    [Fact]
    public async Task Multi_call_with_one_bad_device_changes_the_others_and_reports_per_device_errors()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync();
        await session.ConnectDeviceAsync("192.168.0.110", 51211, false, CancellationToken.None).Within();
        var errors = await session.SetSslAsync(new uint[] { BioEntryW2, 777 }, true, CancellationToken.None).Within();
        var error = Assert.Single(errors);
        Assert.Equal((777u, StatusCode.NotFound), (error.DeviceId, error.Code));
        Assert.Equal(DeviceErrorKind.NotFound, error.ToException().Kind);
        var found = await session.SearchAsync(TimeSpan.Zero, CancellationToken.None).Within();
        Assert.True(found.Single(d => d.DeviceId == BioEntryW2).UseSsl);

        Assert.Empty(await session.SetSslAsync(new uint[] { BioEntryW2 }, false, CancellationToken.None).Within());
        var notManaged = Assert.Single(await session.SetConnectionModeAsync(new uint[] { BioStationL2 }, GatewayConnectionMode.DeviceToServer, CancellationToken.None).Within());
        Assert.Equal(StatusCode.NotFound, notManaged.Code);
    }

    [Fact]
    public async Task Connection_mode_change_moves_the_device_to_the_pending_list()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync();
        await session.ConnectDeviceAsync("192.168.0.110", 51211, false, CancellationToken.None).Within();
        Assert.Empty(await session.SetConnectionModeAsync(new uint[] { BioEntryW2 }, GatewayConnectionMode.DeviceToServer, CancellationToken.None).Within());
        await Eventually.Succeeds(async () => Assert.Contains(await session.GetPendingDevicesAsync(CancellationToken.None), p => p.DeviceId == BioEntryW2));
    }

    [Fact]
    public async Task Slave_devices_need_a_connected_parent_and_round_trip()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync();
        var slaves = new[] { new GatewaySlaveDevice { DeviceId = BioEntryW2, Rs485SlaveDeviceId = new uint[] { 11, 12 }, WiegandSlaveDeviceId = new uint[] { 21 } } };
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.SetSlaveDevicesAsync(slaves, CancellationToken.None)).Within();
        Assert.Equal("GatewayNotFound", error.ErrorId);
        await session.ConnectDeviceAsync("192.168.0.110", 51211, false, CancellationToken.None).Within();
        await session.SetSlaveDevicesAsync(slaves, CancellationToken.None).Within();
        var read = Assert.Single(await session.GetSlaveDevicesAsync(CancellationToken.None).Within());
        Assert.Equal(new uint[] { 11, 12 }, read.Rs485SlaveDeviceId);
        Assert.Equal(new uint[] { 21 }, read.WiegandSlaveDeviceId);
    }

    [Fact]
    public async Task Wrong_or_missing_CA_file_and_closed_port_fail_clearly()
    {
        await using var lab = await GatewayFixture.StartAsync();
        using var other = GatewayCertificates.Create();
        var wrongCa = await Assert.ThrowsAsync<DeviceException>(() => GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = lab.Endpoint.Port, CaCertificateFile = other.CaFile, Timeout = TimeSpan.FromSeconds(5) }, CancellationToken.None)).Within();
        Assert.Equal((DeviceErrorKind.Connection, "GatewayTlsFailed"), (wrongCa.Kind, wrongCa.ErrorId));
        Assert.Contains("not issued by", wrongCa.Message);

        var missing = await Assert.ThrowsAsync<DeviceException>(() => GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = lab.Endpoint.Port, CaCertificateFile = "/nonexistent/ca.crt", Timeout = TimeSpan.FromSeconds(5) }, CancellationToken.None)).Within();
        Assert.Equal((DeviceErrorKind.NotFound, "CaCertificateNotFound"), (missing.Kind, missing.ErrorId));

        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int closedPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var notRunning = await Assert.ThrowsAsync<DeviceException>(() => GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = closedPort, CaCertificateFile = lab.Endpoint.CaCertificate!, Timeout = TimeSpan.FromSeconds(5) }, CancellationToken.None)).Within();
        Assert.Equal((DeviceErrorKind.Connection, "GatewayConnectionRefused"), (notRunning.Kind, notRunning.ErrorId));
    }

    [Fact]
    public async Task Server_certificate_without_the_dialled_name_is_refused()
    {
        await using var lab = await GatewayFixture.StartAsync(new Dictionary<string, string> { ["san"] = "gateway.example" });
        var error = await Assert.ThrowsAsync<DeviceException>(() => GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = lab.Endpoint.Port, CaCertificateFile = lab.Endpoint.CaCertificate!, Timeout = TimeSpan.FromSeconds(5) }, CancellationToken.None)).Within();
        Assert.Equal("GatewayTlsFailed", error.ErrorId);
        Assert.Contains("does not name '127.0.0.1'", error.Message);
    }

    [Fact]
    public async Task Gateway_killed_mid_stream_resubscribes_with_a_gap_marker()
    {
        using var certificates = GatewayCertificates.Create();
        var first = await GatewayFixture.StartAsync(certificates: certificates);
        int port = first.Endpoint.Port;
        var session = await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = port, CaCertificateFile = certificates.CaFile, Timeout = TimeSpan.FromSeconds(2) }, CancellationToken.None).Within();
        try
        {
            await first.DisposeAsync();
            await Eventually.True(() => session.State == DeviceSessionState.Reconnecting);
            await using var second = await GatewayFixture.StartAsync(certificates: certificates, port: port);
            var gap = await GatewayFixture.NextAsync(session, c => c.IsGap);
            Assert.Null(gap.Status);
            Assert.Equal(DeviceSessionState.Connected, session.State);
            Assert.True(session.Resubscriptions >= 1);
            await session.ConnectDeviceAsync("192.168.0.110", 51211, false, CancellationToken.None).Within();
            Assert.Equal(GatewayDeviceStatus.TcpConnected, (await GatewayFixture.NextAsync(session, c => c.DeviceId == BioEntryW2)).Status);
        }
        finally
        {
            await session.DisposeAsync().AsTask().Within();
        }
    }

    [Fact]
    public async Task Slow_status_consumer_drops_on_both_ends_without_growing()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync(eventCapacity: 8);
        await session.AddAsyncConnectionsAsync(new[] { new GatewayAsyncConnection(BioEntryW2, "192.168.0.110") }, CancellationToken.None).Within();
        for (int i = 0; i < 500; i++)
        {
            lab.Simulator.RemoveDevice(BioEntryW2);
            lab.Simulator.AddDevice(BioEntryW2, "BIOENTRY_W2", "192.168.0.110");
        }
        await Eventually.True(() => session.DroppedEvents > 0);
        Assert.True(session.StatusChanges.Count <= 8);

        // A raw subscriber that never reads: the gateway's queue for it fills and further changes are discarded.
        using var channel = lab.OpenChannel();
        using var stop = new CancellationTokenSource();
        using var call = new Connect.ConnectClient(channel).SubscribeStatus(new SubscribeStatusRequest { QueueSize = 4 }, cancellationToken: stop.Token);
        var first = call.ResponseStream.MoveNext(stop.Token);
        await Eventually.True(() => lab.Simulator.Subscribers == 2);
        long before = lab.Simulator.DroppedStatusChanges;
        for (int i = 0; i < 5000; i++)
        {
            lab.Simulator.RemoveDevice(BioEntryW2);
            lab.Simulator.AddDevice(BioEntryW2, "BIOENTRY_W2", "192.168.0.110");
        }
        await Eventually.True(() => lab.Simulator.DroppedStatusChanges > before);
        Assert.True(await first.Within());
        stop.Cancel();
        await Eventually.True(() => lab.Simulator.Subscribers == 1);
        var cancelled = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(stop.Token)).Within();
        Assert.Equal(StatusCode.Cancelled, cancelled.StatusCode);
    }

    [Fact]
    public async Task Frames_longer_than_the_maximum_message_size_are_refused_both_ways()
    {
        await using var lab = await GatewayFixture.StartAsync();
        var session = await lab.ConnectAsync(maxReceiveMessageSize: 64);
        var tooLong = await Assert.ThrowsAsync<DeviceException>(() => session.SearchAsync(TimeSpan.Zero, CancellationToken.None)).Within();
        Assert.Equal((DeviceErrorKind.ResourceUnavailable, "GatewayMessageTooLarge"), (tooLong.Kind, tooLong.ErrorId));

        // The server keeps gRPC's default receive limit of 4 MiB.
        using var channel = lab.OpenChannel();
        var huge = new SetAcceptFilterRequest { Filter = new AcceptFilter { IPAddrs = { new string('x', 4 * 1024 * 1024 + 10) } } };
        var refused = await Assert.ThrowsAsync<RpcException>(() => new Connect.ConnectClient(channel).SetAcceptFilterAsync(huge, deadline: DateTime.UtcNow.AddSeconds(5)).ResponseAsync).Within();
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
    }

    [Fact]
    public async Task Method_of_the_old_V1_0_package_is_Unimplemented()
    {
        await using var lab = await GatewayFixture.StartAsync();
        using var channel = lab.OpenChannel();
        var oldPackage = new Method<GetDeviceListRequest, GetDeviceListResponse>(MethodType.Unary, "connect.Connect", "GetDeviceList",
            Marshallers.Create(r => r.ToByteArray(), GetDeviceListRequest.Parser.ParseFrom), Marshallers.Create(r => r.ToByteArray(), GetDeviceListResponse.Parser.ParseFrom));
        var error = await Assert.ThrowsAsync<RpcException>(() => channel.CreateCallInvoker().AsyncUnaryCall(oldPackage, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(5)), new GetDeviceListRequest()).ResponseAsync).Within();
        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
    }
}
