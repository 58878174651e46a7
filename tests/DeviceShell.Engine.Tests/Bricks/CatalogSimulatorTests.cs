using System.Text.Json;
using DeviceShell.Engine.Bricks;
using DeviceShell.Lab.Bricks;

namespace DeviceShell.Engine.Tests.Bricks;

/// <summary>One device of every catalogued class in the simulator, called through our engine and through the official bindings.</summary>
public sealed class CatalogSimulatorTests
{
    /// <summary>A Master Brick at the bottom and one device of every other catalogued class on it, UIDs 1000, 1001, ...</summary>
    private static SimulatedBrickDevice[] EveryDevice() =>
        BrickDeviceCatalog.Types.Select((type, i) => SimulatedDevices.Create(type.Identifier, BrickUid.Encode((uint)(1000 + i)),
            type.Identifier == MasterBrick.Identifier ? "0" : BrickUid.Encode(1000 + (uint)IndexOfMaster()), type.Category == "Brick" ? '0' : 'z')).ToArray();

    private static int IndexOfMaster() => BrickDeviceCatalog.Types.Select((t, i) => (t, i)).First(p => p.t.Identifier == MasterBrick.Identifier).i;

    private static IEnumerable<BrickFunction> ArgumentlessGetters(BrickDeviceType type) => type.Functions.Where(f => f.Parameters.Count == 0 && f.Returns.Count > 0);

    [Fact]
    public void The_catalogue_has_every_device_of_the_bindings_with_functions_callbacks_and_constants()
    {
        Assert.StartsWith("npm tinkerforge 2.1.35, Tinkerforge/generators ", BrickDeviceCatalog.Source, StringComparison.Ordinal);
        Assert.Equal(148, BrickDeviceCatalog.Types.Count);
        Assert.Equal(3045, BrickDeviceCatalog.Types.Sum(t => t.Functions.Count));
        var temperature = BrickDeviceCatalog.Find("Temperature Bricklet 2.0")!;
        var configure = temperature.Function("set_temperature_callback_configuration")!;
        Assert.Equal((2, BrickResponseExpected.ByDefault, 10), (configure.Id, configure.ResponseExpected, configure.RequestPayloadLength));
        Assert.Equal(new[] { "Period", "ValueHasToChange", "Option", "Min", "Max" }, configure.Parameters.Select(p => p.Name));
        Assert.Equal(new[] { typeof(uint), typeof(bool), typeof(char), typeof(short), typeof(short) }, configure.Parameters.Select(p => p.ClrType));
        Assert.Equal('>', temperature.Constant("ThresholdOption", "Greater"));
        Assert.Equal(("Temperature", 4), (temperature.Callback(4)!.Values.Single().Name, (int)temperature.Callback("Temperature")!.Id));
        var digital = BrickDeviceCatalog.Find(IndustrialDigitalIn4V2Bricklet.Identifier)!;
        var getValue = digital.Function("GetValue")!;
        Assert.Equal((BrickWireType.Bool, 4, typeof(bool[]), 1), (getValue.Returns[0].Type, getValue.Returns[0].Count, getValue.Returns[0].ClrType, getValue.ResponsePayloadLength));
        Assert.Equal(BrickWireType.String, BrickDeviceCatalog.Find(13)!.Function("GetIdentity")!.Returns[0].Type);
    }

    [Fact]
    public void Payloads_pack_and_unpack_named_values_with_constants_by_name()
    {
        var configure = BrickDeviceCatalog.Find(TemperatureV2Bricklet.Identifier)!.Function("SetTemperatureCallbackConfiguration")!;
        byte[] payload = BrickPayload.Pack(configure.Parameters, new Dictionary<string, object?>
        {
            ["period"] = 100, ["ValueHasToChange"] = true, ["Option"] = "Outside", ["Min"] = -500, ["Max"] = "3000",
        });
        // period 100, true, 'o', -500, 3000, little endian.
        Assert.Equal("64000000" + "01" + "6F" + "0CFE" + "B80B", Convert.ToHexString(payload));
        var values = BrickPayload.Unpack(configure.Parameters, payload);
        Assert.Equal(new object?[] { 100u, true, 'o', (short)-500, (short)3000 }, values.Values);
        var bools = BrickValueSpec.Parse("Value", "?4", null);
        byte[] packed = new byte[1];
        BrickPayload.Write(bools, new[] { true, false, true, true }, packed);
        Assert.Equal(0b1101, packed[0]);
        Assert.Throws<ArgumentException>(() => BrickPayload.Pack(configure.Parameters, new Dictionary<string, object?> { ["Period"] = 1 }));
    }

