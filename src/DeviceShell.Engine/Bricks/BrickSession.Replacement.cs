using System.Collections.Concurrent;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// DEVICE_REPLACED without device objects (docs/design/decisions.md §20): a call by the catalogue is made for the device
/// type the session knows at its UID. When the daemon announces another device type at that UID, the call waiting for
/// its answer ends with BrickDeviceReplaced, and later calls of the old type's functions on that UID are refused the
/// same way; a call by name resolves the UID's type anew and reaches the new device.
/// </summary>
public sealed partial class BrickSession
{
    /// <summary>The device identifier last announced or told for each UID; unlike the type caches, a DISCONNECTED keeps it.</summary>
    private readonly ConcurrentDictionary<uint, int> _lastDeviceIdentifiers = new();

    /// <summary>(UID, device identifier) pairs whose UID another device type has taken since.</summary>
    private readonly ConcurrentDictionary<(uint Uid, int DeviceIdentifier), byte> _replacedTypes = new();

    /// <summary>
    /// The device identifier a call of <paramref name="function"/> on <paramref name="uid"/> is made for: the UID's known
    /// type when the function is one of its own, else 0 (type not known yet: no claim, as for raw requests). A function
    /// of a type that has been replaced at the UID is refused with BrickDeviceReplaced, one of any other type with
    /// WrongDeviceType, as the bindings refuse a device object of the wrong class.
    /// </summary>
    private int DeviceIdentifierFor(uint uid, BrickFunction function)
    {
        var known = KnownDeviceType(uid);
        if (known is not null && known.Owns(function)) return known.Identifier;
        foreach (var ((replacedUid, identifier), _) in _replacedTypes)
        {
            if (replacedUid == uid && BrickDeviceCatalog.Find(identifier) is { } replaced && replaced.Owns(function))
                throw DeviceReplaced(uid, identifier, known?.Identifier ?? _lastDeviceIdentifiers.GetValueOrDefault(uid));
        }
        if (known is null) return 0;
        string text = BrickUid.Encode(uid);
        throw BrickErrors.Create(DeviceErrorKind.InvalidArgument, "WrongDeviceType",
            $"UID {text} is a {known.Name}; this {function.Name} is another device type's (WRONG_DEVICE_TYPE).", text);
    }

    /// <summary>
    /// Reader task, for an enumerate CONNECTED or AVAILABLE: when the UID had another device type before, the type is
    /// marked replaced, the call waiting on the UID for the old type fails, and high-level callbacks in progress are dropped.
    /// </summary>
    private void NoteAnnouncedType(uint uid, int deviceIdentifier)
    {
        _replacedTypes.TryRemove((uid, deviceIdentifier), out _);
        if (_lastDeviceIdentifiers.TryGetValue(uid, out int before) && before != deviceIdentifier)
        {
            _replacedTypes[(uid, before)] = 0;
            foreach (var key in _callbackStreams.Keys.Where(k => k.Uid == uid).ToArray()) _callbackStreams.Remove(key);
        }
        _lastDeviceIdentifiers[uid] = deviceIdentifier;
        if (_slots.TryGetValue(uid, out var slot) && slot.FailIfMadeForOtherThan(deviceIdentifier, madeFor => DeviceReplaced(uid, madeFor, deviceIdentifier)) is int madeFor)
            _replacedTypes[(uid, madeFor)] = 0;
    }

    private static DeviceException DeviceReplaced(uint uid, int madeFor, int now)
    {
        string text = BrickUid.Encode(uid);
        return BrickErrors.Create(DeviceErrorKind.InvalidOperation, "BrickDeviceReplaced",
            $"UID {text} is now a {BrickDeviceCatalog.DisplayName(now)}: the call was made for the {BrickDeviceCatalog.DisplayName(madeFor)} " +
            "that had the UID before (DEVICE_REPLACED). Call the function again by name to reach the device now there.", text);
    }
}
