using System.Buffers;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace DeviceShell.Engine.Webifi;

/// <summary>The status line and headers of an HTTP/1.1 answer (header names compared without case).</summary>
internal sealed record HttpAnswerHead(int StatusCode, string Reason, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// One HTTP/1.1 exchange on a connection of its own, as the official library makes every request (docs/design/webifi.md §1:
/// Python's http.client, a new connection per request): TCP, TLS for <c>https</c>/<c>wss</c>, the request, the answer's
/// head read a byte at a time (what follows it may belong to a WebSocket), and for a POST the body by its length,
/// chunked, or up to the close. Used for the WebSocket upgrade (<see cref="WebSocketHandshake"/>) and the login POST.
/// Why not <c>HttpClient</c> for the login: its first request in a process JIT-compiles about 290 methods of
/// <c>SocketsHttpHandler</c> (57 of a first Connect-Webifi's 155 ms, docs/benchmarks.md "Webifi's first connect"),
/// where this exchange needs a few dozen. Long polling keeps <c>HttpClient</c>: its pooled connections serve a stream of requests.
/// </summary>
internal static class RelayConnection
{
    /// <summary>An answer's head is a status line and a few headers; anything longer is not a Webifi server.</summary>
    private const int MaxHeadBytes = 8 * 1024;

    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] LineEnd = "\r\n"u8.ToArray();

    /// <summary>A chunk-size line is a hex number with perhaps an extension; anything longer is not HTTP.</summary>
    private const int MaxChunkLineBytes = 256;

    /// <summary>Connects to <paramref name="uri"/>'s host and port, with TLS (checked by <see cref="WebifiLogin.CertificateCheck"/>) for https and wss.</summary>
    /// <exception cref="SocketException">The host did not take the connection.</exception>
    /// <exception cref="AuthenticationException">The TLS handshake failed or the certificate was refused.</exception>
    public static async Task<Stream> OpenAsync(Uri uri, X509Certificate2? trusted, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(uri.IdnHost, uri.Port, cancellationToken).ConfigureAwait(false);
            stream = new InlineSendStream(socket);
            if (uri.Scheme is "wss" or "https")
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = uri.IdnHost,
                    RemoteCertificateValidationCallback = WebifiLogin.CertificateCheck(trusted),
                }, cancellationToken).ConfigureAwait(false);
            }
            return stream;
        }
        catch
        {
            if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
            else socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// POSTs <paramref name="body"/> as <c>application/octet-stream</c> with the headers the official library sends, and
    /// returns the status and, for a 200, the body (never more than <paramref name="maxAnswerBytes"/> of it read).
    /// </summary>
    /// <exception cref="IOException">The connection closed early, or the answer is not HTTP.</exception>
    /// <exception cref="InvalidDataException">The body is longer than <paramref name="maxAnswerBytes"/>.</exception>
    public static async Task<(int StatusCode, byte[] Body)> PostAsync(Uri uri, X509Certificate2? trusted, byte[] body, int maxAnswerBytes, CancellationToken cancellationToken)
    {
        await using var stream = await OpenAsync(uri, trusted, cancellationToken).ConfigureAwait(false);
        string request = $"POST {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nAccept-Encoding: identity\r\n"
            + $"Content-Type: application/octet-stream\r\nContent-Length: {body.Length.ToString(CultureInfo.InvariantCulture)}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        HttpAnswerHead head;
        do
        {
            head = await ReadHeadAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        while (head.StatusCode is >= 100 and < 200); // an interim answer (100 Continue) comes before the real one
        if (head.StatusCode != 200) return (head.StatusCode, Array.Empty<byte>());
        return (200, await ReadBodyAsync(stream, head, maxAnswerBytes, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Reads the answer's status line and headers, a byte at a time: nothing past the blank line is taken from the stream.</summary>
    /// <exception cref="IOException">The connection closed before the blank line, the head is too long, or it is not HTTP/1.x.</exception>
    public static async Task<HttpAnswerHead> ReadHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxHeadBytes);
        string head;
        try
        {
            int length = await ReadLineBytesAsync(stream, buffer, MaxHeadBytes, HeadEnd, "answer head", cancellationToken).ConfigureAwait(false);
            head = Encoding.Latin1.GetString(buffer, 0, length - 4);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        string[] lines = head.Split("\r\n");
        string[] status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal)
            || !int.TryParse(status[1], NumberStyles.None, CultureInfo.InvariantCulture, out int code))
            throw new IOException("The server's answer is not HTTP/1.x.");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string line in lines.AsSpan(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0) headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        return new HttpAnswerHead(code, status.Length > 2 ? status[2] : "", headers);
    }

    /// <summary>Reads into <paramref name="buffer"/> up to and including <paramref name="end"/>, a byte at a time; returns the length read.</summary>
    private static async Task<int> ReadLineBytesAsync(Stream stream, byte[] buffer, int limit, byte[] end, string what, CancellationToken cancellationToken)
    {
        int length = 0;
        while (length < end.Length || !buffer.AsSpan(length - end.Length, end.Length).SequenceEqual(end))
        {
            if (length == limit) throw new IOException($"The server's {what} went past {limit} bytes.");
            if (await stream.ReadAsync(buffer.AsMemory(length, 1), cancellationToken).ConfigureAwait(false) == 0)
                throw new IOException($"The server closed the connection in the middle of its {what}.");
            length++;
        }
        return length;
    }

    private static Task<byte[]> ReadBodyAsync(Stream stream, HttpAnswerHead head, int maxAnswerBytes, CancellationToken cancellationToken)
    {
        if (head.Headers.TryGetValue("Transfer-Encoding", out string? coding) && coding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            return ReadChunkedAsync(stream, maxAnswerBytes, cancellationToken);
        long? length = null;
        if (head.Headers.TryGetValue("Content-Length", out string? declared))
        {
            if (!long.TryParse(declared, NumberStyles.None, CultureInfo.InvariantCulture, out long parsed)) throw new IOException($"The server sent a Content-Length that is not a number: '{declared}'.");
            if (parsed > maxAnswerBytes) throw TooLong(maxAnswerBytes);
            length = parsed;
        }
        return ReadBodyAsync(stream, length, maxAnswerBytes, cancellationToken);
    }

    /// <summary>
    /// Reads a body of <paramref name="length"/> bytes (already checked against the limit), or without one up to the end of
    /// the stream into a buffer that never grows past <paramref name="maxAnswerBytes"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The body went past <paramref name="maxAnswerBytes"/>.</exception>
    public static async Task<byte[]> ReadBodyAsync(Stream stream, long? length, int maxAnswerBytes, CancellationToken cancellationToken)
    {
        if (length is long exactLength)
        {
            // The usual case: exactly the declared size, no intermediate buffer.
            var exact = new byte[exactLength];
            await stream.ReadExactlyAsync(exact, cancellationToken).ConfigureAwait(false);
            return exact;
        }
        using var answer = new MemoryStream();
        // A pooled chunk, not one per session or request: the answer grows on demand.
        byte[] chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (answer.Length + read > maxAnswerBytes) throw TooLong(maxAnswerBytes);
                answer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return answer.ToArray();
    }

    /// <summary>Decodes a chunked body (RFC 9112 §7.1): size lines in hex, perhaps with extensions, up to the last (0) chunk and its trailers.</summary>
    private static async Task<byte[]> ReadChunkedAsync(Stream stream, int maxAnswerBytes, CancellationToken cancellationToken)
    {
        using var answer = new MemoryStream();
        byte[] line = new byte[MaxChunkLineBytes];
        while (true)
        {
            int length = await ReadLineBytesAsync(stream, line, MaxChunkLineBytes, LineEnd, "chunk size line", cancellationToken).ConfigureAwait(false);
            var size = line.AsSpan(0, length - 2);
            int extension = size.IndexOf((byte)';');
            if (extension >= 0) size = size[..extension];
            if (!int.TryParse(Encoding.ASCII.GetString(size).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int chunkBytes) || chunkBytes < 0)
                throw new IOException("The server sent a chunk size that is not a hex number.");
            if (chunkBytes == 0) break;
            if (answer.Length + chunkBytes > maxAnswerBytes) throw TooLong(maxAnswerBytes);
            byte[] chunk = new byte[chunkBytes + 2];
            await stream.ReadExactlyAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (!chunk.AsSpan(chunkBytes).SequenceEqual(LineEnd)) throw new IOException("The server sent a chunk longer than its chunk size says.");
            answer.Write(chunk, 0, chunkBytes);
        }
        // Trailer lines, if any, up to the empty line that ends the body.
        while (await ReadLineBytesAsync(stream, line, MaxChunkLineBytes, LineEnd, "trailer lines", cancellationToken).ConfigureAwait(false) > 2)
        {
        }
        return answer.ToArray();
    }

    /// <summary>What a body past the limit throws, whichever way it was read.</summary>
    public static InvalidDataException TooLong(int maxAnswerBytes) => new($"longer than {maxAnswerBytes} bytes");
}
