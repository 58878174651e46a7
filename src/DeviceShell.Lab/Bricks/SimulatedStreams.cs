using System.Globalization;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Lab.Bricks;

/// <summary>
/// The streams of a simulated device, answered as the firmware does. What an in-stream writes is kept where its data
/// goes and read back by the matching getter (WritePixels → ReadPixels in the same window, SetLEDValues → GetLEDValues
/// from the same index, SetGUIGraphData → GetGUIGraphData of the same graph, …). An out-stream is taken as a whole when
/// its first chunk is read and then handed out one chunk per request, each with its offset, until it is through; a
/// request with other arguments starts a new stream. Out-streams nothing wrote (thermal images, the energy monitor's
/// waveform, spectra, identifiers) are plausible data of the right size. An RS232/RS485 Bricklet with the Lab input
/// Loopback set receives what it sends: Read returns it, or the Read callback delivers it in chunks when enabled.
/// All members run under the device's lock.
/// </summary>
internal sealed class SimulatedStreams
{
    /// <summary>The Lab input that loops an RS232/RS485 Bricklet's transmit line back to its receive line.</summary>
    public const string LoopbackInput = "Loopback";

    private readonly SimulatedBrickDevice _device;
    /// <summary>Written stream data by where the getter reads it: subject (ReadPixels) and, for keyed streams, the key's bytes.</summary>
    private readonly Dictionary<string, List<object>> _written = new(StringComparer.Ordinal);
    /// <summary>Out-streams being read, by low-level function id.</summary>
    private readonly Dictionary<byte, OutStream> _reading = new();
    /// <summary>What a looped-back serial Bricklet received and nobody read yet.</summary>
    private readonly Queue<char> _received = new();
    /// <summary>The message a serial Bricklet is being given chunk by chunk.</summary>
    private readonly List<char> _sending = new();
    /// <summary>Stream callbacks to send, chunk by chunk, with the next callback collection.</summary>
    private readonly List<(byte FunctionId, byte[] Payload)> _pendingCallbacks = new();

    public SimulatedStreams(SimulatedBrickDevice device) => _device = device;

    public bool Loopback { get; set; }

    /// <summary>Runs a low-level stream function; null when it is not one (the device's generic handling answers it).</summary>
    public DeviceAnswer? Run(BrickFunction function, byte[] payload)
    {
        if (function.Stream is not { } stream) return null;
        if (stream.SingleChunk && stream.Direction == BrickStreamDirection.In) return null; // stored and read back as one setter
        var request = BrickPayload.Unpack(function.Parameters, payload);
        return stream.Direction == BrickStreamDirection.In ? Write(function, stream, request) : Read(function, stream, payload, request);
    }

    /// <summary>Moves pending stream callbacks to <paramref name="due"/>; true when there were any.</summary>
    public bool CollectCallbacks(List<(uint Uid, byte FunctionId, byte[] Payload)> due)
    {
        foreach (var (id, payload) in _pendingCallbacks) due.Add((_device.UidValue, id, payload));
        bool any = _pendingCallbacks.Count > 0;
        _pendingCallbacks.Clear();
        return any;
    }

    private DeviceAnswer Write(BrickFunction function, BrickStream stream, BrickValues request)
    {
        var carrier = function.Parameters;
        int length = stream.LengthIndex >= 0 ? ToInt(request[carrier[stream.LengthIndex].Name]) : stream.FixedLength!.Value;
        int offset = stream.ChunkOffsetIndex >= 0 ? ToInt(request[carrier[stream.ChunkOffsetIndex].Name]) : 0;
        var chunk = ((Array)request[carrier[stream.DataIndex].Name]!).Cast<object>().ToArray();
        int count = Math.Clamp(length - offset, 0, chunk.Length);
        var response = new byte[function.ResponsePayloadLength];
        if (stream.WrittenIndex >= 0) response[OffsetOf(function.Returns, stream.WrittenIndex)] = (byte)count;
        string? subject = ReaderOf(function.Name);
        if (function.Name == "WriteLowLevel")
        {
            // The other end of the loop receives the message once it is sent whole, as one stream of its own.
            if (offset == 0) _sending.Clear();
            _sending.AddRange(chunk.Take(count).Cast<char>());
            if (Loopback && offset + count >= length) Receive(_sending);
            return DeviceAnswer.Ok(response);
        }
        if (subject is null) return DeviceAnswer.Ok(response);
        var getter = _device.Type.Function(subject + "LowLevel");
        var (key, cellOf, _) = Placement(getter, request);
        var cells = Cells(subject + key, length, offset == 0 && cellOf is null);
        for (int i = 0; i < count; i++)
        {
            int cell = cellOf?.Invoke(offset + i) ?? offset + i;
            while (cells.Count <= cell) cells.Add(chunk[i] is bool ? false : Convert.ChangeType(0, chunk[i].GetType(), CultureInfo.InvariantCulture));
            cells[cell] = chunk[i];
        }
        return DeviceAnswer.Ok(response);
    }

