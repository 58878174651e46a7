namespace DeviceShell.Engine.Bricks;

/// <summary>
/// Device identifier &lt;-&gt; display name for every Tinkerforge device the public bindings know
/// (identifiers as of the official bindings 2.1.35). Kept as a data table: one
/// "identifier name" per line, so adding a device is a one-line change.
/// </summary>
public static class BrickDeviceCatalog
{
    private const string Table = """
        11 DC Brick
        13 Master Brick
        14 Servo Brick
        15 Stepper Brick
        16 IMU Brick
        17 RED Brick
        18 IMU Brick 2.0
        19 Silent Stepper Brick
        21 Ambient Light Bricklet
        23 Current12 Bricklet
        24 Current25 Bricklet
        25 Distance IR Bricklet
        26 Dual Relay Bricklet
        27 Humidity Bricklet
        28 IO-16 Bricklet
        29 IO-4 Bricklet
        111 HAT Brick
        112 HAT Zero Brick
        113 ESP32 Brick
        115 ESP32 Ethernet Brick
        210 Joystick Bricklet
        211 LCD 16x2 Bricklet
        212 LCD 20x4 Bricklet
        213 Linear Poti Bricklet
        214 Piezo Buzzer Bricklet
        215 Rotary Poti Bricklet
        216 Temperature Bricklet
        217 Temperature IR Bricklet
        218 Voltage Bricklet
        219 Analog In Bricklet
        220 Analog Out Bricklet
        221 Barometer Bricklet
        222 GPS Bricklet
        223 Industrial Digital In 4 Bricklet
        224 Industrial Digital Out 4 Bricklet
        225 Industrial Quad Relay Bricklet
        226 PTC Bricklet
        227 Voltage/Current Bricklet
        228 Industrial Dual 0-20mA Bricklet
        229 Distance US Bricklet
        230 Dual Button Bricklet
        231 LED Strip Bricklet
        232 Moisture Bricklet
        233 Motion Detector Bricklet
        234 Multi Touch Bricklet
        235 Remote Switch Bricklet
        236 Rotary Encoder Bricklet
        237 Segment Display 4x7 Bricklet
        238 Sound Intensity Bricklet
        239 Tilt Bricklet
        240 Hall Effect Bricklet
        241 Line Bricklet
        242 Piezo Speaker Bricklet
        243 Color Bricklet
        244 Solid State Relay Bricklet
        246 NFC/RFID Bricklet
        249 Industrial Dual Analog In Bricklet
        250 Accelerometer Bricklet
        251 Analog In Bricklet 2.0
        253 Load Cell Bricklet
        254 RS232 Bricklet
        255 Laser Range Finder Bricklet
        256 Analog Out Bricklet 2.0
        258 Industrial Analog Out Bricklet
        259 Ambient Light Bricklet 2.0
        260 Dust Detector Bricklet
        262 CO2 Bricklet
        263 OLED 128x64 Bricklet
        264 OLED 64x48 Bricklet
        265 UV Light Bricklet
        266 Thermocouple Bricklet
        267 Motorized Linear Poti Bricklet
        268 Real-Time Clock Bricklet
        270 CAN Bricklet
        271 RGB LED Bricklet
        272 RGB LED Matrix Bricklet
        276 GPS Bricklet 2.0
        277 RS485 Bricklet
        278 Thermal Imaging Bricklet
        279 XMC1400 Breakout Bricklet
        282 RGB LED Button Bricklet
        283 Humidity Bricklet 2.0
        284 Industrial Dual Relay Bricklet
        285 DMX Bricklet
        286 NFC Bricklet
        288 Outdoor Weather Bricklet
        289 Remote Switch Bricklet 2.0
        290 Sound Pressure Level Bricklet
        291 Temperature IR Bricklet 2.0
        292 Motion Detector Bricklet 2.0
        293 Industrial Counter Bricklet
        294 Rotary Encoder Bricklet 2.0
        295 Analog In Bricklet 3.0
        296 Solid State Relay Bricklet 2.0
        297 Air Quality Bricklet
        298 LCD 128x64 Bricklet
        299 Distance US Bricklet 2.0
        2100 Industrial Digital In 4 Bricklet 2.0
        2101 PTC Bricklet 2.0
        2102 Industrial Quad Relay Bricklet 2.0
        2103 LED Strip Bricklet 2.0
        2104 Load Cell Bricklet 2.0
        2105 Voltage/Current Bricklet 2.0
        2106 Real-Time Clock Bricklet 2.0
        2107 CAN Bricklet 2.0
        2108 RS232 Bricklet 2.0
        2109 Thermocouple Bricklet 2.0
        2110 Particulate Matter Bricklet
        2111 IO-4 Bricklet 2.0
        2112 OLED 128x64 Bricklet 2.0
        2113 Temperature Bricklet 2.0
        2114 IO-16 Bricklet 2.0
        2115 Analog Out Bricklet 3.0
        2116 Industrial Analog Out Bricklet 2.0
        2117 Barometer Bricklet 2.0
        2118 UV Light Bricklet 2.0
        2119 Dual Button Bricklet 2.0
        2120 Industrial Dual 0-20mA Bricklet 2.0
        2121 Industrial Dual Analog In Bricklet 2.0
        2122 Isolator Bricklet
        2123 One Wire Bricklet
        2124 Industrial Digital Out 4 Bricklet 2.0
        2125 Distance IR Bricklet 2.0
        2127 RGB LED Bricklet 2.0
        2128 Color Bricklet 2.0
        2129 Multi Touch Bricklet 2.0
        2130 Accelerometer Bricklet 2.0
        2131 Ambient Light Bricklet 3.0
        2132 Hall Effect Bricklet 2.0
        2137 Segment Display 4x7 Bricklet 2.0
        2138 Joystick Bricklet 2.0
        2139 Linear Poti Bricklet 2.0
        2140 Rotary Poti Bricklet 2.0
        2144 Laser Range Finder Bricklet 2.0
        2145 Piezo Speaker Bricklet 2.0
        2146 E-Paper 296x128 Bricklet
        2147 CO2 Bricklet 2.0
        2152 Energy Monitor Bricklet
        2153 Compass Bricklet
        2156 Performance DC Bricklet
        2157 Servo Bricklet 2.0
        2161 IMU Bricklet 3.0
        2162 Industrial Dual AC Relay Bricklet
        2164 Industrial PTC Bricklet
        2165 DC Bricklet 2.0
        2166 Silent Stepper Bricklet 2.0
        2171 GPS Bricklet 3.0
        2174 Industrial Dual AC In Bricklet
        """;

    private static readonly Lazy<IReadOnlyList<BrickDeviceType>> All = new(Load);
    private static readonly Lazy<Dictionary<int, BrickDeviceType>> ById = new(() => All.Value.ToDictionary(t => t.Identifier));

    public static IReadOnlyList<BrickDeviceType> Types => All.Value;

    public static BrickDeviceType? Find(int identifier) => ById.Value.GetValueOrDefault(identifier);

    /// <summary>The display name, or "Unknown Device [n]" as the bindings say for identifiers they do not know.</summary>
    public static string DisplayName(int identifier) => Find(identifier)?.Name ?? $"Unknown Device [{identifier}]";

    /// <summary>The identifier of a display name (case-insensitive), or null.</summary>
    public static int? IdentifierOf(string name) =>
        All.Value.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))?.Identifier;

    private static IReadOnlyList<BrickDeviceType> Load() =>
        Table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', 2))
            .Select(parts => new BrickDeviceType(int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), parts[1]))
            .ToArray();
}
