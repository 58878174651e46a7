using System.Diagnostics;
using System.Net;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Bricks;
using DeviceShell.Lab.Hosting;

namespace DeviceShell.Engine.Tests.Bricks;

/// <summary>The session against the Brick Daemon simulator over real loopback TCP.</summary>
public class BrickSessionTests
{
    private static readonly uint Master = BrickUid.Parse("6qY");
    private static readonly uint Thermometer = BrickUid.Parse("4ER");

    /// <summary>A getter's single return in its unit, as Invoke-BrickFunction gives it.</summary>
    private static async Task<double> Read(BrickSession session, string uid, string getter)
    {
        var function = (await session.GetDeviceTypeAsync(BrickUid.Parse(uid)).Within()).Function(getter)!;
        var values = BrickUnits.Readable(function.Returns, await session.InvokeAsync(BrickUid.Parse(uid), function, null).Within());
        return Convert.ToDouble(values.Values.Single(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Task<BrickValues> SetTemperatureCallbackPeriod(BrickSession session, uint periodMs) =>
        session.InvokeAsync(Thermometer, "SetTemperatureCallbackConfiguration", new Dictionary<string, object?> { ["Period"] = periodMs, ["ValueHasToChange"] = false, ["Option"] = "Off", ["Min"] = 0, ["Max"] = 0 }, true).Within();

    [Fact]
    public async Task Connects_and_reads_identity_and_values_by_name()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        Assert.Equal(BrickConnectionState.Connected, session.ConnectionState);

        var identity = await session.GetIdentityAsync(Thermometer).Within();
        Assert.Equal(("4ER", "6qY", 'a', 2113), (identity.Uid, identity.ConnectedUid, identity.Position, identity.DeviceIdentifier));
        Assert.Null(identity.EnumerationType);

        Assert.InRange(await Read(session, "6qY", "GetStackVoltage"), 4.5, 5.5);
        Assert.InRange(await Read(session, "6qY", "GetChipTemperature"), 20, 50);
        Assert.InRange(await Read(session, "4ER", "GetTemperature"), -45, 130);
        Assert.InRange(await Read(session, "b1Q", "GetHumidity"), 0, 100);
        Assert.InRange(await Read(session, "Pdw", "GetIlluminance"), 0, 100_000);
        Assert.Equal(4, ((bool[])(await session.InvokeAsync(BrickUid.Parse("Xyz"), "GetValue").Within())["Value"]!).Length);
        uint button = BrickUid.Parse("23Qx");
        await session.InvokeAsync(button, "SetColor", new Dictionary<string, object?> { ["Red"] = 10, ["Green"] = 20, ["Blue"] = 30 }).Within();
        Assert.Equal(new object?[] { (byte)10, (byte)20, (byte)30 }, (await session.InvokeAsync(button, "GetColor").Within()).Values);
    }

    [Fact]
    public async Task A_function_the_device_type_does_not_have_is_BrickUnknownFunction()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.InvokeAsync(Master, "GetTemperature"));
        Assert.Equal(("BrickUnknownFunction", DeviceErrorKind.NotFound), (error.ErrorId, error.Kind));
        Assert.Contains("A Master Brick has no function 'GetTemperature'", error.Message, StringComparison.Ordinal);
        // Cached: the second call fails the same way, and the session still works.
        Assert.Equal("BrickUnknownFunction", (await Assert.ThrowsAsync<DeviceException>(() => session.InvokeAsync(Master, "GetTemperature"))).ErrorId);
        Assert.Equal(13, (await session.GetIdentityAsync(Master).Within()).DeviceIdentifier);
    }

    [Fact]
    public async Task Enumerate_collects_the_stack_and_every_client_sees_the_callbacks()
    {
        await using var bed = await BrickFixture.StartAsync();
        var first = await bed.ConnectAsync();
        var second = await bed.ConnectAsync();
        var devices = await first.EnumerateAsync(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(100)).Within();
        Assert.Equal(new[] { "23Qx", "4ER", "6qY", "Pdw", "Xyz", "b1Q" }, devices.Select(d => d.Uid).Order(StringComparer.Ordinal));
        Assert.All(devices, d => Assert.Equal(BrickEnumerationType.Available, d.EnumerationType));
        // brickd broadcasts enumerate answers: the other client gets them too.
        var seen = await BrickFixture.NextEvent(second, e => e.Kind == BrickEventKind.Enumerate && e.Uid == "4ER");
        Assert.Equal("Temperature Bricklet 2.0", seen.Device!.DeviceName);
        Assert.Equal(6, first.KnownDevices.Count);

        var topology = BrickNode.Build(devices);
        var root = Assert.Single(topology);
        Assert.Equal("6qY", root.Uid);
        Assert.Equal(new[] { 'a', 'b', 'c', 'd', 'e' }, root.Children.Select(c => c.Position));
    }

