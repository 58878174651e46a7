using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace DeviceShell.Engine.Webifi;

/// <summary>
/// Opens a client WebSocket on a connection of its own: TCP, TLS for <c>wss</c>, the HTTP/1.1 upgrade request and its
/// <c>101</c> answer checked as RFC 6455 (section 4.1) asks, then the framing of <see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/>.
/// Why not <see cref="ClientWebSocket"/>: it upgrades through <c>SocketsHttpHandler</c>, whose HTTP/1.1 connection stays
/// under the WebSocket with its 4 KiB read and write buffers for the socket's life — 8 KiB of an idle session's 43, the
/// largest part a session can size (docs/benchmarks.md, "Webifi idle session"); <c>ClientWebSocketOptions.SetBuffer</c>
/// does not reach them. A relay reached through a proxy still goes through <see cref="ClientWebSocket"/>, which tunnels.
/// </summary>
internal static class WebSocketHandshake
{
    /// <summary>An upgrade answer is a status line and a few headers; anything longer is not a WebSocket relay.</summary>
    private const int MaxAnswerHeadBytes = 8 * 1024;

    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>True when .NET's proxy settings (the environment's <c>http_proxy</c>, <c>https_proxy</c>) send <paramref name="uri"/> through a proxy.</summary>
    public static bool ThroughProxy(Uri uri)
    {
        var asHttp = new UriBuilder(uri) { Scheme = uri.Scheme == "wss" ? Uri.UriSchemeHttps : Uri.UriSchemeHttp }.Uri;
        var proxy = HttpClient.DefaultProxy;
        return !proxy.IsBypassed(asHttp) && proxy.GetProxy(asHttp) is not null;
    }

    /// <exception cref="WebSocketException">The server did not accept the upgrade.</exception>
    public static async Task<WebSocket> ConnectAsync(Uri uri, X509Certificate2? trusted, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(uri.IdnHost, uri.Port, cancellationToken).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (uri.Scheme == "wss")
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = uri.IdnHost,
                    RemoteCertificateValidationCallback = WebifiLogin.CertificateCheck(trusted),
                }, cancellationToken).ConfigureAwait(false);
            }
            string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            string request = $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken).ConfigureAwait(false);
            CheckAnswer(await ReadAnswerHeadAsync(stream, cancellationToken).ConfigureAwait(false), key);
            return WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        }
        catch
        {
            if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
            else socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads up to the blank line that ends the answer's headers, a byte at a time: the first frame may follow in the
    /// same segment and belongs to the WebSocket, so nothing past the headers may be taken from the stream.
    /// </summary>
    private static async Task<string> ReadAnswerHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] head = ArrayPool<byte>.Shared.Rent(MaxAnswerHeadBytes);
        try
        {
            int length = 0;
            while (length < 4 || !head.AsSpan(length - 4, 4).SequenceEqual("\r\n\r\n"u8))
            {
                if (length == MaxAnswerHeadBytes)
                    throw new WebSocketException(WebSocketError.HeaderError, $"The WebSocket upgrade answer's headers are longer than {MaxAnswerHeadBytes} bytes.");
                if (await stream.ReadAsync(head.AsMemory(length, 1), cancellationToken).ConfigureAwait(false) == 0)
                    throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The server closed the connection during the WebSocket upgrade.");
                length++;
            }
            return Encoding.Latin1.GetString(head, 0, length - 4);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
        }
    }

    private static void CheckAnswer(string head, string key)
    {
        string[] lines = head.Split("\r\n");
        string[] status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal))
            throw new WebSocketException(WebSocketError.HeaderError, "The server's answer to the WebSocket upgrade is not HTTP.");
        if (status[1] != "101")
            throw new WebSocketException(WebSocketError.NotAWebSocket, $"The server answered the WebSocket upgrade with HTTP {status[1]} {(status.Length > 2 ? status[2] : "")}".TrimEnd() + ".");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string line in lines.AsSpan(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0) headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        string expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
        if (!headers.TryGetValue("Upgrade", out string? upgrade) || !upgrade.Equals("websocket", StringComparison.OrdinalIgnoreCase)
            || !headers.TryGetValue("Connection", out string? connection) || !connection.Contains("upgrade", StringComparison.OrdinalIgnoreCase))
            throw new WebSocketException(WebSocketError.HeaderError, "The server's 101 answer does not upgrade the connection to a WebSocket.");
        if (!headers.TryGetValue("Sec-WebSocket-Accept", out string? accept) || accept != expected)
            throw new WebSocketException(WebSocketError.HeaderError, "The server's 101 answer carries a wrong Sec-WebSocket-Accept: it did not read this upgrade request.");
    }
}
