using DeviceShell.Engine.Bricks;

namespace DeviceShell.Lab.Bricks;

/// <summary>Creates simulated devices from the catalogue and parses stack descriptions.</summary>
public static class SimulatedDevices
{
    private static readonly Version BrickletHardware = new(1, 0, 0);
    private static readonly Version BrickletFirmware = new(2, 0, 0);

    /// <summary>
    /// Creates a device of any catalogued identifier; an identifier the catalogue does not know gives a device that
    /// only answers get_identity (everything else is FUNCTION_NOT_SUPPORTED).
    /// </summary>
    public static SimulatedBrickDevice Create(int deviceIdentifier, string uid, string connectedUid, char position)
    {
        var type = BrickDeviceCatalog.Find(deviceIdentifier)
            ?? new BrickDeviceType(deviceIdentifier, BrickDeviceCatalog.DisplayName(deviceIdentifier), Array.Empty<BrickFunction>(), Array.Empty<BrickCallback>(), Array.Empty<BrickConstantGroup>());
        // The versions of the devices docs/design/bricks-tfp.md §9/§10 shows; the bindings' emulator defaults for the rest.
        var (hardware, firmware) = deviceIdentifier switch
        {
            MasterBrick.Identifier => (new Version(2, 1, 0), new Version(2, 5, 3)),
            TemperatureBricklet.Identifier => (new Version(1, 1, 0), new Version(2, 0, 4)),
            _ => (BrickletHardware, BrickletFirmware),
        };
        return new SimulatedBrickDevice(type, uid, connectedUid, position, hardware, firmware);
    }

    /// <summary>The stack a lab starts with: a Master Brick with five Bricklets.</summary>
    public static IReadOnlyList<SimulatedBrickDevice> DefaultStack() => new[]
    {
        Create(MasterBrick.Identifier, "6qY", "0", '0'),
        Create(TemperatureV2Bricklet.Identifier, "4ER", "6qY", 'a'),
        Create(HumidityV2Bricklet.Identifier, "b1Q", "6qY", 'b'),
        Create(AmbientLightV3Bricklet.Identifier, "Pdw", "6qY", 'c'),
        Create(IndustrialDigitalIn4V2Bricklet.Identifier, "Xyz", "6qY", 'd'),
        Create(RgbLedButtonBricklet.Identifier, "23Qx", "6qY", 'e'),
    };

    /// <summary>
    /// Parses a stack description: <c>empty</c> (no hardware: brickd then answers no device request),
    /// <c>default</c>, or comma-separated <c>identifier:uid:connectedUid:position</c> entries,
    /// e.g. <c>13:6qY:0:0,2113:4ER:6qY:a</c>.
    /// </summary>
    public static IReadOnlyList<SimulatedBrickDevice> ParseStack(string description)
    {
        if (description.Equals("empty", StringComparison.OrdinalIgnoreCase)) return Array.Empty<SimulatedBrickDevice>();
        if (description.Equals("default", StringComparison.OrdinalIgnoreCase)) return DefaultStack();
        var devices = new List<SimulatedBrickDevice>();
        foreach (string entry in description.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] parts = entry.Split(':');
            if (parts.Length != 4 || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int identifier)
                || parts[3].Length != 1 || !BrickUid.TryParse(parts[1], out _))
                throw new ArgumentException($"'{entry}' is not a stack entry; write identifier:uid:connectedUid:position, e.g. 2113:4ER:6qY:a.");
            devices.Add(Create(identifier, parts[1], parts[2], parts[3][0]));
        }
        return devices;
    }
}
