using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// Base of the typed device wrappers, thin over the catalogue: they call functions by name and scale the readings
/// with <see cref="BrickQuantities"/>. Before a call the device type is checked against the wrapper's (as the bindings
/// do since 2.1.26) through the session's per-UID type cache: a mismatch fails with WrongDeviceType.
/// </summary>
public abstract class BrickDeviceClient
{
    protected BrickDeviceClient(BrickSession session, string uid, int deviceIdentifier)
    {
        Session = session ?? throw new ArgumentNullException(nameof(session));
        Uid = uid;
        UidValue = BrickUid.Parse(uid);
        Type = BrickDeviceCatalog.Find(deviceIdentifier) ?? throw new ArgumentOutOfRangeException(nameof(deviceIdentifier), deviceIdentifier, "The catalogue has no such device.");
    }

    public BrickSession Session { get; }

    public string Uid { get; }

    public uint UidValue { get; }

    public BrickDeviceType Type { get; }

    public int DeviceIdentifier => Type.Identifier;

    public string DeviceName => Type.Name;

    /// <summary>Throws WrongDeviceType (InvalidArgument) when the UID belongs to another device; asks the device at most once per session.</summary>
    public async Task EnsureDeviceTypeAsync(CancellationToken cancellationToken = default)
    {
        int actual = await Session.GetDeviceIdentifierAsync(UidValue, cancellationToken).ConfigureAwait(false);
        if (actual != DeviceIdentifier)
            throw BrickErrors.Create(DeviceErrorKind.InvalidArgument, "WrongDeviceType",
                $"UID {Uid} belongs to a {BrickDeviceCatalog.DisplayName(actual)} instead of the expected {DeviceName}.", Uid);
    }

