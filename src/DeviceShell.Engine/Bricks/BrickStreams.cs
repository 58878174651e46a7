using System.Collections;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Bricks;

/// <summary>Whether a stream goes to the device (a setter's data) or comes from it (a getter's or callback's data).</summary>
public enum BrickStreamDirection
{
    /// <summary>Data goes to the device, chunk by chunk in the low-level function's parameters.</summary>
    In,
    /// <summary>Data comes from the device, chunk by chunk in the low-level function's returns or callback's values.</summary>
    Out,
}

/// <summary>
/// A high-level stream as the configurations define it (high_level): data longer than one packet that a low-level
/// function or callback carries chunk by chunk. A variable-length stream sends its total length with every chunk, a
/// fixed-length one (a thermal image, 4800 values) does not; every chunk but that of a single-chunk stream (a tag ID,
/// a CAN frame: length and data only) says at which offset its data belongs. The indexes locate these parts among the
/// values that carry the stream: the parameters of an in-stream, the returns of an out-stream, a callback's values.
/// </summary>
/// <param name="Name">The high-level name, e.g. Pixels.</param>
/// <param name="Direction">Whether the data goes to the device or comes from it.</param>
/// <param name="FixedLength">The number of values of a fixed-length stream; null when each chunk carries the total length.</param>
/// <param name="SingleChunk">True when the stream always fits in one chunk (no chunk offset).</param>
public sealed record BrickStream(string Name, BrickStreamDirection Direction, int? FixedLength, bool SingleChunk)
{
    /// <summary>The chunk offset with which a device says that a fixed-length stream has no data yet (the bindings' check).</summary>
    public const int NoDataChunkOffset = ushort.MaxValue;

    /// <summary>The total length's index; -1 for a fixed-length stream.</summary>
    public int LengthIndex { get; init; } = -1;

    /// <summary>The chunk offset's index; -1 for a single-chunk stream.</summary>
    public int ChunkOffsetIndex { get; init; } = -1;

    /// <summary>The chunk data's index.</summary>
    public int DataIndex { get; init; } = -1;

    /// <summary>
    /// For an in-stream whose device says how much of each chunk it took (RS232 and RS485 Write): that return's index
    /// among the low-level function's returns; -1 otherwise.
    /// </summary>
    public int WrittenIndex { get; init; } = -1;

    /// <summary>The name of the high-level return that sums what the device took of each chunk (MessageWritten).</summary>
    public string WrittenName => Name + "Written";

    /// <summary>The stream of <paramref name="function"/>, its parts located in what carries it.</summary>
    public static BrickStream Of(BrickStream declared, BrickFunction function)
    {
        ArgumentNullException.ThrowIfNull(declared);
        ArgumentNullException.ThrowIfNull(function);
        return Of(declared, declared.Direction == BrickStreamDirection.In ? function.Parameters : function.Returns, function.Returns);
    }

    /// <summary>The stream carried by <paramref name="carrier"/>; <paramref name="returns"/> are an in-stream function's returns (null for a callback).</summary>
    public static BrickStream Of(BrickStream declared, IReadOnlyList<BrickValueSpec> carrier, IReadOnlyList<BrickValueSpec>? returns)
    {
        ArgumentNullException.ThrowIfNull(declared);
        ArgumentNullException.ThrowIfNull(carrier);
        int IndexOf(IReadOnlyList<BrickValueSpec> values, string suffix) =>
            values.Select((v, i) => (v, i)).FirstOrDefault(p => p.v.Name == declared.Name + suffix, (null!, -1)).Item2;
        var stream = declared with
        {
            LengthIndex = declared.FixedLength is null ? IndexOf(carrier, "Length") : -1,
            ChunkOffsetIndex = declared.SingleChunk ? -1 : IndexOf(carrier, "ChunkOffset"),
            DataIndex = IndexOf(carrier, declared.SingleChunk ? "Data" : "ChunkData"),
            WrittenIndex = declared.Direction == BrickStreamDirection.In && returns is not null ? IndexOf(returns, "ChunkWritten") : -1,
        };
        if (stream.DataIndex < 0 || (declared.FixedLength is null && stream.LengthIndex < 0) || (!declared.SingleChunk && stream.ChunkOffsetIndex < 0))
            throw new InvalidOperationException($"The catalogue's stream {declared.Name} does not match the values that carry it ({string.Join(", ", carrier.Select(v => v.Name))}).");
        return stream;
    }

    /// <summary>How many values one chunk carries.</summary>
    public int ChunkLength(IReadOnlyList<BrickValueSpec> carrier) => carrier[DataIndex].Count;

    /// <summary>The longest stream: its fixed length, one chunk, or what its length field can say.</summary>
    public int MaximumLength(IReadOnlyList<BrickValueSpec> carrier) =>
        FixedLength ?? (SingleChunk ? carrier[DataIndex].Count : carrier[LengthIndex].Type == BrickWireType.UInt8 ? byte.MaxValue : ushort.MaxValue);

