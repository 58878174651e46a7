using System.Buffers.Binary;

namespace DeviceShell.Engine.Bricks;

/// <summary>Function IDs with a fixed meaning on every device or on the Brick Daemon (docs/design/bricks-tfp.md §3).</summary>
internal static class TfpFunction
{
    public const byte GetAuthenticationNonce = 1;
    public const byte Authenticate = 2;
    public const byte DisconnectProbe = 128;
    public const byte GetChipTemperature = 242;
    public const byte CallbackEnumerate = 253;
    public const byte Enumerate = 254;
    public const byte GetIdentity = 255;
}

/// <summary>
/// One TFP packet: 8-byte header (UID, length, function ID, sequence number + response-expected flag,
/// error code) and up to 64 bytes of payload, all little endian (docs/design/bricks-tfp.md §1).
/// </summary>
internal readonly record struct TfpPacket(uint Uid, byte FunctionId, byte Sequence, bool ResponseExpected, byte ErrorCode, byte[] Payload)
{
    public const int HeaderLength = 8;
    public const int MaxPayloadLength = 64;

    /// <summary>The largest length brickd accepts (its packet struct carries 8 extra bytes); anything above means the stream is broken.</summary>
    public const int MaxAcceptedLength = 80;

    public int Length => HeaderLength + Payload.Length;

    /// <summary>Reads the length byte of a header; the caller checks it against 8..80.</summary>
    public static int LengthOf(ReadOnlySpan<byte> header) => header[4];

    public static TfpPacket Read(ReadOnlySpan<byte> packet)
    {
        byte options = packet[6];
        return new TfpPacket(
            BinaryPrimitives.ReadUInt32LittleEndian(packet),
            packet[5],
            (byte)(options >> 4),
            (options & 0x08) != 0,
            (byte)(packet[7] >> 6),
            packet[HeaderLength..packet[4]].ToArray());
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return bytes;
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Uid);
        destination[4] = (byte)Length;
        destination[5] = FunctionId;
        destination[6] = (byte)((Sequence << 4) | (ResponseExpected ? 0x08 : 0));
        destination[7] = (byte)(ErrorCode << 6);
        Payload.CopyTo(destination[HeaderLength..]);
    }

    public override string ToString() =>
        $"uid {BrickUid.Encode(Uid)} fid {FunctionId} seq {Sequence}{(ResponseExpected ? " R" : "")}{(ErrorCode != 0 ? $" error {ErrorCode}" : "")} len {Length}";
}

/// <summary>
/// Splits a byte stream into TFP packets. A length byte outside 8..80 means the stream can no longer be
/// trusted (there is no way to find the next header), so <see cref="TryTake"/> reports it instead of guessing.
/// </summary>
internal sealed class TfpFramer
{
    private readonly byte[] _buffer;
    private int _filled;

    /// <param name="capacity">Bytes it holds; at least <see cref="TfpPacket.MaxAcceptedLength"/>, so that a whole packet fits.</param>
    public TfpFramer(int capacity = 4096) => _buffer = new byte[Math.Max(capacity, TfpPacket.MaxAcceptedLength)];

    public Memory<byte> FreeSpace => _buffer.AsMemory(_filled);

    public void Advance(int count) => _filled += count;

    /// <summary>Copies as much of <paramref name="bytes"/> as fits and returns how much; take the packets, then fill again.</summary>
    public int Fill(ReadOnlySpan<byte> bytes)
    {
        int count = Math.Min(bytes.Length, _buffer.Length - _filled);
        bytes[..count].CopyTo(_buffer.AsSpan(_filled));
        _filled += count;
        return count;
    }

    /// <summary>Takes the next complete packet. Returns false when more bytes are needed; throws <see cref="InvalidDataException"/> on a bad length.</summary>
    public bool TryTake(out TfpPacket packet)
    {
        packet = default;
        if (_filled < 5) return false;
        int length = TfpPacket.LengthOf(_buffer);
        if (length < TfpPacket.HeaderLength || length > TfpPacket.MaxAcceptedLength)
            throw new InvalidDataException($"A packet announced length {length}; valid lengths are {TfpPacket.HeaderLength}..{TfpPacket.MaxAcceptedLength}.");
        if (_filled < length) return false;
        packet = TfpPacket.Read(_buffer.AsSpan(0, length));
        _filled -= length;
        Buffer.BlockCopy(_buffer, length, _buffer, 0, _filled);
        return true;
    }
}
