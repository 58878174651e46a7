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
        var stream = await RelayConnection.OpenAsync(uri, trusted, cancellationToken).ConfigureAwait(false);
        try
        {
            string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            string request = $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken).ConfigureAwait(false);
            // The first frame may follow the 101 answer in the same segment: the head is read without reading past it.
            CheckAnswer(await RelayConnection.ReadHeadAsync(stream, cancellationToken).ConfigureAwait(false), key);
            return WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static void CheckAnswer(HttpAnswerHead answer, string key)
    {
        if (answer.StatusCode != 101)
            throw new WebSocketException(WebSocketError.NotAWebSocket, $"The server answered the WebSocket upgrade with HTTP {answer.StatusCode} {answer.Reason}".TrimEnd() + ".");
        var headers = answer.Headers;
        string expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
        if (!headers.TryGetValue("Upgrade", out string? upgrade) || !upgrade.Equals("websocket", StringComparison.OrdinalIgnoreCase)
            || !headers.TryGetValue("Connection", out string? connection) || !connection.Contains("upgrade", StringComparison.OrdinalIgnoreCase))
            throw new WebSocketException(WebSocketError.HeaderError, "The server's 101 answer does not upgrade the connection to a WebSocket.");
        if (!headers.TryGetValue("Sec-WebSocket-Accept", out string? accept) || accept != expected)
            throw new WebSocketException(WebSocketError.HeaderError, "The server's 101 answer carries a wrong Sec-WebSocket-Accept: it did not read this upgrade request.");
    }
}
