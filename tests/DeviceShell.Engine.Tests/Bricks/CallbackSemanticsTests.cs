using DeviceShell.Engine.Bricks;

namespace DeviceShell.Engine.Tests.Bricks;

/// <summary>
/// The simulated firmware's callback semantics, driven through catalogue names: period, value has to change,
/// threshold options, debounce, and event callbacks fired by inputs a script sets in the Lab.
/// </summary>
public sealed class CallbackSemanticsTests
{
    private const string Thermometer = "4ER";
    private const string Button = "23Qx";
    private const string DigitalIn = "Xyz";
    private const string Master = "6qY";

    private static Dictionary<string, object?> Arguments(params (string Name, object? Value)[] values) =>
        values.ToDictionary(v => v.Name, v => v.Value, StringComparer.OrdinalIgnoreCase);

    private static Task<BrickValues> Invoke(BrickSession session, string uid, string function, params (string Name, object? Value)[] arguments) =>
        session.InvokeAsync(BrickUid.Parse(uid), function, Arguments(arguments)).Within();

    /// <summary>The decoded callbacks named <paramref name="name"/> from <paramref name="uid"/> that arrive within <paramref name="window"/>.</summary>
    private static async Task<List<BrickValues>> Collect(BrickSession session, string uid, string name, TimeSpan window)
    {
        var seen = new List<BrickValues>();
        var deadline = DateTime.UtcNow + window;
        while (deadline - DateTime.UtcNow is { } left && left > TimeSpan.Zero)
        {
            var (taken, item) = await session.Events.TakeAsync(left);
            if (taken && item.Uid == uid && session.DecodeCallback(item) is { } decoded && decoded.Callback.Name == name)
                seen.Add(decoded.Values);
        }
        return seen;
    }

    /// <summary>Waits for the first callback named <paramref name="name"/> from <paramref name="uid"/> (whose values <paramref name="match"/>).</summary>
    private static async Task<BrickValues> Next(BrickSession session, string uid, string name, Func<BrickValues, bool>? match = null)
    {
        var item = await BrickFixture.NextEvent(session, e => e.Uid == uid && session.DecodeCallback(e) is { } decoded
            && decoded.Callback.Name == name && (match is null || match(decoded.Values)));
        return session.DecodeCallback(item)!.Values;
    }

    [Fact]
    public async Task A_sensor_callback_follows_period_thresholds_and_value_has_to_change()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        bed.Daemon.SetInput(Thermometer, "Temperature", 2000);
        Assert.Equal((short)2000, (await Invoke(session, Thermometer, "GetTemperature"))["Temperature"]);

        // '>' 25 °C while it is 20 °C: silence; at 30 °C: every period.
        await Invoke(session, Thermometer, "SetTemperatureCallbackConfiguration", ("Period", 20), ("ValueHasToChange", false), ("Option", "Greater"), ("Min", 2500), ("Max", 0));
        Assert.Equal('>', (await Invoke(session, Thermometer, "GetTemperatureCallbackConfiguration"))["Option"]);
        Assert.Empty(await Collect(session, Thermometer, "Temperature", TimeSpan.FromMilliseconds(300)));
        bed.Daemon.SetInput(Thermometer, "Temperature", 3000);
        // Waited for one by one (each wait bounded): a count in a fixed window would measure the machine's load.
        for (int period = 0; period < 3; period++)
            await Next(session, Thermometer, "Temperature", values => (short)values["Temperature"]! == 3000);

        // 'o' outside 10..25 °C: 20 °C is inside, so nothing; 'i' inside: it fires. (Callbacks of the previous
        // configuration may still be on their way; only callbacks with the new value count.)
        bed.Daemon.SetInput(Thermometer, "Temperature", 2000);
        await Invoke(session, Thermometer, "SetTemperatureCallbackConfiguration", ("Period", 20), ("ValueHasToChange", false), ("Option", "Outside"), ("Min", 1000), ("Max", 2500));
        var inside = await Collect(session, Thermometer, "Temperature", TimeSpan.FromMilliseconds(300));
        Assert.DoesNotContain(inside, c => (short)c["Temperature"]! == 2000);
        await Invoke(session, Thermometer, "SetTemperatureCallbackConfiguration", ("Period", 20), ("ValueHasToChange", false), ("Option", "Inside"), ("Min", 1000), ("Max", 2500));
        await Next(session, Thermometer, "Temperature", values => (short)values["Temperature"]! == 2000);

        // Value has to change: one callback for the steady value, then one per change. 26 °C is outside the
        // 'i' range above, so late callbacks of that configuration cannot carry it.
        bed.Daemon.SetInput(Thermometer, "Temperature", 2600);
        await Invoke(session, Thermometer, "SetTemperatureCallbackConfiguration", ("Period", 20), ("ValueHasToChange", true), ("Option", "Off"), ("Min", 0), ("Max", 0));
        await Next(session, Thermometer, "Temperature", values => (short)values["Temperature"]! == 2600);
        Assert.DoesNotContain(await Collect(session, Thermometer, "Temperature", TimeSpan.FromMilliseconds(300)), c => (short)c["Temperature"]! == 2600);
        bed.Daemon.SetInput(Thermometer, "Temperature", 2150);
        await Next(session, Thermometer, "Temperature", values => (short)values["Temperature"]! == 2150);
        Assert.DoesNotContain(await Collect(session, Thermometer, "Temperature", TimeSpan.FromMilliseconds(300)), c => (short)c["Temperature"]! == 2150);