    /// <summary>
    /// The whole stream as one value, named as the stream (Pixels, Value, Image): the chunk data's element type, its unit
    /// and scale, as many as the stream holds; a stream of chars is text (an RS232 message).
    /// </summary>
    public BrickValueSpec DataSpec(IReadOnlyList<BrickValueSpec> carrier)
    {
        var chunk = carrier[DataIndex];
        bool text = chunk.Type == BrickWireType.Char;
        return new BrickValueSpec(Name, text ? BrickWireType.String : chunk.Type, MaximumLength(carrier), !text, chunk.Constants)
        {
            Unit = chunk.Unit,
            Scale = chunk.Scale,
            Range = chunk.Range,
        };
    }

    /// <summary>
    /// The values of the high-level function or callback: those of the low-level one with the stream's length, chunk
    /// offset and chunk data replaced by the whole data where the chunk data was.
    /// </summary>
    public IReadOnlyList<BrickValueSpec> WholeValues(IReadOnlyList<BrickValueSpec> carrier) =>
        carrier.Select((v, i) => i == DataIndex ? DataSpec(carrier) : i == LengthIndex || i == ChunkOffsetIndex ? null : v).OfType<BrickValueSpec>().ToArray();

    /// <summary>WritePixels of WritePixelsLowLevel: same id, the whole data in and out, MessageWritten for MessageChunkWritten.</summary>
    internal static BrickFunction HighLevelFunction(BrickFunction lowLevel)
    {
        var stream = lowLevel.Stream!;
        var returns = stream.Direction == BrickStreamDirection.Out
            ? stream.WholeValues(lowLevel.Returns)
            : lowLevel.Returns.Select((r, i) => i == stream.WrittenIndex ? r with { Name = stream.WrittenName, FormerName = null } : r).ToArray();
        return lowLevel with
        {
            Name = WithoutLowLevel(lowLevel.Name),
            Parameters = stream.Direction == BrickStreamDirection.In ? stream.WholeValues(lowLevel.Parameters) : lowLevel.Parameters,
            Returns = returns,
            LowLevel = lowLevel,
        };
    }

    /// <summary>TemperatureImage of TemperatureImageLowLevel: same id, the whole data where the chunk was.</summary>
    internal static BrickCallback HighLevelCallback(BrickCallback lowLevel) =>
        lowLevel with { Name = WithoutLowLevel(lowLevel.Name), Values = lowLevel.Stream!.WholeValues(lowLevel.Values), LowLevel = lowLevel };

    private static string WithoutLowLevel(string name) => name.EndsWith("LowLevel", StringComparison.Ordinal) ? name[..^"LowLevel".Length] : name;

    /// <summary>The elements of a whole stream value as given: text, a byte array or any sequence.</summary>
    internal static object?[] Elements(BrickValueSpec data, object? value) => BrickUnits.Unwrap(value) switch
    {
        null => Array.Empty<object?>(),
        string text when data.Type == BrickWireType.String => text.Cast<object?>().ToArray(),
        IEnumerable sequence and not string => sequence.Cast<object?>().Select(BrickUnits.Unwrap).ToArray(),
        var single => new[] { single },
    };

    /// <summary>The first <paramref name="length"/> elements of a stream as the whole value: text for chars, else a typed array.</summary>
    public static object WholeValue(BrickValueSpec chunk, IReadOnlyList<object> elements, int length)
    {
        length = Math.Min(length, elements.Count);
        if (chunk.Type == BrickWireType.Char) return new string(elements.Take(length).Cast<char>().ToArray());
        var array = Array.CreateInstance(chunk.ElementClrType, length);
        for (int i = 0; i < length; i++) array.SetValue(elements[i], i);
        return array;
    }

    /// <summary>One chunk of <paramref name="elements"/> from <paramref name="offset"/>, padded with zeros to the chunk's length as the bindings pad it.</summary>
    public static object?[] Chunk(BrickValueSpec chunk, IReadOnlyList<object?> elements, int offset)
    {
        object padding = BrickPayload.Read(chunk with { Count = 1, IsArray = false }, new byte[BrickValueSpec.ElementSize(chunk.Type)]);
        return Enumerable.Range(offset, chunk.Count).Select(i => i < elements.Count ? elements[i] : padding).ToArray();
    }

    /// <summary>The STREAM_OUT_OF_SYNC failure: the device's chunks did not follow one another.</summary>
    internal static DeviceException OutOfSync(string uid, string function, string detail) => BrickErrors.Create(DeviceErrorKind.Protocol, "StreamOutOfSync",
        $"{function} of {uid}: the stream is out of sync ({detail}); the rest of the device's stream was read and dropped, so the next call starts afresh.", uid);
}
