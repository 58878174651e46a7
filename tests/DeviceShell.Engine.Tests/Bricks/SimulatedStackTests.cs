using System.Text.Json.Nodes;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Tests.Bricks;

/// <summary>The simulated devices: callback periods, thresholds, value-has-to-change, and the Lab control commands.</summary>
public class SimulatedStackTests
{
    private static async Task<List<BrickEvent>> CallbacksFor(BrickSession session, TimeSpan window)
    {
        var seen = new List<BrickEvent>();
        var end = DateTime.UtcNow + window;
        while (DateTime.UtcNow < end)
        {
            var (taken, item) = await session.Events.TakeAsync(end - DateTime.UtcNow > TimeSpan.Zero ? end - DateTime.UtcNow : TimeSpan.Zero);
            if (taken && item.Kind == BrickEventKind.Callback) seen.Add(item);
        }
        return seen;
    }

    [Fact]
    public async Task Callback_periods_are_honoured_and_zero_stops_them()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        var humidity = BrickUid.Parse("b1Q");
        // set_humidity_callback_configuration: 50 ms, value need not change, no threshold
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await session.CallAsync(humidity, 2, new byte[] { 50, 0, 0, 0, 0, (byte)'x', 0, 0, 0, 0 }, 0).Within();
        Assert.Equal(new byte[] { 50, 0, 0, 0, 0, (byte)'x', 0, 0, 0, 0 }, await session.CallAsync(humidity, 3, Array.Empty<byte>(), 10).Within());
        for (int i = 0; i < 5; i++)
        {
            var callback = await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Callback);
            Assert.Equal(("b1Q", (byte)4), (callback.Uid!, callback.FunctionId));
            Assert.InRange(BitConverter.ToUInt16(callback.Payload), 0, 10000);
        }
        // Five callbacks on a 50 ms grid cannot come sooner than 250 ms after the configuration (a busy machine only makes it later).
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(240), $"5 callbacks after {clock.ElapsedMilliseconds} ms");

        await session.CallAsync(humidity, 2, new byte[] { 0, 0, 0, 0, 0, (byte)'x', 0, 0, 0, 0 }, 0).Within();
        // One callback may still be on its way; after that the stream must go quiet.
        var deadline = DateTime.UtcNow + TestTimeouts.Short;
        while (true)
        {
            while (session.Events.TryTake(out _)) { }
            if ((await CallbacksFor(session, TimeSpan.FromMilliseconds(300))).Count == 0) break;
            Assert.True(DateTime.UtcNow < deadline, "callbacks went on after the period was set to 0");
        }
    }

    [Fact]
    public async Task A_threshold_that_cannot_be_met_sends_nothing_and_a_bad_option_is_invalid_parameter()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        var thermometer = BrickUid.Parse("4ER");
        // '>' 200 °C: never reached by the simulated room temperature.
        await session.CallAsync(thermometer, 2, new byte[] { 10, 0, 0, 0, 0, (byte)'>', 0x20, 0x4E, 0, 0 }, 0).Within();
        Assert.Empty(await CallbacksFor(session, TimeSpan.FromMilliseconds(300)));
        var bad = await Assert.ThrowsAsync<DeviceException>(() => session.CallAsync(thermometer, 2, new byte[] { 10, 0, 0, 0, 0, (byte)'?', 0, 0, 0, 0 }, 0));
        Assert.Equal("InvalidParameter", bad.ErrorId);
    }

    [Fact]
    public async Task The_first_generation_temperature_bricklet_uses_a_plain_period()
    {
        await using var bed = await BrickFixture.StartAsync();
        bed.Daemon.AddDevice(DeviceShell.Lab.Bricks.SimulatedDevices.Create(TemperatureBricklet.Identifier, "T1", "6qY", 'f'));
        var session = await bed.ConnectAsync();
        uint device = BrickUid.Parse("T1");
        await session.InvokeAsync(device, "SetTemperatureCallbackPeriod", new Dictionary<string, object?> { ["Period"] = 20 }).Within();
        Assert.Equal(20u, BitConverter.ToUInt32(await session.CallAsync(device, 3, Array.Empty<byte>(), 4).Within()));
        var callback = await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Callback);
        Assert.Equal(("T1", BrickDeviceCatalog.Find(TemperatureBricklet.Identifier)!.Callback("Temperature")!.Id), (callback.Uid!, callback.FunctionId));
        // No co-processor on a 1.0 Bricklet.
        Assert.Equal("FunctionNotSupported", (await Assert.ThrowsAsync<DeviceException>(() => session.CallAsync(device, TfpFunction.GetChipTemperature, Array.Empty<byte>(), 2))).ErrorId);
    }

    [Fact]
    public async Task Lab_commands_plug_list_press_and_refuse_clearly()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        var commands = LabCommandTable.For(bed.Daemon, "brick");
        var added = await commands.RunAsync(new AddBrickDevice("Zz9", 2100));
        Assert.Equal(("6qY", 'f'), (added.ConnectedUid, added.Position));
        Assert.Equal(7, (await commands.RunAsync(new ListBrickDevices())).Count);
        Assert.Equal(4, ((bool[])(await session.InvokeAsync(BrickUid.Parse("Zz9"), "GetValue").Within())["Value"]!).Length);

        await commands.RunAsync(new PressBrickButton("23Qx", Pressed: true));
        var press = await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Callback);
        Assert.Equal(("23Qx", (byte)0), (press.Uid!, press.Payload[0]));
        Assert.Equal((byte)0, (await session.InvokeAsync(BrickUid.Parse("23Qx"), "GetButtonState").Within())["ButtonState"]); // 0: pressed

        await Assert.ThrowsAsync<InvalidOperationException>(() => commands.RunAsync(new AddBrickDevice("Zz9", 13)));
        await Assert.ThrowsAsync<ArgumentException>(() => commands.RunAsync(new AddBrickDevice("0", 13)));
        await Assert.ThrowsAsync<ArgumentException>(() => commands.RunAsync(new RemoveBrickDevice("abc")));
        await Assert.ThrowsAsync<ArgumentException>(() => commands.DispatchAsync("explode", new JsonObject(), CancellationToken.None));
    }
}