        // An option that is not one of x o i < > is refused.
        await Assert.ThrowsAsync<DeviceShell.Engine.Sessions.DeviceException>(() =>
            Invoke(session, Thermometer, "SetTemperatureCallbackConfiguration", ("Period", 20), ("ValueHasToChange", true), ("Option", '?'), ("Min", 0), ("Max", 0)));
    }

    [Fact]
    public async Task A_button_press_set_in_the_lab_arrives_as_a_decoded_state_change()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        var states = BrickDeviceCatalog.Find(RgbLedButtonBricklet.Identifier)!.ConstantGroup("ButtonState")!;
        Assert.Equal("Released", states.NameOf((await Invoke(session, Button, "GetButtonState"))["ButtonState"]!));

        bed.Daemon.SetInput(Button, "ButtonState", "Pressed");
        Assert.Equal("Pressed", states.NameOf((await Next(session, Button, "ButtonStateChanged"))["ButtonState"]!));
        Assert.Equal("Pressed", states.NameOf((await Invoke(session, Button, "GetButtonState"))["ButtonState"]!));
        bed.Daemon.PressButton(Button, false);
        Assert.Equal("Released", states.NameOf((await Next(session, Button, "ButtonStateChanged"))["ButtonState"]!));
        // No change, no callback.
        bed.Daemon.PressButton(Button, false);
        Assert.Empty(await Collect(session, Button, "ButtonStateChanged", TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task A_digital_input_reports_which_channels_changed()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        await Invoke(session, DigitalIn, "SetAllValueCallbackConfiguration", ("Period", 20), ("ValueHasToChange", true));
        var first = await Next(session, DigitalIn, "AllValue");
        Assert.Equal(new bool[4], first["Value"]);

        bed.Daemon.SetInput(DigitalIn, "Value", new[] { false, true, false, true });
        var changed = await Next(session, DigitalIn, "AllValue");
        Assert.Equal(new[] { false, true, false, true }, changed["Value"]);
        Assert.Equal(new[] { false, true, false, true }, changed["ChangedValue"]);
        Assert.Equal(new[] { false, true, false, true }, (await Invoke(session, DigitalIn, "GetValue"))["Value"]);

        // The Lab's control command (stdin or Lab cmdlets) takes the same names and JSON values.
        await DeviceShell.Engine.Lab.LabCommandTable.For(bed.Daemon, "brick")
            .RunAsync(new DeviceShell.Engine.Lab.SetBrickInput(DigitalIn, "Value", new System.Text.Json.Nodes.JsonArray(true, true, false, true))).Within();
        Assert.Equal(new[] { true, false, false, false }, (await Next(session, DigitalIn, "AllValue"))["ChangedValue"]);
        Assert.Empty(await Collect(session, DigitalIn, "AllValue", TimeSpan.FromMilliseconds(300)));

        // One channel on its own: the VALUE callback of channel 2 reports only that channel's changes.
        await Invoke(session, DigitalIn, "SetAllValueCallbackConfiguration", ("Period", 0), ("ValueHasToChange", false));
        await Invoke(session, DigitalIn, "SetValueCallbackConfiguration", ("Channel", 2), ("Period", 20), ("ValueHasToChange", true));
        var channel = await Next(session, DigitalIn, "Value");
        Assert.Equal(((byte)2, false, false), ((byte)channel["Channel"]!, (bool)channel["ChangedValue"]!, (bool)channel["Value"]!));
        bed.Daemon.SetInput(DigitalIn, "Value", new[] { true, true, true, true });
        channel = await Next(session, DigitalIn, "Value");
        Assert.Equal(((byte)2, true, true), ((byte)channel["Channel"]!, (bool)channel["ChangedValue"]!, (bool)channel["Value"]!));
    }

    [Fact]
    public async Task The_master_brick_stack_voltage_callbacks_follow_period_threshold_and_debounce()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        bed.Daemon.SetInput(Master, "StackVoltage", 5000);

        // The 1.0-generation period callback fires only when the value changed.
        await Invoke(session, Master, "SetStackVoltageCallbackPeriod", ("Period", 20));
        Assert.Equal(20u, (await Invoke(session, Master, "GetStackVoltageCallbackPeriod"))["Period"]);
        Assert.Equal((ushort)5000, (await Next(session, Master, "StackVoltage"))["StackVoltage"]);
        Assert.Empty(await Collect(session, Master, "StackVoltage", TimeSpan.FromMilliseconds(300)));
        bed.Daemon.SetInput(Master, "StackVoltage", 5100);
        Assert.Equal((ushort)5100, (await Next(session, Master, "StackVoltage"))["StackVoltage"]);
        await Invoke(session, Master, "SetStackVoltageCallbackPeriod", ("Period", 0));

        // Threshold '<' 4.5 V: nothing at 5.1 V; below it, STACK_VOLTAGE_REACHED once per debounce period.
        await Invoke(session, Master, "SetDebouncePeriod", ("Debounce", 100));
        await Invoke(session, Master, "SetStackVoltageCallbackThreshold", ("Option", "Smaller"), ("Min", 4500), ("Max", 0));
        Assert.Empty(await Collect(session, Master, "StackVoltageReached", TimeSpan.FromMilliseconds(300)));
        bed.Daemon.SetInput(Master, "StackVoltage", 4000);
        // It repeats: four arrivals waited for one by one (a count in a fixed window would measure the machine's
        // load). Measured at the receiver, single gaps jitter with delivery; on average they are at least the debounce.
        var arrivals = new List<long>();
        for (int repeat = 0; repeat < 4; repeat++)
        {
            Assert.Equal((ushort)4000, (await Next(session, Master, "StackVoltageReached"))["StackVoltage"]);
            arrivals.Add(Environment.TickCount64);
        }
        double gap = (arrivals[^1] - arrivals[0]) / (double)(arrivals.Count - 1);
        Assert.True(gap >= 80, $"{gap} ms apart on average");
    }
}
