using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace DeviceShell.Engine.Gateway.Grpc;

/// <summary>
/// The parts of gRPC over HTTP/2 that client and server share: header names, the 5-byte message prefix
/// (compressed flag + big-endian length), the grpc-timeout header and grpc-message percent-encoding.
/// </summary>
public static class GrpcWire
{
    public const string ContentType = "application/grpc";
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";
    public const string StatusDetailsHeader = "grpc-status-details-bin";
    public const string TimeoutHeader = "grpc-timeout";
    public const string EncodingHeader = "grpc-encoding";
    public const int PrefixLength = 5;

    /// <summary>The limit both ends apply unless told otherwise (the gateway's sample config uses 72 MiB).</summary>
    public const int DefaultMaxMessageSize = 4 * 1024 * 1024;

    /// <summary>One uncompressed length-prefixed message.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> message)
    {
        var frame = new byte[PrefixLength + message.Length];
        frame[0] = 0; // not compressed: we never announce a grpc-encoding
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame.AsSpan(PrefixLength));
        return frame;
    }

    /// <summary>
    /// Reads the next message from <paramref name="stream"/>; null at a clean end of stream.
    /// A partial prefix or body, a compressed message (no encoding was negotiated) or a length above
    /// <paramref name="maxMessageSize"/> ends the call with the status the protocol asks for.
    /// </summary>
    public static async Task<byte[]?> ReadMessageAsync(Stream stream, int maxMessageSize, CancellationToken cancellationToken)
    {
        var prefix = new byte[PrefixLength];
        int got = await ReadFullyAsync(stream, prefix, cancellationToken).ConfigureAwait(false);
        if (got == 0) return null;
        if (got < PrefixLength) throw new GrpcException(GrpcStatusCode.Internal, "The stream ended inside a message prefix.");
        if (prefix[0] != 0)
            throw new GrpcException(GrpcStatusCode.Internal, prefix[0] == 1 ? "A compressed message arrived although no encoding was negotiated." : $"Bad compressed flag {prefix[0]}.");
        uint length = BinaryPrimitives.ReadUInt32BigEndian(prefix.AsSpan(1));
        if (length > (uint)maxMessageSize)
            throw new GrpcException(GrpcStatusCode.ResourceExhausted, $"Received message larger than max ({length} vs. {maxMessageSize}).");
        var body = new byte[length];
        if (await ReadFullyAsync(stream, body, cancellationToken).ConfigureAwait(false) < length)
            throw new GrpcException(GrpcStatusCode.Internal, "The stream ended inside a message.");
        return body;
    }

    private static async Task<int> ReadFullyAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (read == 0) break;
            total += read;
        }
        return total;
    }

    /// <summary>grpc-timeout value: at most 8 digits and a unit (H, M, S, m, u, n).</summary>
    public static string FormatTimeout(TimeSpan timeout)
    {
        long milliseconds = Math.Max(1, (long)Math.Ceiling(timeout.TotalMilliseconds));
        if (milliseconds < 100_000_000) return milliseconds.ToString(CultureInfo.InvariantCulture) + "m";
        long seconds = Math.Min(99_999_999, (milliseconds + 999) / 1000);
        return seconds.ToString(CultureInfo.InvariantCulture) + "S";
    }

    public static TimeSpan? ParseTimeout(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length < 2 || value.Length > 9) return null;
        if (!long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long amount)) return null;
        return value[^1] switch
        {
            'H' => TimeSpan.FromHours(amount),
            'M' => TimeSpan.FromMinutes(amount),
            'S' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMilliseconds(amount),
            'u' => TimeSpan.FromTicks(amount * 10),
            'n' => TimeSpan.FromTicks(amount / 100),
            _ => null,
        };
    }

    /// <summary>grpc-message is UTF-8 with bytes outside printable ASCII (and '%') written as %XX.</summary>
    public static string EncodeMessage(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            if (b >= 0x20 && b <= 0x7E && b != (byte)'%') builder.Append((char)b);
            else builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return builder.ToString();
    }

    public static string DecodeMessage(string? encoded)
    {
        if (string.IsNullOrEmpty(encoded)) return string.Empty;
        var bytes = new List<byte>(encoded.Length);
        for (int i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] == '%' && i + 2 < encoded.Length
                && byte.TryParse(encoded.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte value))
            {
                bytes.Add(value);
                i += 2;
            }
            else
            {
                bytes.Add((byte)encoded[i]);
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Binary (-bin) headers are base64, padded or not.</summary>
    public static byte[]? DecodeBinaryHeader(string? value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        string padded = value.Length % 4 == 0 ? value : value + new string('=', 4 - value.Length % 4);
        try
        {
            return Convert.FromBase64String(padded);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
