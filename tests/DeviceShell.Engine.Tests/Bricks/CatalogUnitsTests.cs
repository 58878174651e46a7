using System.Text.RegularExpressions;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Engine.Tests.Bricks;

/// <summary>
/// The catalogue names every value as the device configurations do, with its unit and scale, and keeps the constants'
/// names faithful to the bindings'; values are scaled to their units and back.
/// </summary>
public sealed class CatalogUnitsTests
{
    private static IEnumerable<(BrickDeviceType Type, string Packet, BrickValueSpec Value)> EveryValue() =>
        BrickDeviceCatalog.Types.SelectMany(t =>
            t.Functions.SelectMany(f => f.Parameters.Concat(f.Returns).Select(v => (t, f.Name, v)))
                .Concat(t.Callbacks.SelectMany(c => c.Values.Select(v => (t, c.Name + " callback", v)))));

    [Fact]
    public void No_return_or_callback_value_is_numbered_and_every_scaled_value_has_its_unit()
    {
        var numbered = EveryValue().Where(x => Regex.IsMatch(x.Value.Name, @"^Value\d+$")).Select(x => $"{x.Type.Name}.{x.Packet}.{x.Value.Name}").ToArray();
        Assert.True(numbered.Length == 0, $"{numbered.Length} numbered values, e.g. {string.Join(", ", numbered.Take(5))}");
        var unitless = EveryValue().Where(x => x.Value.Scale is not null && string.IsNullOrEmpty(x.Value.Unit)).Select(x => $"{x.Type.Name}.{x.Packet}.{x.Value.Name}").ToArray();
        Assert.True(unitless.Length == 0, $"{unitless.Length} scaled values without a unit, e.g. {string.Join(", ", unitless.Take(5))}");
        Assert.True(EveryValue().Count(x => x.Value.Scale is not null) > 1000);
        // The issue's examples: named as the bindings name them.
        Assert.Equal(new[] { "X", "Y", "Z" }, BrickDeviceCatalog.Find("Accelerometer Bricklet 2.0")!.Function("GetAcceleration")!.Returns.Select(r => r.Name));
        Assert.Equal(new[] { "ErrorCountAckChecksum", "ErrorCountMessageChecksum", "ErrorCountFrame", "ErrorCountOverflow" },
            BrickDeviceCatalog.Find("Temperature Bricklet 2.0")!.Function("GetSPITFPErrorCount")!.Returns.Select(r => r.Name));
        var temperature = BrickDeviceCatalog.Find("Temperature Bricklet 2.0")!.Function("GetTemperature")!.Returns[0];
        Assert.Equal(("Degree Celsius", new BrickScale(1, 100)), (temperature.Unit, temperature.Scale));
        Assert.Equal("Temperature: Int16 [Degree Celsius, raw × 1/100]", temperature.ToString());
    }

    [Fact]
    public void Constant_names_keep_their_decimal_point_and_round_trip_to_the_bindings_names()
    {
        var conversion = BrickDeviceCatalog.Find("Voltage/Current Bricklet 2.0")!.ConstantGroup("ConversionTime")!;
        Assert.Equal((4L, "CONVERSION_TIME_1_1MS"), ((long)conversion.Find("1.1ms")!.Value, conversion.Find("1.1ms")!.BindingsName));
        Assert.NotNull(BrickDeviceCatalog.Find("IMU Brick 2.0")!.ConstantGroup("AccelerometerBandwidth")!.Find("7.81hz"));
        var failures = new List<string>();
        foreach (var type in BrickDeviceCatalog.Types)
        {
            foreach (var group in type.Constants)
            {
                string prefix = Regex.Replace(group.Name, "(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_").ToUpperInvariant() + "_";
                foreach (var member in group.Members)
                {
                    // The bindings' name is the group's words, then the member's words, joined by underscores; a
                    // decimal point is an underscore there (1.1ms is 1_1MS).
                    string? key = member.BindingsName;
                    string spelled = member.Name.Replace(".", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToUpperInvariant();
                    if (key is null || !key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && !key.Replace("_", "", StringComparison.Ordinal).StartsWith(prefix.Replace("_", "", StringComparison.Ordinal), StringComparison.Ordinal)
                        || !key.Replace("_", "", StringComparison.Ordinal).EndsWith(spelled, StringComparison.Ordinal)
                        || !ReferenceEquals(group.Find(member.Name), member))
                    {
                        failures.Add($"{type.Name} {group.Name}.{member.Name} ({key})");
                    }
                }
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} constants do not round-trip, e.g. {string.Join(", ", failures.Take(5))}");
    }

    [Fact]
    public void Values_are_scaled_to_their_units_and_arguments_back_to_range_checked_integers()
    {
        var temperature = BrickDeviceCatalog.Find("Temperature Bricklet 2.0")!;
        var get = temperature.Function("GetTemperature")!;
        var raw = BrickPayload.Unpack(get.Returns, new byte[] { 0x29, 0x09 }); // 2345
        Assert.Equal(23.45, BrickUnits.Readable(get.Returns, raw)["Temperature"]);
        var configure = temperature.Function("SetTemperatureCallbackConfiguration")!;
        var arguments = BrickUnits.RawArguments(configure.Parameters, new Dictionary<string, object?> { ["Period"] = 1.5, ["Min"] = -5.25, ["Option"] = "Smaller" }, scaled: true);
        // Period in seconds, Min in °C; what was left out takes the configuration's default.
        Assert.Equal(new object?[] { 1500L, false, "Smaller", -525L, 0L }, configure.Parameters.Select(p => arguments[p.Name]));
        Assert.Equal(new object?[] { 1500, false, "Smaller", -525L, 0L },
            configure.Parameters.Select(p => BrickUnits.RawArguments(configure.Parameters, new Dictionary<string, object?> { ["Period"] = 1500, ["Min"] = -525L, ["Option"] = "Smaller" }, scaled: false)[p.Name]));
        var velocity = BrickDeviceCatalog.Find("DC Brick")!.Function("SetVelocity")!;
        var error = Assert.Throws<ArgumentException>(() => BrickUnits.RawArguments(velocity.Parameters, new Dictionary<string, object?> { ["Velocity"] = 150.0 }, scaled: true));
        Assert.Contains("-100 to 100 Percent", error.Message, StringComparison.Ordinal);
    }
}
