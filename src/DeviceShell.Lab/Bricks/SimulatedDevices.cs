using System.Buffers.Binary;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Lab.Bricks;

/// <summary>The devices of bricks-tfp.md §9 with plausible values, plus a generic device for any other identifier.</summary>
public static class SimulatedDevices
{
    private static readonly Version BrickletHardware = new(1, 0, 0);
    private static readonly Version BrickletFirmware = new(2, 0, 0);

    /// <summary>Creates a device for the identifier; unknown identifiers give a device that only answers the common functions.</summary>
    public static SimulatedBrickDevice Create(int deviceIdentifier, string uid, string connectedUid, char position) => deviceIdentifier switch
    {
        MasterBrick.Identifier => new SimulatedMasterBrick(uid, connectedUid, position),
        TemperatureBricklet.Identifier => new SimulatedTemperatureBricklet(uid, connectedUid, position),
        TemperatureV2Bricklet.Identifier => new SimulatedTemperatureV2Bricklet(uid, connectedUid, position),
        HumidityV2Bricklet.Identifier => new SimulatedHumidityV2Bricklet(uid, connectedUid, position),
        AmbientLightV3Bricklet.Identifier => new SimulatedAmbientLightV3Bricklet(uid, connectedUid, position),
        IndustrialDigitalIn4Bricklet.Identifier => new SimulatedDigitalIn4Bricklet(uid, connectedUid, position),
        IndustrialDigitalIn4V2Bricklet.Identifier => new SimulatedDigitalIn4V2Bricklet(uid, connectedUid, position),
        RgbLedButtonBricklet.Identifier => new SimulatedRgbLedButtonBricklet(uid, connectedUid, position),
        _ => new SimulatedGenericDevice(deviceIdentifier, uid, connectedUid, position),
    };