    /// <summary>Calls a function of this device by name with named arguments, after the type check.</summary>
    protected async Task<BrickValues> InvokeAsync(string function, CancellationToken cancellationToken, IReadOnlyDictionary<string, object?>? arguments = null)
    {
        await EnsureDeviceTypeAsync(cancellationToken).ConfigureAwait(false);
        var spec = Type.Function(function) ?? throw new InvalidOperationException($"The catalogue's {DeviceName} has no function {function}.");
        return await Session.InvokeAsync(UidValue, spec, arguments, true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The single return of a getter as a number.</summary>
    protected async Task<long> ReadAsync(string function, CancellationToken cancellationToken) =>
        Convert.ToInt64((await InvokeAsync(function, cancellationToken).ConfigureAwait(false)).Values.Single(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The single return of a getter in the unit of <see cref="BrickQuantities"/>.</summary>
    protected async Task<double> ReadQuantityAsync(string function, CancellationToken cancellationToken)
    {
        var quantity = function == "GetChipTemperature" ? BrickQuantities.ChipTemperature(Type)
            : BrickQuantities.Find(DeviceIdentifier, function) ?? throw new InvalidOperationException($"No scale is known for {DeviceName}.{function}.");
        return quantity.Scale(await ReadAsync(function, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Creates the typed wrapper for a device identifier that has one, or null.</summary>
    public static BrickDeviceClient? Create(BrickSession session, string uid, int deviceIdentifier) => deviceIdentifier switch
    {
        MasterBrick.Identifier => new MasterBrick(session, uid),
        TemperatureBricklet.Identifier => new TemperatureBricklet(session, uid),
        TemperatureV2Bricklet.Identifier => new TemperatureV2Bricklet(session, uid),
        AmbientLightV3Bricklet.Identifier => new AmbientLightV3Bricklet(session, uid),
        HumidityV2Bricklet.Identifier => new HumidityV2Bricklet(session, uid),
        IndustrialDigitalIn4Bricklet.Identifier => new IndustrialDigitalIn4Bricklet(session, uid),
        IndustrialDigitalIn4V2Bricklet.Identifier => new IndustrialDigitalIn4V2Bricklet(session, uid),
        RgbLedButtonBricklet.Identifier => new RgbLedButtonBricklet(session, uid),
        _ => null,
    };

    protected static Dictionary<string, object?> Arguments(params (string Name, object? Value)[] values) =>
        values.ToDictionary(v => v.Name, v => v.Value, StringComparer.OrdinalIgnoreCase);

    /// <summary>A callback's function id, from the catalogue.</summary>
    protected static byte CallbackId(int deviceIdentifier, string name) => BrickDeviceCatalog.Find(deviceIdentifier)!.Callback(name)!.Id;
}

/// <summary>A device that measures temperature; the wrappers report °C.</summary>
public interface IBrickThermometer
{
    Task<double> GetTemperatureAsync(CancellationToken cancellationToken = default);
}

public sealed class MasterBrick : BrickDeviceClient, IBrickThermometer
{
    public const int Identifier = 13;

    public MasterBrick(BrickSession session, string uid) : base(session, uid, Identifier) { }

    /// <summary>mV.</summary>
    public async Task<int> GetStackVoltageAsync(CancellationToken cancellationToken = default) => (int)await ReadAsync("GetStackVoltage", cancellationToken).ConfigureAwait(false);

    /// <summary>mA.</summary>
    public async Task<int> GetStackCurrentAsync(CancellationToken cancellationToken = default) => (int)await ReadAsync("GetStackCurrent", cancellationToken).ConfigureAwait(false);

    /// <summary>mV.</summary>
    public async Task<int> GetUsbVoltageAsync(CancellationToken cancellationToken = default) => (int)await ReadAsync("GetUSBVoltage", cancellationToken).ConfigureAwait(false);

    /// <summary>The chip temperature.</summary>
    public Task<double> GetTemperatureAsync(CancellationToken cancellationToken = default) => ReadQuantityAsync("GetChipTemperature", cancellationToken);
}

public sealed class TemperatureBricklet : BrickDeviceClient, IBrickThermometer
{
    public const int Identifier = 216;

    public TemperatureBricklet(BrickSession session, string uid) : base(session, uid, Identifier) { }

    public static byte CallbackTemperature => CallbackId(Identifier, "Temperature");

    public Task<double> GetTemperatureAsync(CancellationToken cancellationToken = default) => ReadQuantityAsync("GetTemperature", cancellationToken);

    /// <summary>TEMPERATURE callback every <paramref name="periodMs"/> ms while the value changes; 0 turns it off.</summary>
    public Task SetTemperatureCallbackPeriodAsync(uint periodMs, CancellationToken cancellationToken = default) =>
        InvokeAsync("SetTemperatureCallbackPeriod", cancellationToken, Arguments(("Period", periodMs)));
}

public sealed class TemperatureV2Bricklet : BrickDeviceClient, IBrickThermometer
{
    public const int Identifier = 2113;

    public TemperatureV2Bricklet(BrickSession session, string uid) : base(session, uid, Identifier) { }

    public static byte CallbackTemperature => CallbackId(Identifier, "Temperature");

    public Task<double> GetTemperatureAsync(CancellationToken cancellationToken = default) => ReadQuantityAsync("GetTemperature", cancellationToken);

    /// <summary>TEMPERATURE callback every <paramref name="periodMs"/> ms, without thresholds.</summary>
    public Task SetTemperatureCallbackConfigurationAsync(uint periodMs, bool valueHasToChange, CancellationToken cancellationToken = default) =>
        InvokeAsync("SetTemperatureCallbackConfiguration", cancellationToken,
            Arguments(("Period", periodMs), ("ValueHasToChange", valueHasToChange), ("Option", "Off"), ("Min", 0), ("Max", 0)));
}

public sealed class AmbientLightV3Bricklet : BrickDeviceClient
{
    public const int Identifier = 2131;

    public AmbientLightV3Bricklet(BrickSession session, string uid) : base(session, uid, Identifier) { }

    /// <summary>lux.</summary>
    public Task<double> GetIlluminanceAsync(CancellationToken cancellationToken = default) => ReadQuantityAsync("GetIlluminance", cancellationToken);

    /// <summary>Illuminance range and integration time codes.</summary>
    public async Task<(int Range, int IntegrationTime)> GetConfigurationAsync(CancellationToken cancellationToken = default)
    {
        var values = await InvokeAsync("GetConfiguration", cancellationToken).ConfigureAwait(false);
        return ((byte)values["IlluminanceRange"]!, (byte)values["IntegrationTime"]!);
    }
}

public sealed class HumidityV2Bricklet : BrickDeviceClient, IBrickThermometer
{
    public const int Identifier = 283;

    public HumidityV2Bricklet(BrickSession session, string uid) : base(session, uid, Identifier) { }

    /// <summary>%RH.</summary>
    public Task<double> GetHumidityAsync(CancellationToken cancellationToken = default) => ReadQuantityAsync("GetHumidity", cancellationToken);

    public Task<double> GetTemperatureAsync(CancellationToken cancellationToken = default) => ReadQuantityAsync("GetTemperature", cancellationToken);
}

public sealed class IndustrialDigitalIn4Bricklet : BrickDeviceClient
{
    public const int Identifier = 223;

    public IndustrialDigitalIn4Bricklet(BrickSession session, string uid) : base(session, uid, Identifier) { }

    /// <summary>Bit i = input i.</summary>
    public async Task<int> GetValueAsync(CancellationToken cancellationToken = default) => (int)await ReadAsync("GetValue", cancellationToken).ConfigureAwait(false);
}

public sealed class IndustrialDigitalIn4V2Bricklet : BrickDeviceClient
{
    public const int Identifier = 2100;

    public IndustrialDigitalIn4V2Bricklet(BrickSession session, string uid) : base(session, uid, Identifier) { }

    public async Task<bool[]> GetValueAsync(CancellationToken cancellationToken = default) =>
        (bool[])(await InvokeAsync("GetValue", cancellationToken).ConfigureAwait(false))["Value"]!;

    public async Task<long> GetEdgeCountAsync(int channel, bool reset, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(channel is >= 0 and <= 3, true, nameof(channel));
        var values = await InvokeAsync("GetEdgeCount", cancellationToken, Arguments(("Channel", channel), ("ResetCounter", reset))).ConfigureAwait(false);
        return (uint)values["EdgeCount"]!;
    }
}

public sealed class RgbLedButtonBricklet : BrickDeviceClient
{
    public const int Identifier = 282;

    public RgbLedButtonBricklet(BrickSession session, string uid) : base(session, uid, Identifier) { }

    public static byte CallbackButtonStateChanged => CallbackId(Identifier, "ButtonStateChanged");

    public Task SetColorAsync(byte red, byte green, byte blue, CancellationToken cancellationToken = default) =>
        InvokeAsync("SetColor", cancellationToken, Arguments(("Red", red), ("Green", green), ("Blue", blue)));

    public async Task<(byte Red, byte Green, byte Blue)> GetColorAsync(CancellationToken cancellationToken = default)
    {
        var values = await InvokeAsync("GetColor", cancellationToken).ConfigureAwait(false);
        return ((byte)values["Red"]!, (byte)values["Green"]!, (byte)values["Blue"]!);
    }

    /// <summary>True while the button is pressed.</summary>
    public async Task<bool> GetButtonPressedAsync(CancellationToken cancellationToken = default) =>
        (await InvokeAsync("GetButtonState", cancellationToken).ConfigureAwait(false))["ButtonState"] is byte state
        && Type.ConstantGroup("ButtonState")?.NameOf(state) == "Pressed";
}
