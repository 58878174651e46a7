using System.Buffers.Binary;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// Base of the typed device wrappers. Before the first call it asks the device for its identity and
/// compares the identifier with the wrapper's (as the bindings do since 2.1.26): a mismatch is cached and
/// every call fails with WrongDeviceType; a timeout leaves the check open for the next call.
/// </summary>
public abstract class BrickDeviceClient
{
    private readonly SemaphoreSlim _checkGate = new(1, 1);
    private DeviceException? _wrongType;
    private bool _checked;

    protected BrickDeviceClient(BrickSession session, string uid, int deviceIdentifier)
    {
        Session = session ?? throw new ArgumentNullException(nameof(session));
        Uid = uid;
        UidValue = BrickUid.Parse(uid);
        DeviceIdentifier = deviceIdentifier;
    }

    public BrickSession Session { get; }

    public string Uid { get; }

    public uint UidValue { get; }

    public int DeviceIdentifier { get; }

    public string DeviceName => BrickDeviceCatalog.DisplayName(DeviceIdentifier);

    /// <summary>Checks the device type once; throws WrongDeviceType (InvalidArgument) when the UID belongs to another device.</summary>
    public async Task EnsureDeviceTypeAsync(CancellationToken cancellationToken = default)
    {
        if (_checked)
        {
            if (_wrongType is not null) throw _wrongType;
            return;
        }
        await _checkGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_checked)
            {
                var identity = await Session.GetIdentityAsync(UidValue, cancellationToken).ConfigureAwait(false);
                if (identity.DeviceIdentifier != DeviceIdentifier)
                    _wrongType = BrickErrors.Create(DeviceErrorKind.InvalidArgument, "WrongDeviceType",
                        $"UID {Uid} belongs to a {identity.DeviceName} instead of the expected {DeviceName}.", Uid);
                _checked = true;
            }
        }
        finally
        {
            _checkGate.Release();
        }
        if (_wrongType is not null) throw _wrongType;
    }

    /// <summary>A getter: checks the type, calls with R=1 and checks the response length.</summary>
    protected async Task<byte[]> GetAsync(byte functionId, int responsePayloadLength, CancellationToken cancellationToken, params byte[] payload)
    {
        await EnsureDeviceTypeAsync(cancellationToken).ConfigureAwait(false);
        return await Session.CallAsync(UidValue, functionId, payload, responsePayloadLength, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A setter with R=1, so a rejected value surfaces as an error.</summary>
    protected async Task SetAsync(byte functionId, byte[] payload, CancellationToken cancellationToken)
    {
        await EnsureDeviceTypeAsync(cancellationToken).ConfigureAwait(false);
        await Session.CallAsync(UidValue, functionId, payload, 0, null, cancellationToken).ConfigureAwait(false);
    }

    protected async Task<int> GetInt16Async(byte functionId, CancellationToken cancellationToken) =>
        BinaryPrimitives.ReadInt16LittleEndian(await GetAsync(functionId, 2, cancellationToken).ConfigureAwait(false));

    protected async Task<int> GetUInt16Async(byte functionId, CancellationToken cancellationToken) =>
        BinaryPrimitives.ReadUInt16LittleEndian(await GetAsync(functionId, 2, cancellationToken).ConfigureAwait(false));

    /// <summary>The uint32 period + bool value-has-to-change + 'x' (no threshold) + two zero thresholds of the V2 callback configurations.</summary>
    protected static byte[] CallbackConfiguration(uint periodMs, bool valueHasToChange, int thresholdBytes)
    {
        var payload = new byte[6 + 2 * thresholdBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, periodMs);
        payload[4] = valueHasToChange ? (byte)1 : (byte)0;
        payload[5] = (byte)'x';
        return payload;
    }

    /// <summary>Creates the typed wrapper for a device identifier the engine knows (spec §9), or null.</summary>
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
    public Task<int> GetStackVoltageAsync(CancellationToken cancellationToken = default) => GetUInt16Async(1, cancellationToken);

    /// <summary>mA.</summary>
    public Task<int> GetStackCurrentAsync(CancellationToken cancellationToken = default) => GetUInt16Async(2, cancellationToken);

    /// <summary>mV.</summary>
    public Task<int> GetUsbVoltageAsync(CancellationToken cancellationToken = default) => GetUInt16Async(40, cancellationToken);

    /// <summary>The chip temperature (Bricks report °C/10).</summary>
    public async Task<double> GetTemperatureAsync(CancellationToken cancellationToken = default) =>
        await GetInt16Async(TfpFunction.GetChipTemperature, cancellationToken).ConfigureAwait(false) / 10.0;
}

public sealed class TemperatureBricklet : BrickDeviceClient, IBrickThermometer
{
    public const int Identifier = 216;
    public const byte CallbackTemperature = 8;

    public TemperatureBricklet(BrickSession session, string uid) : base(session, uid, Identifier) { }

    public async Task<double> GetTemperatureAsync(CancellationToken cancellationToken = default) =>
        await GetInt16Async(1, cancellationToken).ConfigureAwait(false) / 100.0;

    /// <summary>TEMPERATURE callback (fid 8) every <paramref name="periodMs"/> ms while the value changes; 0 turns it off.</summary>
    public Task SetTemperatureCallbackPeriodAsync(uint periodMs, CancellationToken cancellationToken = default)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, periodMs);
        return SetAsync(2, payload, cancellationToken);
    }
}

