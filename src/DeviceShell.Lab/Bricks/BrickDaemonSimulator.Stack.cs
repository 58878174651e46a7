using System.Buffers.Binary;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Lab.Bricks;

/// <summary>
/// The simulated stack at run time: devices plugged, replaced and unplugged (with the enumerate callbacks brickd sends),
/// inputs set, buttons pressed, callback floods.
/// </summary>
public sealed partial class BrickDaemonSimulator
{
    /// <summary>
    /// Plugs a device: it joins the stack and every client gets an enumerate CONNECTED callback. A UID that is taken is
    /// refused unless <paramref name="replace"/>: then the new device takes the UID over (of another type, clients that
    /// called the old one see DEVICE_REPLACED), as a device re-flashed with another's UID would.
    /// </summary>
    public void AddDevice(SimulatedBrickDevice device, bool replace = false)
    {
        if (!replace && _devices.ContainsKey(device.UidValue))
            throw new InvalidOperationException($"A device with UID {device.Uid} is already plugged in (replace it with -Replace).");
        Attach(device);
        Broadcast(EnumeratePacket(device.Identity, BrickEnumerationType.Connected));
    }

    /// <summary>Unplugs a device: clients get an enumerate DISCONNECTED callback carrying only the UID, as brickd sends it.</summary>
    public bool RemoveDevice(string uid)
    {
        if (!_devices.TryRemove(BrickUid.Parse(uid), out var device)) return false;
        var payload = new byte[BrickDevice.IdentityLength + 1];
        BrickUid.WriteField(payload.AsSpan(0, 8), device.Uid);
        payload[BrickDevice.IdentityLength] = (byte)BrickEnumerationType.Disconnected;
        Broadcast(new TfpPacket(device.UidValue, TfpFunction.CallbackEnumerate, 0, true, 0, payload));
        return true;
    }

    public SimulatedBrickDevice? Find(string uid) => BrickUid.TryParse(uid, out uint value) ? _devices.GetValueOrDefault(value) : null;

    /// <summary>
    /// Sends <paramref name="count"/> callbacks of function <paramref name="functionId"/> from <paramref name="uid"/> to every
    /// client as fast as loopback takes them (benchmarks and flood tests: the client's own drops are then the only loss).
    /// Each payload is the callback's index, a 4-byte little-endian counter from 0, so a consumer can check order and loss.
    /// Packets travel in chunks of <see cref="FloodChunkPackets"/>, far below the per-client queue bound: none is dropped here.
    /// </summary>
    public void Flood(string uid, int count, byte functionId = FloodFunctionId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > FloodChunkPackets * 16384) throw new ArgumentOutOfRangeException(nameof(count), $"A flood sends at most {FloodChunkPackets * 16384} callbacks.");
        uint uidValue = BrickUid.Parse(uid);
        var payload = new byte[4];
        for (int first = 0; first < count; first += FloodChunkPackets)
        {
            int packets = Math.Min(FloodChunkPackets, count - first);
            var chunk = new byte[packets * (TfpPacket.HeaderLength + 4)];
            for (int i = 0; i < packets; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(payload, first + i);
                new TfpPacket(uidValue, functionId, 0, true, 0, payload).WriteTo(chunk.AsSpan(i * (TfpPacket.HeaderLength + 4)));
            }
            Broadcast(chunk);
        }
    }

    /// <summary>Callbacks per chunk a flood hands to each client's send queue.</summary>
    public const int FloodChunkPackets = 1024;

    /// <summary>The function ID a flood uses unless told otherwise (not a callback any simulated device defines).</summary>
    public const byte FloodFunctionId = 200;

    /// <summary>Presses or releases a simulated button (RGB LED Button Bricklet); its BUTTON_STATE_CHANGED callback reports the change.</summary>
    public void PressButton(string uid, bool pressed) => SetInput(uid, "ButtonState", pressed ? "Pressed" : "Released");

    /// <summary>
    /// Sets a simulated reading or input of a device by value name (e.g. Temperature 2500 for 25 °C, ButtonState
    /// "Pressed", Value as a bool array); the device's getters report it and its callbacks react to it.
    /// </summary>
    public void SetInput(string uid, string name, object? value)
    {
        var device = Find(uid) ?? throw new ArgumentException($"There is no device with UID {uid}.");
        device.SetInput(name, value);
    }

    private char FreePosition(string connectedUid)
    {
        var taken = _devices.Values.Where(d => d.ConnectedUid == connectedUid).Select(d => d.Position).ToHashSet();
        return "abcdefgh".FirstOrDefault(p => !taken.Contains(p), 'z');
    }

    private static TfpPacket EnumeratePacket(BrickDevice identity, BrickEnumerationType type) =>
        new(BrickUid.Parse(identity.Uid), TfpFunction.CallbackEnumerate, 0, true, 0, identity.ToPayload(type));
}