    private DeviceAnswer Read(BrickFunction function, BrickStream stream, byte[] payload, BrickValues request)
    {
        var carrier = function.Returns;
        var chunkSpec = carrier[stream.DataIndex];
        if (!_reading.TryGetValue(function.Id, out var reading) || !reading.Request.AsSpan().SequenceEqual(payload))
        {
            reading = new OutStream(payload, StreamData(function, stream, request));
            _reading[function.Id] = reading;
        }
        int offset = reading.NextOffset;
        var data = reading.Data;
        int chunkLength = stream.ChunkLength(carrier);
        reading.NextOffset += chunkLength;
        if (reading.NextOffset >= data.Count || stream.SingleChunk) _reading.Remove(function.Id);
        var response = new byte[function.ResponsePayloadLength];
        int position = 0;
        for (int index = 0; index < carrier.Count; index++)
        {
            var spec = carrier[index];
            object value = index == stream.DataIndex ? BrickStream.Chunk(chunkSpec, data, offset)
                : index == stream.LengthIndex ? data.Count
                : index == stream.ChunkOffsetIndex ? offset
                : _device.CurrentValue(spec);
            BrickPayload.Write(spec, value, response.AsSpan(position, spec.ByteLength));
            position += spec.ByteLength;
        }
        return DeviceAnswer.Ok(response);
    }

    /// <summary>The whole data an out-stream read starts: what was written, what a serial port received, or plausible data.</summary>
    private List<object> StreamData(BrickFunction function, BrickStream stream, BrickValues request)
    {
        var chunkSpec = function.Returns[stream.DataIndex];
        var (key, cellOf, placed) = Placement(function, request);
        if (function.Name == "ReadLowLevel")
        {
            var message = new List<object>();
            while (message.Count < placed && _received.Count > 0) message.Add(_received.Dequeue());
            return message;
        }
        string subject = function.Name[..^"LowLevel".Length];
        int length = stream.FixedLength ?? placed ?? -1;
        if (_written.TryGetValue(subject + key, out var cells) || placed is not null)
        {
            cells ??= new List<object>();
            if (length < 0) return cells.ToList();
            var zero = BrickStream.Chunk(chunkSpec, Array.Empty<object>(), 0)[0]!;
            return Enumerable.Range(0, length).Select(i => cellOf?.Invoke(i) ?? i).Select(cell => cell < cells.Count ? cells[cell] : zero).ToList();
        }
        if (length < 0) length = stream.SingleChunk ? Math.Min(8, chunkSpec.Count) : PlausibleLength(stream.Name);
        return Enumerable.Range(0, length).Select(i => Plausible(chunkSpec, i, length)).ToList();
    }

    /// <summary>
    /// Where a getter's stream lives: a display window (XStart…YEnd: element i is the pixel at row i / width of the
    /// window), an offset into a strip (Index with a Length), or, for other getters with arguments, a buffer of its own
    /// per argument (the graph of GetGUIGraphData). Returns the key of the buffer, how element i maps to a cell and how
    /// many elements the getter asks for (the window's pixels, the Length argument), if it says.
    /// </summary>
    private static (string Key, Func<int, int>? CellOf, int? Length) Placement(BrickFunction? getter, BrickValues request)
    {
        if (getter is null) return ("", null, null);
        var names = getter.Parameters.Select(p => p.Name).ToArray();
        if (names.Contains("XStart") && names.Contains("YEnd"))
        {
            int xStart = ToInt(request["XStart"]), yStart = ToInt(request["YStart"]), xEnd = ToInt(request["XEnd"]);
            int width = Math.Max(xEnd - xStart + 1, 1);
            int displayWidth = getter.Parameters.First(p => p.Name == "XEnd").Range is [{ Maximum: double max }] ? (int)max + 1 : 128;
            int height = Math.Max(ToInt(request["YEnd"]) - yStart + 1, 0);
            return ("", i => (yStart + i / width) * displayWidth + xStart + i % width, xEnd >= xStart ? width * height : 0);
        }
        int? requested = names.Contains("Length") && request.ContainsKey("Length") ? ToInt(request["Length"]) : null;
        if (names.Contains("Index") && names.Contains("Length"))
        {
            int index = ToInt(request["Index"]);
            return ("", i => index + i, requested);
        }
        var key = getter.Parameters.Where(p => p.Name != "Length" && request.ContainsKey(p.Name)).Select(p => Convert.ToString(request[p.Name], CultureInfo.InvariantCulture));
        return (string.Concat(key.Select(k => ":" + k)), null, requested);
    }