    /// <summary>The stack a lab starts with: a Master Brick with five Bricklets.</summary>
    public static IReadOnlyList<SimulatedBrickDevice> DefaultStack() => new SimulatedBrickDevice[]
    {
        new SimulatedMasterBrick("6qY", "0", '0'),
        new SimulatedTemperatureV2Bricklet("4ER", "6qY", 'a'),
        new SimulatedHumidityV2Bricklet("b1Q", "6qY", 'b'),
        new SimulatedAmbientLightV3Bricklet("Pdw", "6qY", 'c'),
        new SimulatedDigitalIn4V2Bricklet("Xyz", "6qY", 'd'),
        new SimulatedRgbLedButtonBricklet("23Qx", "6qY", 'e'),
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

    private sealed class SimulatedGenericDevice : SimulatedBrickDevice
    {
        public SimulatedGenericDevice(int identifier, string uid, string connectedUid, char position)
            : base(uid, connectedUid, position, identifier, BrickletHardware, BrickletFirmware) { }

        protected override bool IsBrick => BrickDeviceCatalog.Find(DeviceIdentifier)?.Category == "Brick";

        protected override DeviceAnswer? HandleFunction(byte functionId, byte[] payload) => null;
    }

    private sealed class SimulatedMasterBrick : SimulatedBrickDevice
    {
        public SimulatedMasterBrick(string uid, string connectedUid, char position)
            : base(uid, connectedUid, position, MasterBrick.Identifier, new Version(2, 1, 0), new Version(2, 5, 3)) { }

        protected override bool IsBrick => true;

        protected override DeviceAnswer? HandleFunction(byte functionId, byte[] payload) => functionId switch
        {
            1 => DeviceAnswer.UInt16((int)Drift(5020, 30, 40)),
            2 => DeviceAnswer.UInt16((int)Drift(180, 25, 25)),
            40 => DeviceAnswer.UInt16((int)Drift(5050, 20, 60)),
            _ => null,
        };
    }

    /// <summary>Temperature Bricklet (1.0): fid 2/3 set/get the TEMPERATURE (fid 8) period; fires only on change.</summary>
    private sealed class SimulatedTemperatureBricklet : SimulatedBrickDevice
    {
        private readonly PeriodicCallback _temperature;

        public SimulatedTemperatureBricklet(string uid, string connectedUid, char position)
            : base(uid, connectedUid, position, TemperatureBricklet.Identifier, new Version(1, 1, 0), new Version(2, 0, 4))
        {
            _temperature = AddCallback(TemperatureBricklet.CallbackTemperature, 2, true, Read, valueHasToChangeByDefault: true);
        }

        protected override bool HasCoProcessor => false;

        private static long Read() => (long)Drift(2315, 150, 120);

        protected override DeviceAnswer? HandleFunction(byte functionId, byte[] payload)
        {
            switch (functionId)
            {
                case 1: return DeviceAnswer.Int16((int)Read());
                case 2 when payload.Length == 4:
                    _temperature.SetPeriod(BinaryPrimitives.ReadUInt32LittleEndian(payload));
                    return DeviceAnswer.Empty;
                case 2: return DeviceAnswer.InvalidParameter;
                case 3: return DeviceAnswer.UInt32(_temperature.PeriodMs);
                default: return null;
            }
        }
    }

    /// <summary>Shape shared by the V2/V3 sensors: getter fid N, callback configuration N+1/N+2, callback N+3.</summary>
    private abstract class SimulatedV2Sensor : SimulatedBrickDevice
    {
        private readonly List<(byte Getter, PeriodicCallback Callback, Func<long> Read)> _values = new();

        protected SimulatedV2Sensor(string uid, string connectedUid, char position, int identifier)
            : base(uid, connectedUid, position, identifier, BrickletHardware, BrickletFirmware) { }

        protected void AddValue(byte getter, int valueBytes, bool signed, Func<long> read) =>
            _values.Add((getter, AddCallback((byte)(getter + 3), valueBytes, signed, read), read));

        protected override DeviceAnswer? HandleFunction(byte functionId, byte[] payload)
        {
            foreach (var (getter, callback, read) in _values)
            {
                if (functionId == getter) return payload.Length == 0 ? DeviceAnswer.Ok(callback.Encode(read())) : DeviceAnswer.InvalidParameter;
                if (functionId == getter + 1) return callback.Configure(payload);
                if (functionId == getter + 2) return callback.Configuration();
            }
            return HandleMore(functionId, payload);
        }

        protected virtual DeviceAnswer? HandleMore(byte functionId, byte[] payload) => null;
    }

    private sealed class SimulatedTemperatureV2Bricklet : SimulatedV2Sensor
    {
        public SimulatedTemperatureV2Bricklet(string uid, string connectedUid, char position)
            : base(uid, connectedUid, position, TemperatureV2Bricklet.Identifier) => AddValue(1, 2, true, () => (long)Drift(2240, 180, 90));
    }

    private sealed class SimulatedHumidityV2Bricklet : SimulatedV2Sensor
    {
        public SimulatedHumidityV2Bricklet(string uid, string connectedUid, char position)
            : base(uid, connectedUid, position, HumidityV2Bricklet.Identifier)
        {
            AddValue(1, 2, false, () => (long)Drift(4210, 600, 150));
            AddValue(5, 2, true, () => (long)Drift(2190, 120, 100));
        }
    }

    private sealed class SimulatedAmbientLightV3Bricklet : SimulatedV2Sensor
    {
        private byte _range = 3;
        private byte _integrationTime = 2;

        public SimulatedAmbientLightV3Bricklet(string uid, string connectedUid, char position)
            : base(uid, connectedUid, position, AmbientLightV3Bricklet.Identifier) => AddValue(1, 4, false, () => (long)Drift(45_000, 20_000, 60));

        protected override DeviceAnswer? HandleMore(byte functionId, byte[] payload)
        {
            switch (functionId)
            {
                case 5 when payload.Length == 2 && payload[0] <= 6 && payload[1] <= 7:
                    (_range, _integrationTime) = (payload[0], payload[1]);
                    return DeviceAnswer.Empty;
                case 5: return DeviceAnswer.InvalidParameter;
                case 6: return DeviceAnswer.Ok(_range, _integrationTime);
                default: return null;
            }
        }
    }

    private sealed class SimulatedDigitalIn4Bricklet : SimulatedBrickDevice
    {
        public SimulatedDigitalIn4Bricklet(string uid, string connectedUid, char position)
            : base(uid, connectedUid, position, IndustrialDigitalIn4Bricklet.Identifier, BrickletHardware, BrickletFirmware) { }

        protected override bool HasCoProcessor => false;

        protected override DeviceAnswer? HandleFunction(byte functionId, byte[] payload) =>
            functionId == 1 ? DeviceAnswer.UInt16((int)(Environment.TickCount64 / 1000 % 16)) : null;
    }

    /// <summary>Inputs count up once a second (a 4-bit counter) from plug-in, so edges accumulate while the lab runs.</summary>
    private sealed class SimulatedDigitalIn4V2Bricklet : SimulatedBrickDevice
    {
        private readonly long[] _edgeBase = new long[4];
        private readonly long _pluggedAtMs = Environment.TickCount64;

        public SimulatedDigitalIn4V2Bricklet(string uid, string connectedUid, char position)
            : base(uid, connectedUid, position, IndustrialDigitalIn4V2Bricklet.Identifier, BrickletHardware, BrickletFirmware) { }

        private long Seconds => (Environment.TickCount64 - _pluggedAtMs) / 1000;

        /// <summary>Input i toggles every 2^i seconds, so it has seen seconds / 2^i edges since it was plugged in (both directions counted).</summary>
        private long Edges(int channel) => Seconds >> channel;

        protected override DeviceAnswer? HandleFunction(byte functionId, byte[] payload)
        {
            switch (functionId)
            {
                case 1: return DeviceAnswer.Ok((byte)(Seconds % 16));
                case 6 when payload.Length == 2 && payload[0] <= 3:
                    long count = Edges(payload[0]) - _edgeBase[payload[0]];
                    if (payload[1] != 0) _edgeBase[payload[0]] = Edges(payload[0]);
                    return DeviceAnswer.UInt32(count);
                case 6: return DeviceAnswer.InvalidParameter;
                default: return null;
            }
        }
    }

    /// <summary>RGB LED Button: the colour is stored; the button is pressed and released through the Lab (press-button).</summary>
    public sealed class SimulatedRgbLedButtonBricklet : SimulatedBrickDevice
    {
        private readonly byte[] _color = new byte[3];
        private bool _pressed;

        public SimulatedRgbLedButtonBricklet(string uid, string connectedUid, char position)
            : base(uid, connectedUid, position, RgbLedButtonBricklet.Identifier, BrickletHardware, BrickletFirmware) { }

        /// <summary>Changes the button state; returns the BUTTON_STATE_CHANGED payload to broadcast, or null when nothing changed.</summary>
        public byte[]? SetPressed(bool pressed)
        {
            lock (_color)
            {
                if (_pressed == pressed) return null;
                _pressed = pressed;
                return new[] { pressed ? (byte)0 : (byte)1 };
            }
        }

        protected override DeviceAnswer? HandleFunction(byte functionId, byte[] payload)
        {
            lock (_color)
            {
                switch (functionId)
                {
                    case 1 when payload.Length == 3:
                        payload.CopyTo(_color, 0);
                        return DeviceAnswer.Empty;
                    case 1: return DeviceAnswer.InvalidParameter;
                    case 2: return DeviceAnswer.Ok((byte[])_color.Clone());
                    case 3: return DeviceAnswer.Ok(_pressed ? (byte)0 : (byte)1);
                    default: return null;
                }
            }
        }
    }
}
