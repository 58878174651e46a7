namespace DeviceShell.Engine.Bricks;

// The device identifiers of the devices the Lab's default stack and the documentation name. Everything else about a
// device (functions, callbacks, units) comes from the catalogue: BrickDeviceCatalog.Find(MasterBrick.Identifier).

/// <summary>The Master Brick (13): the Lab stack's base.</summary>
internal static class MasterBrick
{
    public const int Identifier = 13;
}

/// <summary>The Temperature Bricklet 1.0 (216).</summary>
internal static class TemperatureBricklet
{
    public const int Identifier = 216;
}

/// <summary>The Temperature Bricklet 2.0 (2113).</summary>
internal static class TemperatureV2Bricklet
{
    public const int Identifier = 2113;
}

/// <summary>The Ambient Light Bricklet 3.0 (2131).</summary>
internal static class AmbientLightV3Bricklet
{
    public const int Identifier = 2131;
}

/// <summary>The Humidity Bricklet 2.0 (283).</summary>
internal static class HumidityV2Bricklet
{
    public const int Identifier = 283;
}

/// <summary>The Industrial Digital In 4 Bricklet 1.0 (223).</summary>
internal static class IndustrialDigitalIn4Bricklet
{
    public const int Identifier = 223;
}

/// <summary>The Industrial Digital In 4 Bricklet 2.0 (2100).</summary>
internal static class IndustrialDigitalIn4V2Bricklet
{
    public const int Identifier = 2100;
}

/// <summary>The RGB LED Button Bricklet (282).</summary>
internal static class RgbLedButtonBricklet
{
    public const int Identifier = 282;
}
