using System.Collections.Concurrent;
using System.Globalization;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// High-level streams as the official bindings do them: a high-level function calls its low-level function chunk by
/// chunk (one stream at a time per device and function, as the bindings' stream lock has it) and checks that the
/// chunks of an out-stream follow one another; chunks of low-level stream callbacks are reassembled into the
/// high-level callback (docs/design/decisions.md §20).
/// </summary>
public sealed partial class BrickSession
{
    private readonly ConcurrentDictionary<(uint Uid, byte FunctionId), SemaphoreSlim> _streamLocks = new();
    /// <summary>High-level callbacks in progress, by device and callback; only the reader task touches them.</summary>
    private readonly Dictionary<(uint Uid, byte FunctionId), StreamCallbackAssembly> _callbackStreams = new();

    private async Task<BrickValues> InvokeStreamAsync(uint uid, BrickFunction function, IReadOnlyDictionary<string, object?> arguments, bool? responseExpected, CancellationToken cancellationToken)
    {
        var lowLevel = function.LowLevel!;
        var gate = _streamLocks.GetOrAdd((uid, lowLevel.Id), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return lowLevel.Stream!.Direction == BrickStreamDirection.In
                ? await WriteStreamAsync(uid, function, arguments, responseExpected, cancellationToken).ConfigureAwait(false)
                : await ReadStreamAsync(uid, function, arguments, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Sends the data chunk by chunk (one chunk, zero-filled, for empty data); a device that takes less than a whole
    /// chunk (a full RS232 send buffer) ends the write, and the high-level call returns how much it took.
    /// </summary>
    private async Task<BrickValues> WriteStreamAsync(uint uid, BrickFunction function, IReadOnlyDictionary<string, object?> arguments, bool? responseExpected, CancellationToken cancellationToken)
    {
        var lowLevel = function.LowLevel!;
        var stream = lowLevel.Stream!;
        var carrier = lowLevel.Parameters;
        var dataSpec = stream.DataSpec(carrier);
        var given = new Dictionary<string, object?>(arguments, StringComparer.OrdinalIgnoreCase);
        if (!given.Remove(stream.Name, out object? value))
            throw new Sessions.DeviceException(Sessions.DeviceErrorKind.InvalidArgument, "InvalidFunctionArgument",
                $"{function.Name}: the value '{stream.Name}' is missing; expected {string.Join(", ", function.Parameters.Select(p => p.Name))}.", function.Name);
        var elements = BrickStream.Elements(dataSpec, value);
        if (elements.Length > dataSpec.Count)
            throw BrickErrors.Create(Sessions.DeviceErrorKind.InvalidArgument, "InvalidParameter",
                $"{function.Name}: '{stream.Name}' takes at most {dataSpec.Count} values, not {elements.Length}.", BrickUid.Encode(uid));
        int chunkLength = stream.ChunkLength(carrier);
        BrickValues last = BrickValues.None;
        long written = 0;
        int offset = 0;
        do
        {
            if (stream.LengthIndex >= 0) given[carrier[stream.LengthIndex].Name] = elements.Length;
            if (stream.ChunkOffsetIndex >= 0) given[carrier[stream.ChunkOffsetIndex].Name] = offset;
            given[carrier[stream.DataIndex].Name] = BrickStream.Chunk(carrier[stream.DataIndex], elements, offset);
            last = await InvokeAsync(uid, lowLevel, given, responseExpected, cancellationToken).ConfigureAwait(false);
            if (stream.WrittenIndex >= 0)
            {
                int taken = Convert.ToInt32(last[lowLevel.Returns[stream.WrittenIndex].Name], CultureInfo.InvariantCulture);
                written += taken;
                if (taken < chunkLength) break; // the last chunk, or the device took less (a short write)
            }
            offset += chunkLength;
        }
        while (offset < elements.Length && !stream.SingleChunk);
        if (last.Count == 0) return last;
        var result = new BrickValues();
        foreach (var spec in function.Returns)
            result.Add(spec.Name, spec.Name == stream.WrittenName ? written : last[spec.Name], spec.FormerName);
        return result;
    }

    /// <summary>
    /// Reads chunks until the stream is whole. A chunk whose offset is not where the data so far ends means the device's
    /// stream and this read are out of step (another reader, a lost chunk): as the bindings do, the rest of that stream
    /// is read and dropped, so the next read starts at a stream's beginning, and the call fails with StreamOutOfSync.
    /// A peer that keeps saying there is more is bounded by the stream's length in chunks.
    /// </summary>
    private async Task<BrickValues> ReadStreamAsync(uint uid, BrickFunction function, IReadOnlyDictionary<string, object?> arguments, CancellationToken cancellationToken)
    {
        var lowLevel = function.LowLevel!;
        var stream = lowLevel.Stream!;
        var carrier = lowLevel.Returns;
        var chunkSpec = carrier[stream.DataIndex];
        int chunkLength = chunkSpec.Count;
        var chunk = await InvokeAsync(uid, lowLevel, arguments, null, cancellationToken).ConfigureAwait(false);
        int length = LengthOf(chunk);
        int offset = OffsetOf(chunk);
        var data = new List<object>(DataOf(chunk));
        bool outOfSync = false;
        if (stream.FixedLength is not null && offset == BrickStream.NoDataChunkOffset)
        {
            length = 0;
            data.Clear();
        }
        else
        {
            outOfSync = offset != 0;
        }
        while (!outOfSync && data.Count < length)
        {
            chunk = await InvokeAsync(uid, lowLevel, arguments, null, cancellationToken).ConfigureAwait(false);
            length = LengthOf(chunk);
            offset = OffsetOf(chunk);
            outOfSync = offset != data.Count;
            if (!outOfSync) data.AddRange(DataOf(chunk));
        }
        if (outOfSync)
        {
            int expected = data.Count;
            int received = offset;
            for (int discarded = 0; offset + chunkLength < length && discarded <= stream.MaximumLength(carrier) / chunkLength; discarded++)
            {
                chunk = await InvokeAsync(uid, lowLevel, arguments, null, cancellationToken).ConfigureAwait(false);
                length = LengthOf(chunk);
                offset = OffsetOf(chunk);
            }
            throw BrickStream.OutOfSync(BrickUid.Encode(uid), function.Name, $"a chunk at offset {received} came where offset {expected} was due");
        }
        var result = new BrickValues();
        int index = 0;
        foreach (var spec in carrier)
        {
            if (index == stream.DataIndex) result.Add(stream.Name, BrickStream.WholeValue(chunkSpec, data, length));
            else if (index != stream.LengthIndex && index != stream.ChunkOffsetIndex) result.Add(spec.Name, chunk[spec.Name], spec.FormerName);
            index++;
        }
        return result;

        int LengthOf(BrickValues values) => stream.LengthIndex >= 0
            ? Convert.ToInt32(values[carrier[stream.LengthIndex].Name], CultureInfo.InvariantCulture)
            : stream.FixedLength!.Value;

        int OffsetOf(BrickValues values) => stream.ChunkOffsetIndex >= 0
            ? Convert.ToInt32(values[carrier[stream.ChunkOffsetIndex].Name], CultureInfo.InvariantCulture)
            : 0;

        IEnumerable<object> DataOf(BrickValues values) => ((Array)values[chunkSpec.Name]!).Cast<object>();
    }

    /// <summary>
    /// Reader task: adds a low-level stream callback's chunk to its high-level callback and posts that once it is whole,
    /// as the bindings reassemble: a stream starts at offset 0 (a tail seen first is ignored), a chunk out of place ends
    /// the stream in progress with its data null (the bindings' out-of-sync signal), and single-chunk streams are whole
    /// at once. Needs the device's type; a callback of a device this session has not learned stays low-level only.
    /// </summary>
    private void AssembleStreamCallback(TfpPacket packet)
    {
        var type = KnownDeviceType(packet.Uid);
        var whole = type?.HighLevelCallback(packet.FunctionId);
        var lowLevel = whole?.LowLevel;
        if (lowLevel is null || lowLevel.PayloadLength != packet.Payload.Length) return;
        var stream = lowLevel.Stream!;
        var values = BrickPayload.Unpack(lowLevel.Values, packet.Payload);
        int length = stream.LengthIndex >= 0 ? Convert.ToInt32(values[lowLevel.Values[stream.LengthIndex].Name], CultureInfo.InvariantCulture) : stream.FixedLength!.Value;
        int offset = stream.ChunkOffsetIndex >= 0 ? Convert.ToInt32(values[lowLevel.Values[stream.ChunkOffsetIndex].Name], CultureInfo.InvariantCulture) : 0;
        var chunkSpec = lowLevel.Values[stream.DataIndex];
        var key = (packet.Uid, packet.FunctionId);
        if (!_callbackStreams.TryGetValue(key, out var assembly))
        {
            if (offset != 0) return; // the tail of a stream that started before: wait for the next one
            assembly = new StreamCallbackAssembly();
            _callbackStreams[key] = assembly;
        }
        else if (offset != assembly.Data.Count)
        {
            _callbackStreams.Remove(key);
            PostWholeCallback(packet.Uid, whole!, values, null, assembly.Payloads);
            return;
        }
        assembly.Data.AddRange(((Array)values[chunkSpec.Name]!).Cast<object>());
        assembly.Payloads.Add(packet.Payload);
        if (assembly.Data.Count < length) return;
        _callbackStreams.Remove(key);
        PostWholeCallback(packet.Uid, whole!, values, BrickStream.WholeValue(chunkSpec, assembly.Data, length), assembly.Payloads);
    }

    private void PostWholeCallback(uint uid, BrickCallback whole, BrickValues lastChunk, object? data, List<byte[]> payloads)
    {
        var stream = whole.LowLevel!.Stream!;
        var values = new BrickValues();
        int index = 0;
        foreach (var spec in whole.LowLevel.Values)
        {
            if (index == stream.DataIndex) values.Add(stream.Name, data);
            else if (index != stream.LengthIndex && index != stream.ChunkOffsetIndex) values.Add(spec.Name, lastChunk[spec.Name], spec.FormerName);
            index++;
        }
        _events.Post(new BrickEvent(this, BrickUid.Encode(uid), new BrickDecodedCallback(whole, values), payloads.SelectMany(p => p).ToArray()));
    }

    /// <summary>The data of one high-level callback so far, and the payloads of its chunks (the event's raw payload).</summary>
    private sealed class StreamCallbackAssembly
    {
        public List<object> Data { get; } = new();

        public List<byte[]> Payloads { get; } = new();
    }
}