public sealed class TemperatureV2Bricklet : BrickDeviceClient, IBrickThermometer
{
    public const int Identifier = 2113;
    public const byte CallbackTemperature = 4;

    public TemperatureV2Bricklet(BrickSession session, string uid) : base(session, uid, Identifier) { }

    public async Task<double> GetTemperatureAsync(CancellationToken cancellationToken = default) =>
        await GetInt16Async(1, cancellationToken).ConfigureAwait(false) / 100.0;

    /// <summary>TEMPERATURE callback (fid 4) every <paramref name="periodMs"/> ms, without thresholds.</summary>
    public Task SetTemperatureCallbackConfigurationAsync(uint periodMs, bool valueHasToChange, CancellationToken cancellationToken = default) =>
        SetAsync(2, CallbackConfiguration(periodMs, valueHasToChange, 2), cancellationToken);
}

public sealed class AmbientLightV3Bricklet : BrickDeviceClient
{
    public const int Identifier = 2131;

    public AmbientLightV3Bricklet(BrickSession session, string uid) : base(session, uid, Identifier) { }

    /// <summary>lux.</summary>
    public async Task<double> GetIlluminanceAsync(CancellationToken cancellationToken = default) =>
        BinaryPrimitives.ReadUInt32LittleEndian(await GetAsync(1, 4, cancellationToken).ConfigureAwait(false)) / 100.0;

    /// <summary>Illuminance range and integration time codes.</summary>
    public async Task<(int Range, int IntegrationTime)> GetConfigurationAsync(CancellationToken cancellationToken = default)
    {
        byte[] payload = await GetAsync(6, 2, cancellationToken).ConfigureAwait(false);
        return (payload[0], payload[1]);
    }
}

public sealed class HumidityV2Bricklet : BrickDeviceClient, IBrickThermometer
{
    public const int Identifier = 283;

    public HumidityV2Bricklet(BrickSession session, string uid) : base(session, uid, Identifier) { }

    /// <summary>%RH.</summary>
    public async Task<double> GetHumidityAsync(CancellationToken cancellationToken = default) =>
        await GetUInt16Async(1, cancellationToken).ConfigureAwait(false) / 100.0;

    public async Task<double> GetTemperatureAsync(CancellationToken cancellationToken = default) =>
        await GetInt16Async(5, cancellationToken).ConfigureAwait(false) / 100.0;
}

public sealed class IndustrialDigitalIn4Bricklet : BrickDeviceClient
{
    public const int Identifier = 223;

    public IndustrialDigitalIn4Bricklet(BrickSession session, string uid) : base(session, uid, Identifier) { }

    /// <summary>Bit i = input i.</summary>
    public Task<int> GetValueAsync(CancellationToken cancellationToken = default) => GetUInt16Async(1, cancellationToken);
}

public sealed class IndustrialDigitalIn4V2Bricklet : BrickDeviceClient
{
    public const int Identifier = 2100;

    public IndustrialDigitalIn4V2Bricklet(BrickSession session, string uid) : base(session, uid, Identifier) { }

    public async Task<bool[]> GetValueAsync(CancellationToken cancellationToken = default)
    {
        byte packed = (await GetAsync(1, 1, cancellationToken).ConfigureAwait(false))[0];
        return Enumerable.Range(0, 4).Select(i => (packed & (1 << i)) != 0).ToArray();
    }

    public async Task<long> GetEdgeCountAsync(int channel, bool reset, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(channel is >= 0 and <= 3, true, nameof(channel));
        byte[] payload = await GetAsync(6, 4, cancellationToken, (byte)channel, reset ? (byte)1 : (byte)0).ConfigureAwait(false);
        return BinaryPrimitives.ReadUInt32LittleEndian(payload);
    }
}

public sealed class RgbLedButtonBricklet : BrickDeviceClient
{
    public const int Identifier = 282;
    public const byte CallbackButtonStateChanged = 4;

    public RgbLedButtonBricklet(BrickSession session, string uid) : base(session, uid, Identifier) { }

    public Task SetColorAsync(byte red, byte green, byte blue, CancellationToken cancellationToken = default) =>
        SetAsync(1, new[] { red, green, blue }, cancellationToken);

    public async Task<(byte Red, byte Green, byte Blue)> GetColorAsync(CancellationToken cancellationToken = default)
    {
        byte[] payload = await GetAsync(2, 3, cancellationToken).ConfigureAwait(false);
        return (payload[0], payload[1], payload[2]);
    }

    /// <summary>True while the button is pressed (the device reports 0 pressed, 1 released).</summary>
    public async Task<bool> GetButtonPressedAsync(CancellationToken cancellationToken = default) =>
        (await GetAsync(3, 1, cancellationToken).ConfigureAwait(false))[0] == 0;
}
