using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Bricks;

namespace DeviceShell.Engine.Tests.Bricks;

/// <summary>
/// ALREADY_CONNECTED and DEVICE_REPLACED of the bindings in a session without device objects
/// (docs/design/decisions.md §20): a connect of a session that is connected or connecting, and calls made for a device
/// type that another type has since replaced at its UID.
/// </summary>
public class AlreadyConnectedAndReplacedTests
{
    [Fact]
    public async Task Connecting_a_connected_session_again_is_BrickAlreadyConnected_and_leaves_it_working()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.ConnectAsync(CancellationToken.None).Within());
        Assert.Equal(("BrickAlreadyConnected", DeviceErrorKind.ResourceExists, BrickErrors.AlreadyConnected), (error.ErrorId, error.Kind, error.ErrorCode));
        Assert.Contains("already connected", error.Message, StringComparison.Ordinal);
        Assert.Equal(DeviceSessionState.Connected, session.State);
        Assert.Equal(TemperatureV2Bricklet.Identifier, (await session.GetIdentityAsync(BrickUid.Parse("4ER")).Within()).DeviceIdentifier);
    }

    [Fact]
    public async Task Connecting_a_session_while_it_reconnects_is_BrickAlreadyConnected()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync(bed.Options() with { ReconnectInterval = TimeSpan.FromMinutes(5) });
        await bed.Daemon.DisposeAsync();
        await Eventually.True(() => session.State == DeviceSessionState.Reconnecting, what: "auto-reconnect after the daemon went away");
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.ConnectAsync(CancellationToken.None).Within());
        Assert.Equal("BrickAlreadyConnected", error.ErrorId);
        Assert.Contains("already connecting", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disconnected_session_connects_again_as_the_bindings_connect_after_disconnect()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync(bed.Options() with { AutoReconnect = false });
        await session.DisconnectAsync();
        Assert.Equal(DeviceSessionState.Disconnected, session.State);
        await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Disconnected);

        await session.ConnectAsync(CancellationToken.None).Within();

        Assert.Equal(DeviceSessionState.Connected, session.State);
        Assert.Equal("Request", (await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Connected)).Reason);
        Assert.Equal(TemperatureV2Bricklet.Identifier, (await session.GetIdentityAsync(BrickUid.Parse("4ER")).Within()).DeviceIdentifier);

        // A lost link with auto-reconnect off: connect brings it back the same way.
        await bed.RestartAsync();
        await Eventually.True(() => session.State == DeviceSessionState.Disconnected, what: "the loss of the link");
        await session.ConnectAsync(CancellationToken.None).Within();
        Assert.Equal(TemperatureV2Bricklet.Identifier, (await session.GetIdentityAsync(BrickUid.Parse("4ER")).Within()).DeviceIdentifier);
    }

    [Fact]
    public async Task A_closed_session_does_not_connect_again()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        await session.DisposeAsync();
        Assert.Equal("SessionClosed", (await Assert.ThrowsAsync<DeviceException>(() => session.ConnectAsync(CancellationToken.None).Within())).ErrorId);
    }

    [Fact]
    public async Task Calls_for_a_replaced_device_type_are_BrickDeviceReplaced_and_calls_by_name_reach_the_new_device()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        uint uid = BrickUid.Parse("4ER");
        var temperature = (await session.GetDeviceTypeAsync(uid).Within()).Function("GetTemperature")!;
        await session.InvokeAsync(uid, temperature, null).Within();

        bed.Daemon.AddDevice(SimulatedDevices.Create(HumidityV2Bricklet.Identifier, "4ER", "6qY", 'a'), replace: true);
        var announced = await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Enumerate && e.Uid == "4ER");
        Assert.Equal(HumidityV2Bricklet.Identifier, announced.Device!.DeviceIdentifier);

        var error = await Assert.ThrowsAsync<DeviceException>(() => session.InvokeAsync(uid, temperature, null).Within());
        Assert.Equal(("BrickDeviceReplaced", DeviceErrorKind.InvalidOperation, BrickErrors.DeviceReplaced), (error.ErrorId, error.Kind, error.ErrorCode));
        Assert.Contains("Humidity Bricklet 2.0", error.Message, StringComparison.Ordinal);
        Assert.Contains("Temperature Bricklet 2.0", error.Message, StringComparison.Ordinal);
        Assert.True((await session.InvokeAsync(uid, "GetHumidity").Within()).Count > 0);
        // A type that never had the UID is the bindings' WRONG_DEVICE_TYPE, not a replacement.
        var ambient = BrickDeviceCatalog.Find(AmbientLightV3Bricklet.Identifier)!.Function("GetIlluminance")!;
        Assert.Equal("WrongDeviceType", (await Assert.ThrowsAsync<DeviceException>(() => session.InvokeAsync(uid, ambient, null).Within())).ErrorId);

        // The old type coming back makes its calls valid again.
        bed.Daemon.AddDevice(SimulatedDevices.Create(TemperatureV2Bricklet.Identifier, "4ER", "6qY", 'a'), replace: true);
        await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Enumerate && e.Device!.DeviceIdentifier == TemperatureV2Bricklet.Identifier);
        await session.InvokeAsync(uid, temperature, null).Within();
    }

    [Fact]
    public async Task The_lab_refuses_a_taken_uid_unless_told_to_replace()
    {
        await using var bed = await BrickFixture.StartAsync();
        Assert.Throws<InvalidOperationException>(() => bed.Daemon.AddDevice(SimulatedDevices.Create(HumidityV2Bricklet.Identifier, "4ER", "6qY", 'a')));
        Assert.Equal(TemperatureV2Bricklet.Identifier, bed.Daemon.Find("4ER")!.DeviceIdentifier);
    }

    [Fact]
    public async Task A_call_waiting_when_the_daemon_announces_another_type_at_its_uid_ends_at_once_with_BrickDeviceReplaced()
    {
        const uint Uid = 12345;
        await using var peer = new HostilePeer(async (socket, _) =>
        {
            byte[] identity = await NextRequest(socket);
            await Answer(socket, identity, Device(TemperatureV2Bricklet.Identifier).ToPayload(null));
            byte[] call = await NextRequest(socket);
            // Instead of answering, the daemon announces that the UID is now another device type.
            await socket.SendAsync(new TfpPacket(Uid, TfpFunction.CallbackEnumerate, 0, true, 0,
                Device(HumidityV2Bricklet.Identifier).ToPayload(BrickEnumerationType.Connected)).ToBytes(), System.Net.Sockets.SocketFlags.None);
            await NextRequest(socket); // holds the connection open
        });
        await using var session = await BrickSession.ConnectAsync(new BrickConnectOptions { HostName = "127.0.0.1", Port = peer.Port, Timeout = TimeSpan.FromSeconds(10) }).Within();
        Assert.Equal(TemperatureV2Bricklet.Identifier, (await session.GetDeviceTypeAsync(Uid).Within()).Identifier);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.InvokeAsync(Uid, "GetTemperature").Within());

        Assert.Equal("BrickDeviceReplaced", error.ErrorId);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the call must end on the announcement, not at its 10 s timeout ({clock.Elapsed})");
        Assert.Equal(HumidityV2Bricklet.Identifier, session.KnownDeviceType(Uid)!.Identifier);

        static BrickDevice Device(int identifier) => new(BrickUid.Encode(Uid), "6qY", 'a', new Version(1, 0, 0), new Version(2, 0, 0), identifier, null);
    }

    /// <summary>
    /// The bindings' side of the same situations, against the Lab: connect() of a connected IP Connection is
    /// ALREADY_CONNECTED (11), a device object whose UID a newer object took is DEVICE_REPLACED (82), an object of the
    /// wrong class WRONG_DEVICE_TYPE (81). (They keep a device object's type check once it matched, so a daemon that
    /// announces another type at the UID goes unnoticed there; DeviceShell ends such calls with BrickDeviceReplaced.)
    /// </summary>
    [TinkerforgeNodeFact]
    public async Task The_official_bindings_raise_ALREADY_CONNECTED_and_DEVICE_REPLACED_in_the_same_situations()
    {
        await using var bed = await BrickFixture.StartAsync();
        var (code, output, error) = await Task.Run(() => TinkerforgeNode.Node(
            new[] { TinkerforgeNode.Script("already-connected-replaced.mjs"), TinkerforgeNode.Prefix, "127.0.0.1", bed.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "4ER", "b1Q" },
            TimeSpan.FromMinutes(1)));
        Assert.True(code == 0, $"node exited with {code}: {output} {error}");
        using var result = System.Text.Json.JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        string Outcome(string name) => result.RootElement.GetProperty(name) is var entry && entry.GetProperty("ok").GetBoolean() ? "ok" : entry.GetProperty("error").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(new[] { "11", "ok", "82", "ok", "81" }, new[] { "connectAgain", "firstObject", "replacedObject", "newObject", "wrongType" }.Select(Outcome));
    }

    /// <summary>The next request that is not the disconnect probe.</summary>
    private static async Task<byte[]> NextRequest(System.Net.Sockets.Socket socket)
    {
        while (true)
        {
            byte[] request = await HostilePeer.ReadRequestAsync(socket);
            if (request[5] != TfpFunction.DisconnectProbe) return request;
        }
    }

    private static async Task Answer(System.Net.Sockets.Socket socket, byte[] request, byte[] payload)
    {
        var response = new byte[8 + payload.Length];
        request.AsSpan(0, 8).CopyTo(response);
        response[4] = (byte)response.Length;
        payload.CopyTo(response, 8);
        await socket.SendAsync(response, System.Net.Sockets.SocketFlags.None);
    }
}
