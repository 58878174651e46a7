namespace DeviceShell.Engine.Bricks;

/// <summary>A physical quantity the Lab simulates: raw value = reading in <see cref="Unit"/> × <see cref="Divisor"/>. Minimum, Maximum and Typical are in that unit.</summary>
internal sealed record BrickQuantity(int DeviceIdentifier, string Function, string Value, string Quantity, string Unit, double Divisor, double Minimum, double Maximum, double Typical);

/// <summary>
/// Scales, units and measuring ranges of common sensors (docs/design/bricks-tfp.md §9), which the catalogue does not carry.
/// The range is in the quantity's unit; the simulator keeps its readings inside it.
/// </summary>
internal static class BrickQuantities
{
    public static IReadOnlyList<BrickQuantity> All { get; } = new BrickQuantity[]
    {
        new(13, "GetStackVoltage", "StackVoltage", "Voltage", "V", 1000, 0, 27, 5.02),
        new(13, "GetStackCurrent", "StackCurrent", "Current", "A", 1000, 0, 6, 0.18),
        new(13, "GetUSBVoltage", "USBVoltage", "Voltage", "V", 1000, 0, 6, 5.05),
        new(216, "GetTemperature", "Temperature", "Temperature", "°C", 100, -25, 85, 23.15),
        new(2113, "GetTemperature", "Temperature", "Temperature", "°C", 100, -45, 130, 22.4),
        new(283, "GetHumidity", "Humidity", "Humidity", "%RH", 100, 0, 100, 42.1),
        new(283, "GetTemperature", "Temperature", "Temperature", "°C", 100, -40, 165, 21.9),
        new(2131, "GetIlluminance", "Illuminance", "Illuminance", "lx", 100, 0, 100_000, 450),
    };

    /// <summary>The quantity a function's return measures, or null when the table does not know it.</summary>
    public static BrickQuantity? Find(int deviceIdentifier, string function) =>
        All.FirstOrDefault(q => q.DeviceIdentifier == deviceIdentifier && string.Equals(q.Function, function, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The chip temperature every device reports through get_chip_temperature (function 242): Bricks in °C/10,
    /// co-processor Bricklets in °C (docs/design/bricks-tfp.md §3).
    /// </summary>
    public static BrickQuantity ChipTemperature(BrickDeviceType type) =>
        new(type.Identifier, "GetChipTemperature", "ChipTemperature", "Temperature", "°C", type.Category == "Brick" ? 10 : 1, -40, 125, 34);
}