    [Fact]
    public async Task Header_error_codes_and_lengths_become_clear_errors()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        var notSupported = await Assert.ThrowsAsync<DeviceException>(() => session.CallAsync(Thermometer, 77, Array.Empty<byte>()));
        Assert.Equal(("FunctionNotSupported", DeviceErrorKind.NotSupported), (notSupported.ErrorId, notSupported.Kind));
        var invalid = await Assert.ThrowsAsync<DeviceException>(() => session.CallAsync(Thermometer, 239, new byte[] { 9 }));
        Assert.Equal(("InvalidParameter", DeviceErrorKind.InvalidArgument), (invalid.ErrorId, invalid.Kind));
        var length = await Assert.ThrowsAsync<DeviceException>(() => session.CallAsync(Thermometer, 1, Array.Empty<byte>(), 4));
        Assert.Equal(("WrongResponseLength", DeviceErrorKind.Protocol), (length.ErrorId, length.Kind));
        // The raw form hands back the error code instead.
        var raw = await session.SendRequestAsync(Thermometer, 77, Array.Empty<byte>(), true).Within();
        Assert.Equal(2, raw!.Value.ErrorCode);
        var daemon = await session.SendRequestAsync(BrickUid.Daemon, 3, Array.Empty<byte>(), true).Within();
        Assert.Equal(2, daemon!.Value.ErrorCode);
    }

    [Fact]
    public async Task A_device_that_never_answers_times_out_and_the_session_goes_on()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.CallAsync(BrickUid.Parse("zzz"), 1, Array.Empty<byte>(), null, TimeSpan.FromMilliseconds(300)));
        Assert.Equal(("RequestTimeout", DeviceErrorKind.Timeout), (error.ErrorId, error.Kind));
        Assert.InRange(clock.ElapsedMilliseconds, 250, 10_000);

        bed.Daemon.Find("b1Q")!.Silent = true;
        session.Timeout = TimeSpan.FromMilliseconds(200);
        Assert.Equal("RequestTimeout", (await Assert.ThrowsAsync<DeviceException>(() => session.GetIdentityAsync(BrickUid.Parse("b1Q")))).ErrorId);
        Assert.Equal("4ER", (await session.GetIdentityAsync(Thermometer).Within()).Uid);
        Assert.Equal(BrickConnectionState.Connected, session.ConnectionState);
    }

    [Fact]
    public async Task Callbacks_arrive_in_order_through_the_queue_and_as_events()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        var viaEvent = new TaskCompletionSource<BrickEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.CallbackReceived += (_, e) => viaEvent.TrySetResult(e);

        var connected = await BrickFixture.NextEvent(session, _ => true);
        Assert.Equal((BrickEventKind.Connected, "Request"), (connected.Kind, connected.Reason));

        await SetTemperatureCallbackPeriod(session, 10);
        var callbacks = new List<BrickEvent>();
        while (callbacks.Count < 5)
            callbacks.Add(await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Callback));
        Assert.All(callbacks, c => Assert.Equal(("4ER", BrickDeviceCatalog.Find(TemperatureV2Bricklet.Identifier)!.Callback("Temperature")!.Id, 2), (c.Uid!, c.FunctionId, c.Payload.Length)));
        Assert.True(callbacks.Zip(callbacks.Skip(1)).All(p => p.First.ReceivedAt <= p.Second.ReceivedAt));
        var raised = await viaEvent.Task.Within();
        Assert.Equal("4ER", raised.Uid);

        await SetTemperatureCallbackPeriod(session, 0);
    }

    [Fact]
    public async Task Plugging_and_unplugging_send_connected_and_disconnected_enumerations()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        bed.Daemon.AddDevice(SimulatedDevices.Create(216, "Tmp", "6qY", 'f'));
        var plugged = await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Enumerate);
        Assert.Equal(("Tmp", BrickEnumerationType.Connected, "Temperature Bricklet"), (plugged.Device!.Uid, plugged.Device.EnumerationType!.Value, plugged.Device.DeviceName));
        Assert.Contains(session.KnownDevices, d => d.Uid == "Tmp");
        Assert.InRange(await Read(session, "Tmp", "GetTemperature"), -25, 85);

        Assert.True(bed.Daemon.RemoveDevice("Tmp"));
        var unplugged = await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Enumerate);
        Assert.Equal(("Tmp", BrickEnumerationType.Disconnected, 0), (unplugged.Device!.Uid, unplugged.Device.EnumerationType!.Value, unplugged.Device.DeviceIdentifier));
        Assert.DoesNotContain(session.KnownDevices, d => d.Uid == "Tmp");
    }

    [Fact]
    public async Task Authentication_with_the_right_secret_opens_device_traffic()
    {
        await using var bed = await BrickFixture.StartAsync(secret: "My Authentication Secret!");
        var session = await bed.ConnectAsync(bed.Options("My Authentication Secret!"));
        Assert.True(session.Authenticated);
        Assert.Equal("6qY", (await session.GetIdentityAsync(Master).Within()).Uid);

        // Without authentication the daemon silently drops device requests: a short timeout shows it; the requests
        // after the authentication get a loaded machine's time again.
        var unauthenticated = await bed.ConnectAsync();
        unauthenticated.Timeout = TimeSpan.FromMilliseconds(200);
        Assert.Equal("RequestTimeout", (await Assert.ThrowsAsync<DeviceException>(() => unauthenticated.GetIdentityAsync(Master))).ErrorId);
        unauthenticated.Timeout = TestTimeouts.Short;
        await unauthenticated.AuthenticateAsync("My Authentication Secret!").Within();
        Assert.Equal("6qY", (await unauthenticated.GetIdentityAsync(Master).Within()).Uid);
    }

    [Fact]
    public async Task A_wrong_secret_is_an_authentication_error_not_a_timeout()
    {
        await using var bed = await BrickFixture.StartAsync(secret: "right");
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeviceException>(() => BrickSession.ConnectAsync(bed.Options("wrong", TimeSpan.FromSeconds(10))));
        Assert.Equal(("AuthenticationFailed", DeviceErrorKind.Authentication), (error.ErrorId, error.Kind));
        Assert.DoesNotContain("wrong", error.Message.Replace("the secret is wrong", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "a wrong secret must not wait for the request timeout");
        // The daemon is fine afterwards.
        var session = await bed.ConnectAsync(bed.Options("right"));
        Assert.Equal("6qY", (await session.GetIdentityAsync(Master).Within()).Uid);
    }

    [Fact]
    public async Task Authenticating_against_a_daemon_without_authentication_fails_clearly()
    {
        await using var bed = await BrickFixture.StartAsync();
        var error = await Assert.ThrowsAsync<DeviceException>(() => BrickSession.ConnectAsync(bed.Options("secret")));
        Assert.Equal("AuthenticationFailed", error.ErrorId);
        Assert.Contains("authentication is disabled", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_non_ascii_secret_is_refused_before_anything_is_sent()
    {
        await using var bed = await BrickFixture.StartAsync(secret: "right");
        var error = await Assert.ThrowsAsync<DeviceException>(() => BrickSession.ConnectAsync(bed.Options("grüezi")));
        Assert.Equal(("NonAsciiSecret", DeviceErrorKind.InvalidArgument), (error.ErrorId, error.Kind));
        Assert.DoesNotContain("grüezi", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, bed.Daemon.ClientCount);
    }

    [Fact]
    public async Task Connecting_to_a_closed_port_is_a_connection_error()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var error = await Assert.ThrowsAsync<DeviceException>(() => BrickSession.ConnectAsync(new BrickConnectOptions { HostName = "127.0.0.1", Port = port }).Within());
        Assert.Equal(("ConnectionFailed", DeviceErrorKind.Connection), (error.ErrorId, error.Kind));
    }

    [Fact]
    public async Task Connects_over_IPv6()
    {
        if (!System.Net.Sockets.Socket.OSSupportsIPv6) return;
        await using var daemon = new BrickDaemonSimulator();
        var endpoint = await daemon.StartAsync(LabSimulatorOptions.Loopback() with { Address = IPAddress.IPv6Loopback }, CancellationToken.None).Within();
        await using var session = await BrickSession.ConnectAsync(new BrickConnectOptions { HostName = "::1", Port = endpoint.Port }).Within();
        Assert.Equal("[::1]:" + endpoint.Port, session.Endpoint);
        Assert.Equal("6qY", (await session.GetIdentityAsync(Master).Within()).Uid);
    }

    [Fact]
    public async Task Disconnect_on_request_reports_Request_and_does_not_reconnect()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        var disconnected = new TaskCompletionSource<BrickEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.Disconnected += (_, e) => disconnected.TrySetResult(e);
        await session.DisconnectAsync().Within();
        Assert.Equal("Request", (await disconnected.Task.Within()).Reason);
        Assert.Equal(BrickConnectionState.Disconnected, session.ConnectionState);
        Assert.Equal("NotConnected", (await Assert.ThrowsAsync<DeviceException>(() => session.GetIdentityAsync(Master))).ErrorId);
        await Task.Delay(200); // a window, not a wait: a reconnect would start in it
        Assert.Equal(BrickConnectionState.Disconnected, session.ConnectionState);
    }

    [Fact]
    public async Task Restarting_the_daemon_reconnects_reauthenticates_and_callbacks_flow_again()
    {
        const string secret = "s3cret";
        await using var bed = await BrickFixture.StartAsync(secret);
        var session = await bed.ConnectAsync(bed.Options(secret));
        await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Connected);

        await bed.RestartAsync(secret, TimeSpan.FromMilliseconds(300));
        var lost = await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Disconnected);
        Assert.Equal("Shutdown", lost.Reason);
        var back = await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Connected);
        Assert.Equal("AutoReconnect", back.Reason);
        Assert.Equal(BrickConnectionState.Connected, session.ConnectionState);
        Assert.Equal(1, session.Reconnects);

        // Device traffic only flows on an authenticated connection, so these prove the re-authentication.
        Assert.Equal("6qY", (await session.GetIdentityAsync(Master).Within()).Uid);
        await SetTemperatureCallbackPeriod(session, 10);
        var callback = await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Callback);
        Assert.Equal("4ER", callback.Uid);
    }

    [Fact]
    public async Task Without_auto_reconnect_a_lost_link_stays_down_until_it_is_turned_back_on()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync(bed.Options() with { AutoReconnect = false });
        await bed.RestartAsync();
        Assert.Equal("Shutdown", (await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Disconnected)).Reason);
        Assert.Equal(BrickConnectionState.Disconnected, session.ConnectionState);
        Assert.Equal("NotConnected", (await Assert.ThrowsAsync<DeviceException>(() => session.GetIdentityAsync(Master))).ErrorId);

        session.AutoReconnect = true;
        Assert.Equal("AutoReconnect", (await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Connected && e.Reason == "AutoReconnect")).Reason);
        Assert.Equal("6qY", (await session.GetIdentityAsync(Master).Within()).Uid);
    }

    [Fact]
    public async Task Eight_threads_on_one_session_all_get_their_own_answers()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        string[] uids = { "6qY", "4ER", "b1Q", "Pdw", "Xyz", "23Qx", "4ER", "6qY" };
        var workers = uids.Select(uid => Task.Run(async () =>
        {
            uint value = BrickUid.Parse(uid);
            for (int i = 0; i < 150; i++)
                Assert.Equal(uid, (await session.GetIdentityAsync(value)).Uid);
        }));
        await Task.WhenAll(workers).Within(TestTimeouts.Long);
        Assert.Equal(0, session.StaleResponses);
    }

    [Fact]
    public async Task A_full_event_queue_drops_the_oldest_and_counts_without_blocking_requests()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync(bed.Options() with { EventCapacity = 5 });
        await SetTemperatureCallbackPeriod(session, 1);
        await Eventually.True(() => session.DroppedEvents > 10, what: "dropped callbacks");
        Assert.InRange(session.Events.Count, 1, 5);
        Assert.Equal("4ER", (await session.GetIdentityAsync(Thermometer).Within()).Uid);
        await SetTemperatureCallbackPeriod(session, 0);
    }

    [Fact]
    public async Task An_idle_connection_sends_disconnect_probes()
    {
        await using var bed = await BrickFixture.StartAsync();
        await bed.ConnectAsync(bed.Options() with { DisconnectProbeInterval = TimeSpan.FromMilliseconds(50) });
        await Eventually.True(() => bed.Daemon.ProbesReceived >= 2, what: "disconnect probes");
    }
}