/// <summary>The --brick-stack setting of the Lab.</summary>
public class SimulatedStackSettingTests
{
    [Fact]
    public async Task A_stack_setting_replaces_the_default_stack()
    {
        await using var daemon = new DeviceShell.Lab.Bricks.BrickDaemonSimulator();
        var settings = new Dictionary<string, string> { ["stack"] = "13:5aB:0:0, 2131:7Cd:5aB:c" };
        var endpoint = await daemon.StartAsync(DeviceShell.Lab.Hosting.LabSimulatorOptions.Loopback(settings: settings), CancellationToken.None).Within();
        await using var session = await BrickSession.ConnectAsync(new BrickConnectOptions { HostName = endpoint.Host, Port = endpoint.Port }).Within();
        var devices = await session.EnumerateAsync(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(100)).Within();
        Assert.Equal(new[] { "5aB", "7Cd" }, devices.Select(d => d.Uid).Order(StringComparer.Ordinal));
        Assert.Equal('c', devices.Single(d => d.Uid == "7Cd").Position);
    }

    [Fact]
    public async Task An_empty_stack_answers_nothing_like_brickd_without_hardware()
    {
        await using var daemon = new DeviceShell.Lab.Bricks.BrickDaemonSimulator();
        var endpoint = await daemon.StartAsync(DeviceShell.Lab.Hosting.LabSimulatorOptions.Loopback(settings: new Dictionary<string, string> { ["stack"] = "empty" }), CancellationToken.None).Within();
        await using var session = await BrickSession.ConnectAsync(new BrickConnectOptions { HostName = endpoint.Host, Port = endpoint.Port, Timeout = TimeSpan.FromMilliseconds(200) }).Within();
        Assert.Empty(await session.EnumerateAsync(TimeSpan.FromMilliseconds(300)).Within());
        Assert.Equal("RequestTimeout", (await Assert.ThrowsAsync<DeviceException>(() => session.GetIdentityAsync(BrickUid.Parse("6qY")))).ErrorId);
    }

    [Theory]
    [InlineData("13:6qY:0")]
    [InlineData("x:6qY:0:0")]
    [InlineData("13:0OO:0:0")]
    public void A_bad_stack_entry_is_refused_clearly(string stack) =>
        Assert.Contains("is not a stack entry", Assert.Throws<ArgumentException>(() => DeviceShell.Lab.Bricks.SimulatedDevices.ParseStack(stack)).Message, StringComparison.Ordinal);
}
