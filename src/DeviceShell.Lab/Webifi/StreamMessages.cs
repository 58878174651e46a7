using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// The messages of one routing call as one binary string: relay A sends them to route.lua as one argument, the script
/// stores them in a recipient's stream entry as one field without looking inside, and relay B reads them straight into
/// the mailbox (<see cref="RedisMailbox"/>). Per message: the byte lengths of its data type, message id (0: none) and
/// data, each 4 bytes little-endian, then those bytes. route.lua walks the lengths only for a recipient that has no
/// room for all of them (its <c>struct.unpack('&lt;I4I4I4')</c> is this layout).
/// </summary>
internal static class StreamMessages
{
    private const int HeaderBytes = 12;

    /// <summary>Appends one data group.</summary>
    public static void Append(ArrayBufferWriter<byte> output, RelayDataGroup group)
    {
        int typeBytes = Encoding.UTF8.GetByteCount(group.DataType);
        int idBytes = group.MessageId is null ? 0 : Encoding.UTF8.GetByteCount(group.MessageId);
        var span = output.GetSpan(HeaderBytes + typeBytes + idBytes + group.Data.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span, typeBytes);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], idBytes);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], group.Data.Length);
        int at = HeaderBytes;
        at += Encoding.UTF8.GetBytes(group.DataType, span[at..]);
        if (group.MessageId is not null) at += Encoding.UTF8.GetBytes(group.MessageId, span[at..]);
        group.Data.CopyTo(span[at..]);
        output.Advance(at + group.Data.Length);
    }

    /// <summary>Reads the messages of a stream entry's field in order.</summary>
    public ref struct Reader(ReadOnlySpan<byte> messages)
    {
        private ReadOnlySpan<byte> _rest = messages;

        /// <summary>The next message; a field cut short (not written by route.lua) throws <see cref="InvalidDataException"/>.</summary>
        public void Read(out ReadOnlySpan<byte> dataType, out ReadOnlySpan<byte> messageId, out ReadOnlySpan<byte> data)
        {
            if (_rest.Length < HeaderBytes) throw new InvalidDataException("A Redis stream entry's messages are cut short.");
            int typeBytes = BinaryPrimitives.ReadInt32LittleEndian(_rest);
            int idBytes = BinaryPrimitives.ReadInt32LittleEndian(_rest[4..]);
            int dataBytes = BinaryPrimitives.ReadInt32LittleEndian(_rest[8..]);
            if (typeBytes < 0 || idBytes < 0 || dataBytes < 0 || (long)typeBytes + idBytes + dataBytes > _rest.Length - HeaderBytes)
                throw new InvalidDataException("A Redis stream entry's messages are cut short.");
            var body = _rest[HeaderBytes..];
            dataType = body[..typeBytes];
            messageId = body.Slice(typeBytes, idBytes);
            data = body.Slice(typeBytes + idBytes, dataBytes);
            _rest = body[(typeBytes + idBytes + dataBytes)..];
        }
    }
}
