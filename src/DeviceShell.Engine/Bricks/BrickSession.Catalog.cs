using System.Collections.Concurrent;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Bricks;

/// <summary>A callback decoded through the catalogue: which callback it is and its named values.</summary>
/// <param name="Callback">The callback of the device's type, from the catalogue.</param>
/// <param name="Values">Its values as unpacked from the payload, raw.</param>
public sealed record BrickDecodedCallback(BrickCallback Callback, BrickValues Values);

/// <summary>Functions by name: the device type of a UID is learned once per session and the catalogue packs and unpacks.</summary>
public sealed partial class BrickSession
{
    /// <summary>Device identifiers learned from get_identity answers; enumerations are in _knownDevices.</summary>
    private readonly ConcurrentDictionary<uint, int> _identifiedTypes = new();

    /// <summary>
    /// The device identifier of a UID: from an enumeration this session saw or an earlier identity answer, else
    /// from one get_identity request. An enumerate callback for the UID (plugged, unplugged) forgets it.
    /// </summary>
    public async Task<int> GetDeviceIdentifierAsync(uint uid, CancellationToken cancellationToken = default)
    {
        if (CachedDeviceIdentifier(uid) is int known) return known;
        return (await GetIdentityAsync(uid, cancellationToken).ConfigureAwait(false)).DeviceIdentifier;
    }

    /// <summary>The catalogue entry of a UID's device; UnknownDeviceType (NotFound) when the catalogue does not have it.</summary>
    public async Task<BrickDeviceType> GetDeviceTypeAsync(uint uid, CancellationToken cancellationToken = default)
    {
        int identifier = await GetDeviceIdentifierAsync(uid, cancellationToken).ConfigureAwait(false);
        return BrickDeviceCatalog.Find(identifier) ?? throw new DeviceException(DeviceErrorKind.NotFound, "UnknownDeviceType",
            $"UID {BrickUid.Encode(uid)} is a device with identifier {identifier}, which the catalogue ({BrickDeviceCatalog.Source}) does not know.", BrickUid.Encode(uid));
    }

    /// <summary>
    /// The device type of a UID as soon as it can be known either way: the device's identity answer, or an enumeration
    /// (run beside it) in which no device has the UID, which fails at once with BrickUnknownUid (NotFound) instead of
    /// waiting out the request timeout, as brickd never answers a UID it does not have. Within <paramref name="wait"/>.
    /// </summary>
    public async Task<BrickDeviceType> FindDeviceTypeAsync(uint uid, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        if (KnownDeviceType(uid) is { } known) return known;
        string text = BrickUid.Encode(uid);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(wait);
        var identity = GetDeviceTypeAsync(uid, limit.Token);
        var enumeration = EnumerateAsync(wait, null, limit.Token);
        try
        {
            if (await Task.WhenAny(identity, enumeration).ConfigureAwait(false) == enumeration
                && !(await enumeration.ConfigureAwait(false)).Any(d => d.Uid == text) && !identity.IsCompleted)
                throw UnknownUid(text, wait);
            return await identity.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw UnknownUid(text, wait);
        }
        finally
        {
            limit.Cancel();
            // The loser of the two is cancelled; its failure is not news.
            _ = Task.WhenAll(identity, enumeration).ContinueWith(static t => t.Exception, TaskScheduler.Default);
        }
    }

    private static DeviceException UnknownUid(string uid, TimeSpan wait) => new(DeviceErrorKind.NotFound, "BrickUnknownUid",
        $"No device with UID {uid} answers (none enumerated itself, none told its identity within {wait.TotalSeconds} s), so its functions are not known. Get-BrickEnumeration lists the devices.", uid);

    /// <summary>The device type of a UID if this session already knows it, without asking the device.</summary>
    public BrickDeviceType? KnownDeviceType(uint uid) => CachedDeviceIdentifier(uid) is int identifier ? BrickDeviceCatalog.Find(identifier) : null;

    /// <summary>Calls a function of a UID's device by name (GetTemperature, get_temperature); see <see cref="InvokeAsync(uint, BrickFunction, IReadOnlyDictionary{string, object?}, bool?, CancellationToken)"/>.</summary>
    public async Task<BrickValues> InvokeAsync(uint uid, string functionName, IReadOnlyDictionary<string, object?>? arguments = null, bool? responseExpected = null, CancellationToken cancellationToken = default)
    {
        var type = await GetDeviceTypeAsync(uid, cancellationToken).ConfigureAwait(false);
        var function = type.Function(functionName) ?? throw new DeviceException(DeviceErrorKind.NotFound, "BrickUnknownFunction",
            $"A {type.Name} has no function '{functionName}'.", functionName);
        return await InvokeAsync(uid, function, arguments, responseExpected, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Packs the named arguments, calls the function and unpacks its named returns. Without
    /// <paramref name="responseExpected"/> the catalogue's default applies; functions with returns always wait for the answer.
    /// A call that does not wait returns no values.
    /// </summary>
    public async Task<BrickValues> InvokeAsync(uint uid, BrickFunction function, IReadOnlyDictionary<string, object?>? arguments, bool? responseExpected = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (function.LowLevel is not null) return await InvokeStreamAsync(uid, function, arguments ?? BrickValues.None, responseExpected, cancellationToken).ConfigureAwait(false);
        byte[] payload;
        try
        {
            payload = BrickPayload.Pack(function.Parameters, arguments ?? BrickValues.None);
        }
        catch (ArgumentException e)
        {
            throw new DeviceException(DeviceErrorKind.InvalidArgument, "InvalidFunctionArgument", $"{function.Name}: {e.Message}", function.Name);
        }
        int madeFor = DeviceIdentifierFor(uid, function);
        bool wait = function.Returns.Count > 0 || (responseExpected ?? function.ExpectsResponseByDefault);
        if (!wait)
        {
            await SendRequestAsync(uid, function.Id, payload, false, null, cancellationToken).ConfigureAwait(false);
            return BrickValues.None;
        }
        var answer = await RequestOnLinkAsync(CurrentLink(), uid, function.Id, payload, Timeout, cancellationToken, madeFor).ConfigureAwait(false);
        CheckResponse(answer, function.ResponsePayloadLength);
        return BrickPayload.Unpack(function.Returns, answer.Payload);
    }

    /// <summary>Decodes a callback event through the device type this session knows for its UID; null when the type is not known yet or the payload does not fit.</summary>
    public BrickDecodedCallback? DecodeCallback(BrickEvent callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (callback.Kind != BrickEventKind.Callback || callback.Uid is null || !BrickUid.TryParse(callback.Uid, out uint uid)) return null;
        var spec = KnownDeviceType(uid)?.Callback(callback.FunctionId);
        if (spec is null || spec.PayloadLength != callback.Payload.Length) return null;
        return new BrickDecodedCallback(spec, BrickPayload.Unpack(spec.Values, callback.Payload));
    }

    private int? CachedDeviceIdentifier(uint uid) =>
        _identifiedTypes.TryGetValue(uid, out int identified) ? identified
        : _knownDevices.TryGetValue(BrickUid.Encode(uid), out var device) ? device.DeviceIdentifier
        : null;

    private void RememberDeviceType(uint uid, int identifier)
    {
        _identifiedTypes[uid] = identifier;
        _lastDeviceIdentifiers[uid] = identifier;
    }

    private void ForgetDeviceType(uint uid) => _identifiedTypes.TryRemove(uid, out _);
}