    [Fact]
    public void Every_function_of_every_simulated_device_answers_with_the_right_length()
    {
        var failures = new List<string>();
        foreach (var device in EveryDevice())
        {
            foreach (var function in device.Type.Functions)
            {
                try
                {
                    var answer = device.Handle(function.Id, new byte[function.RequestPayloadLength]);
                    if (answer.ErrorCode == 0 && answer.Payload.Length != function.ResponsePayloadLength)
                        failures.Add($"{device} {function.Name}: {answer.Payload.Length} bytes instead of {function.ResponsePayloadLength}");
                }
                catch (Exception e) when (e is ArgumentException or InvalidCastException or FormatException or OverflowException)
                {
                    failures.Add($"{device} {function.Name}: {e.GetType().Name} {e.Message}");
                }
            }
            // A function id the device does not have.
            byte missing = Enumerable.Range(1, 250).Select(i => (byte)i).First(id => device.Type.Function(id) is null);
            if (device.Handle(missing, Array.Empty<byte>()).ErrorCode != 2) failures.Add($"{device} answers fid {missing}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Every_enable_disable_pair_of_every_simulated_device_is_read_back_by_its_is_enabled()
    {
        var failures = new List<string>();
        int pairs = 0;
        foreach (var device in EveryDevice())
        {
            foreach (var enable in device.Type.Functions.Where(f => f.Name.StartsWith("Enable", StringComparison.Ordinal) && f.Parameters.Count == 0 && f.Returns.Count == 0))
            {
                string subject = enable.Name["Enable".Length..];
                var disable = device.Type.Function("Disable" + subject);
                var query = device.Type.Function("Is" + subject + "Enabled");
                if (disable is null || query is null) continue;
                pairs++;
                foreach (var (call, expected) in new[] { (enable, (byte)1), (disable, (byte)0), (enable, (byte)1) })
                {
                    Assert.Equal(0, device.Handle(call.Id, Array.Empty<byte>()).ErrorCode);
                    var answer = device.Handle(query.Id, Array.Empty<byte>());
                    if (answer.ErrorCode != 0 || answer.Payload.Single() != expected) failures.Add($"{device} {call.Name} then {query.Name}: {Convert.ToHexString(answer.Payload)}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        // DC Enable/IsEnabled, Tilt EnableTiltStateCallback, the Bricks' EnableStatusLED, … (22 in the catalogue).
        Assert.True(pairs >= 20, $"only {pairs} pairs");
    }

    [Fact]
    public async Task The_device_type_of_a_uid_is_learned_once_per_session_and_forgotten_when_it_is_unplugged()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync(bed.Options(timeout: TimeSpan.FromMilliseconds(300)));
        uint thermometer = BrickUid.Parse("4ER");
        Assert.Null(session.KnownDeviceType(thermometer));
        Assert.Equal("Temperature Bricklet 2.0", (await session.GetDeviceTypeAsync(thermometer).Within()).Name);
        // A device that no longer answers still has its type: no second identity request is needed.
        bed.Daemon.Find("4ER")!.Silent = true;
        Assert.Equal(TemperatureV2Bricklet.Identifier, await session.GetDeviceIdentifierAsync(thermometer).Within());
        Assert.Equal(4, session.KnownDeviceType(thermometer)!.Callback("Temperature")!.Id);
        bed.Daemon.RemoveDevice("4ER");
        await Eventually.True(() => session.KnownDeviceType(thermometer) is null, what: "the unplugged device's type to be forgotten");
        Assert.Equal("RequestTimeout", (await Assert.ThrowsAsync<DeviceShell.Engine.Sessions.DeviceException>(() => session.GetDeviceIdentifierAsync(thermometer))).ErrorId);
    }

    [Fact]
    public async Task Every_argumentless_getter_of_every_catalogued_device_answers_through_the_engine()
    {
        await using var bed = await BrickFixture.StartAsync(devices: EveryDevice());
        var session = await bed.ConnectAsync();
        int calls = 0;
        var failures = new List<string>();
        foreach (var device in bed.Daemon.Devices)
        {
            // The catalogue's names, not the simulator's (which keys its state by the former, distinct names).
            foreach (var getter in ArgumentlessGetters(BrickDeviceCatalog.Find(device.DeviceIdentifier)!))
            {
                calls++;
                try
                {
                    var values = await session.InvokeAsync(device.UidValue, getter.Name).Within();
                    if (!values.Keys.SequenceEqual(getter.Returns.Select(r => r.Name))) failures.Add($"{device} {getter.Name}: returns {values}");
                }
                catch (Exception e) when (e is DeviceShell.Engine.Sessions.DeviceException or ArgumentException)
                {
                    failures.Add($"{device} {getter.Name}: {e.Message}");
                    if (failures.Count > 10) Assert.Fail(string.Join("\n", failures));
                }
            }
        }
        Assert.Empty(failures);
        Assert.Equal(BrickDeviceCatalog.Types.Sum(t => ArgumentlessGetters(t).Count()), calls);
        Assert.True(calls > 1400, $"only {calls} getters");
    }

    /// <summary>
    /// Every getter that takes arguments answers over the wire, asked with all-zero arguments (index 0, length 0, the
    /// first channel): with its values, or with the device's "invalid parameter" where zero is not a valid argument,
    /// as firmware answers; never a timeout or "not supported".
    /// </summary>
    [Fact]
    public async Task Every_getter_with_arguments_of_every_catalogued_device_answers_through_the_engine()
    {
        await using var bed = await BrickFixture.StartAsync(devices: EveryDevice());
        var session = await bed.ConnectAsync();
        int calls = 0, refused = 0;
        var failures = new List<string>();
        foreach (var device in bed.Daemon.Devices)
        {
            foreach (var getter in BrickDeviceCatalog.Find(device.DeviceIdentifier)!.Functions.Where(f => f.Parameters.Count > 0 && f.Returns.Count > 0))
            {
                calls++;
                try
                {
                    byte[] answer = await session.CallAsync(device.UidValue, getter.Id, new byte[getter.RequestPayloadLength], getter.ResponsePayloadLength).Within();
                    if (answer.Length != getter.ResponsePayloadLength) failures.Add($"{device} {getter.Name}: {answer.Length} bytes");
                }
                catch (DeviceShell.Engine.Sessions.DeviceException e) when (e.ErrorCode != BrickErrors.InvalidParameter)
                {
                    failures.Add($"{device} {getter.Name}: {e.ErrorId} {e.Message}");
                    if (failures.Count > 20) Assert.Fail(string.Join("\n", failures));
                }
                catch (DeviceShell.Engine.Sessions.DeviceException)
                {
                    // Zero is outside this getter's range: the device said so, which is an answer.
                    refused++;
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(calls > 200, $"only {calls} getters with arguments");
        Assert.True(refused < calls / 10, $"{refused} of {calls} getters refused all-zero arguments");
        Console.WriteLine($"getters with arguments: {calls}, refused zero: {refused}");
    }

    [TinkerforgeNodeFact]
    public void The_committed_catalogue_is_what_the_generator_makes_of_the_npm_package()
    {
        string catalog = Path.Combine(TestRepository.Root, "src", "DeviceShell.Engine", "Bricks", "Catalog");
        string regenerated = Path.Combine(Directory.CreateTempSubdirectory("deviceshell-catalog-").FullName, "brick-catalog.json");
        var (code, output, error) = TinkerforgeNode.Node(
            new[] { Path.Combine(catalog, "generate-catalog.mjs"), Path.Combine(TinkerforgeNode.Prefix, "node_modules", "tinkerforge"), regenerated },
            TimeSpan.FromMinutes(1));
        Assert.True(code == 0, $"the generator exited with {code}: {output} {error}");
        Assert.True(File.ReadAllText(Path.Combine(catalog, "brick-catalog.json")) == File.ReadAllText(regenerated),
            "brick-catalog.json is stale: run node src/DeviceShell.Engine/Bricks/Catalog/generate-catalog.mjs <unpacked tinkerforge package> and commit the result.");
    }

    [TinkerforgeNodeFact]
    public async Task Every_argumentless_getter_of_the_official_javascript_bindings_gets_an_answer()
    {
        await using var bed = await BrickFixture.StartAsync(devices: EveryDevice());
        var (code, output, error) = await Task.Run(() => TinkerforgeNode.Node(
            new[] { TinkerforgeNode.Script("call-every-getter.mjs"), TinkerforgeNode.Prefix, "127.0.0.1", bed.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            TimeSpan.FromMinutes(3)));
        Assert.True(code == 0, $"node exited with {code}: {output} {error}");
        using var result = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var root = result.RootElement;
        Assert.Equal("[]", root.GetProperty("failures").GetRawText());
        Assert.Equal(BrickDeviceCatalog.Types.Count, root.GetProperty("devices").GetInt32());
        Assert.Equal(root.GetProperty("calls").GetInt32(), root.GetProperty("answered").GetInt32());
        Assert.True(root.GetProperty("calls").GetInt32() > 1400, output);
    }

    [TinkerforgeNodeFact]
    public async Task The_official_javascript_bindings_high_level_stream_functions_work_against_the_lab()
    {
        string[] uids = { "LcD", "StR", "SeR", "ThX", "EnM" };
        string[] types = { "LCD 128x64 Bricklet", "LED Strip Bricklet 2.0", "RS232 Bricklet 2.0", "Thermal Imaging Bricklet", "Energy Monitor Bricklet" };
        await using var bed = await BrickFixture.StartAsync(devices: uids.Zip(types, (uid, type) => SimulatedDevices.Create(BrickDeviceCatalog.IdentifierOf(type)!.Value, uid, "0", 'a')).ToArray());
        bed.Daemon.SetInput("SeR", "Loopback", true);
        var (code, output, error) = await Task.Run(() => TinkerforgeNode.Node(
            new[] { TinkerforgeNode.Script("call-streams.mjs"), TinkerforgeNode.Prefix, "127.0.0.1", bed.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) }.Concat(uids),
            TimeSpan.FromMinutes(2)));
        Assert.True(code == 0, $"node exited with {code}: {output} {error}");
        using var result = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var calls = result.RootElement.EnumerateObject().ToArray();
        Assert.Equal(new[] { "writePixels_readPixels", "setLEDValues_getLEDValues", "write_read", "getTemperatureImage", "getWaveform" }, calls.Select(c => c.Name));
        Assert.All(calls, c => Assert.True(c.Value.GetProperty("ok").GetBoolean(), $"{c.Name}: {c.Value.GetRawText()}"));
    }
}