    /// <summary>The cells of a written stream; a whole buffer (not a window or strip) starts over when a new write begins.</summary>
    private List<object> Cells(string name, int length, bool replace)
    {
        if (replace || !_written.TryGetValue(name, out var cells))
        {
            cells = new List<object>(length);
            _written[name] = cells;
        }
        return cells;
    }

    /// <summary>What a looped-back serial port received: Read returns it, or the enabled Read callback sends it in chunks.</summary>
    private void Receive(IEnumerable<char> message)
    {
        var text = message.ToArray();
        var callback = _device.Type.Callbacks.FirstOrDefault(c => c.Name == "ReadLowLevel" && c.Stream is not null);
        if (callback is null || !_device.IsEnabled("ReadCallback"))
        {
            foreach (char c in text) _received.Enqueue(c);
            return;
        }
        var stream = callback.Stream!;
        int chunkLength = stream.ChunkLength(callback.Values);
        for (int offset = 0; offset < text.Length; offset += chunkLength)
        {
            var payload = new byte[callback.PayloadLength];
            int position = 0;
            for (int index = 0; index < callback.Values.Count; index++)
            {
                var spec = callback.Values[index];
                object value = index == stream.DataIndex ? BrickStream.Chunk(spec, text.Cast<object?>().ToArray(), offset)
                    : index == stream.LengthIndex ? text.Length
                    : index == stream.ChunkOffsetIndex ? offset
                    : _device.CurrentValue(spec);
                BrickPayload.Write(spec, value, payload.AsSpan(position, spec.ByteLength));
                position += spec.ByteLength;
            }
            _pendingCallbacks.Add((callback.Id, payload));
        }
    }

    /// <summary>The getter that reads what a stream setter writes: WritePixelsLowLevel → ReadPixels, SetLEDValuesLowLevel → GetLEDValues.</summary>
    private string? ReaderOf(string setter)
    {
        string name = setter[..^"LowLevel".Length];
        foreach (var (write, read) in new[] { ("Write", "Read"), ("Set", "Get") })
        {
            int at = name.IndexOf(write, StringComparison.Ordinal);
            if (at < 0) continue;
            string reader = name[..at] + read + name[(at + write.Length)..];
            if (_device.Type.Function(reader + "LowLevel") is not null) return reader;
        }
        return null;
    }

    /// <summary>How long an out-stream nothing wrote is: a spectrum of 512 bins, a 512-channel DMX frame, a few identifiers.</summary>
    private static int PlausibleLength(string stream) => stream switch
    {
        "Spectrum" or "Frame" => 512,
        "Identifiers" => 3,
        "Identifier" => 2,
        _ => 16,
    };

    /// <summary>
    /// Element <paramref name="i"/> of <paramref name="length"/>: a sine through the middle of the element's range (an
    /// energy monitor's waveform alternates voltage and current), a thermal image's gradient around 22 °C in 1/100 K,
    /// a 1-Wire family code in the top byte; never all zeros, so a test can see the data.
    /// </summary>
    private static object Plausible(BrickValueSpec chunk, int i, int length)
    {
        double wave = Math.Sin(2 * Math.PI * i / Math.Max(length / 8.0, 1));
        double value = chunk.Type switch
        {
            BrickWireType.UInt16 when chunk.Unit == "Kelvin" => 29500 + 300 * (i % 80) / 80.0 + 200 * (i / 80) / 60.0,
            BrickWireType.UInt16 => 500 + 400 * Math.Abs(wave),
            BrickWireType.Int16 => (i % 2 == 0 ? 32500 : 1000) * wave,
            BrickWireType.UInt8 => 1 + (i * 254 / Math.Max(length - 1, 1)),
            BrickWireType.UInt64 => 0,
            _ => i % 2,
        };
        return chunk.Type switch
        {
            BrickWireType.UInt64 => (0x28UL << 56) + (ulong)i + 1,
            BrickWireType.Bool => i % 2 == 0,
            BrickWireType.Char => (char)('a' + i % 26),
            _ => BrickPayload.Read(chunk with { Count = 1, IsArray = false }, Bytes(chunk, Math.Round(value))),
        };
    }

    private static byte[] Bytes(BrickValueSpec chunk, double value)
    {
        var element = chunk with { Count = 1, IsArray = false };
        var bytes = new byte[element.ByteLength];
        BrickPayload.Write(element, value, bytes);
        return bytes;
    }

    private static int OffsetOf(IReadOnlyList<BrickValueSpec> values, int index) => values.Take(index).Sum(v => v.ByteLength);

    private static int ToInt(object? value) => Convert.ToInt32(value, CultureInfo.InvariantCulture);

    /// <summary>An out-stream being read: the request that started it, its data and the next chunk's offset.</summary>
    private sealed class OutStream(byte[] request, List<object> data)
    {
        public byte[] Request { get; } = request;

        public List<object> Data { get; } = data;

        public int NextOffset { get; set; }
    }
}
