using System.Buffers;
using System.Text;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.PiLink;

/// <summary>One decoded unit of the byte stream: a complete message, or the report that a message outgrew the limit.</summary>
internal readonly record struct PiLinkFrame(string? Text, long OversizedBytes)
{
    public bool IsOversized => Text is null;
}

/// <summary>
/// tcpcom framing (docs/design/pilink-tcpcom.md §5): UTF-8 text, one terminator byte after each message, no escaping.
/// Bytes are collected until a terminator and only then decoded, so a multi-byte character split across reads
/// is whole again when it is decoded (upstream's Python 3 port decodes each read and drops the link there).
/// A message longer than the limit is reported once, as soon as the limit is passed, and its remaining bytes
/// are skipped up to the next terminator; the messages after it are delivered as usual.
/// The bytes of a message in progress live in a buffer from the shared pool that grows on demand; one larger than
/// <see cref="KeptBufferBytes"/> goes back as soon as its message is complete, so a peer that once sent a big message
/// does not pin it for the life of the link, and <see cref="Release"/> returns the rest when the link ends.
/// </summary>
internal sealed class PiLinkFrameDecoder
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);
    private readonly byte _terminator;
    private readonly int _maxMessageBytes;
    /// <summary>The largest pending buffer kept between messages.</summary>
    public const int KeptBufferBytes = 4096;

    private byte[] _pending = [];
    private int _pendingLength;
    private long _skipped = -1;

    public PiLinkFrameDecoder(byte terminator, int maxMessageBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessageBytes, 1);
        _terminator = terminator;
        _maxMessageBytes = maxMessageBytes;
    }

    /// <summary>Bytes of the message in progress (received, no terminator yet).</summary>
    public int PendingBytes => _pendingLength;

    /// <summary>Feeds received bytes; appends every frame they complete to <paramref name="frames"/>, in order.</summary>
    public void Push(ReadOnlySpan<byte> received, List<PiLinkFrame> frames)
    {
        while (!received.IsEmpty)
        {
            int end = received.IndexOf(_terminator);
            ReadOnlySpan<byte> part = end < 0 ? received : received[..end];
            Collect(part, frames);
            if (end < 0) return;
            Complete(frames);
            received = received[(end + 1)..];
        }
    }

    private void Collect(ReadOnlySpan<byte> part, List<PiLinkFrame> frames)
    {
        if (_skipped >= 0)
        {
            _skipped += part.Length;
            return;
        }
        if ((long)_pendingLength + part.Length > _maxMessageBytes)
        {
            frames.Add(new PiLinkFrame(null, _pendingLength + part.Length));
            _skipped = _pendingLength + part.Length;
            _pendingLength = 0;
            Release();
            return;
        }
        if (_pendingLength + part.Length > _pending.Length) Grow(_pendingLength + part.Length);
        part.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength += part.Length;
    }

    private void Complete(List<PiLinkFrame> frames)
    {
        if (_skipped >= 0)
        {
            _skipped = -1; // the oversized message ends here; it was reported when it passed the limit
            return;
        }
        int length = _pendingLength;
        // With a newline terminator, accept CR LF from telnet-style clients as well.
        if (_terminator == (byte)'\n' && length > 0 && _pending[length - 1] == (byte)'\r') length--;
        frames.Add(new PiLinkFrame(length == 0 ? "" : Utf8.GetString(_pending, 0, length), 0));
        _pendingLength = 0;
        if (_pending.Length > KeptBufferBytes) Release();
    }

    private void Grow(int needed)
    {
        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(_maxMessageBytes, Math.Max(Math.Max(_pending.Length * 2, 256), needed)));
        _pending.AsSpan(0, _pendingLength).CopyTo(larger);
        ReturnPending();
        _pending = larger;
    }

    /// <summary>Gives the pending buffer back to the pool (the message in progress, if any, is forgotten).</summary>
    public void Release()
    {
        _pendingLength = 0;
        ReturnPending();
        _pending = [];
    }

    private void ReturnPending()
    {
        if (_pending.Length > 0) ArrayPool<byte>.Shared.Return(_pending);
    }

    /// <summary>The bytes to send for <paramref name="text"/>: UTF-8 plus the terminator.</summary>
    /// <exception cref="DeviceException">InvalidArgument when the text holds the terminator or is over the limit.</exception>
    public static byte[] Encode(string text, byte terminator, int maxMessageBytes)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains((char)terminator, StringComparison.Ordinal))
            throw new DeviceException(DeviceErrorKind.InvalidArgument, "PiLinkMessageHasTerminator",
                $"The message contains the terminator character (0x{terminator:X2}), which would split it in two on the wire.", text);
        int length = Utf8.GetByteCount(text);
        if (length > maxMessageBytes)
            throw new DeviceException(DeviceErrorKind.InvalidArgument, "PiLinkMessageTooLarge",
                $"The message is {length} bytes long in UTF-8; the limit is {maxMessageBytes} bytes.", length);
        var bytes = new byte[length + 1];
        Utf8.GetBytes(text, bytes);
        bytes[length] = terminator;
        return bytes;
    }
}
