using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Webifi;

/// <summary>What a successful credentials request gives: the device id, the session id and where to go next.</summary>
/// <param name="DeviceId">The login's id as the relay answered it (&lt;session id&gt;s...), sent as <c>~id</c> with every later request.</param>
/// <param name="SessionId">The relay's session id of this login.</param>
/// <param name="WebSocket">Where the WebSocket transport connects; its host also takes long polling uploads.</param>
/// <param name="DownloadHost">The host (and port) that takes long polling downloads.</param>
/// <param name="ErrorTable">The relay's error descriptions when it sent them (<c>~ec=1</c>), else null.</param>
/// <param name="Dialect">DeviceShell when the relay answered the capability (<c>~mi=1</c>), else Official.</param>
internal sealed record WebifiCredentials(string DeviceId, int SessionId, Uri WebSocket, string DownloadHost, IReadOnlyDictionary<int, string>? ErrorTable, WebifiDialect Dialect)
{
    // The long polling addresses are made when asked: a WebSocket session never asks, and two Uris were a quarter
    // of a KiB of every idle session (docs/benchmarks.md, "Webifi idle session").
    private string HttpScheme => WebSocket.Scheme == "wss" ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;

    /// <summary>Where long polling uploads go.</summary>
    public Uri UploadBase => new($"{HttpScheme}://{WebSocket.Authority}/");

    /// <summary>Where long polling downloads go.</summary>
    public Uri DownloadBase => new($"{HttpScheme}://{DownloadHost}/");
}

/// <summary>
/// The credentials step (docs/design/webifi.md §3.1) and the HTTP plumbing shared by long polling:
/// every request is a POST of a tilde body with <c>Content-type: application/octet-stream</c>.
/// </summary>
internal static class WebifiLogin
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, HttpClient> Shared = new(StringComparer.Ordinal);

    /// <summary>
    /// The one HttpClient of every session that trusts the same certificate (docs/design/decisions.md §13.4: small sessions): logins,
    /// long polling and WebSocket handshakes share its handler and connection pool instead of each session holding
    /// its own. Never disposed; idle connections close after 30 s.
    /// </summary>
    public static HttpClient SharedHttpClient(X509Certificate2? trusted) =>
        Shared.GetOrAdd(trusted?.Thumbprint ?? "", _ => CreateHttpClient(trusted));

    /// <summary>An HttpClient that checks certificates with <see cref="CertificateCheck"/>.</summary>
    private static HttpClient CreateHttpClient(X509Certificate2? trusted) =>
        new(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = CertificateCheck(trusted) },
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        })
        { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>
    /// Without <paramref name="trusted"/>, the system's verdict. With it, only that certificate is trusted as the root
    /// (a self-signed relay certificate, or a private CA), the system store is not consulted, and the name must match.
    /// </summary>
    public static RemoteCertificateValidationCallback CertificateCheck(X509Certificate2? trusted) =>
        (_, certificate, _, errors) =>
        {
            if (trusted is null) return errors == SslPolicyErrors.None;
            if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(trusted);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using var server = new X509Certificate2(certificate);
            return chain.Build(server);
        };

    /// <summary>POSTs a tilde body through <paramref name="http"/> and decodes the answer, reading at most <paramref name="maxAnswerBytes"/> of it.</summary>
    public static Task<List<TildeField>> PostAsync(HttpClient http, Uri uri, List<byte> body, int maxAnswerBytes, TimeSpan timeout, CancellationToken cancellationToken) =>
        ExchangeAsync(uri, timeout, token => SendAsync(http, uri, body.ToArray(), maxAnswerBytes, token), cancellationToken);

    /// <summary>
    /// Makes one POST with <paramref name="send"/> within <paramref name="timeout"/> and decodes its answer; what can go
    /// wrong on the way becomes the session's error: an answer other than 200, a timeout, an unreachable server, an
    /// answer too long or malformed.
    /// </summary>
    private static async Task<List<TildeField>> ExchangeAsync(Uri uri, TimeSpan timeout, Func<CancellationToken, Task<(int StatusCode, byte[] Body)>> send, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        byte[] answer;
        try
        {
            (int status, answer) = await send(limit.Token).ConfigureAwait(false);
            if (status != 200)
                throw new DeviceException(DeviceErrorKind.Connection, "WebifiConnectionFailed",
                    $"The Webifi server at {uri.GetLeftPart(UriPartial.Authority)} answered HTTP {status} (error 20).", uri);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DeviceException(DeviceErrorKind.Timeout, "WebifiTimeout", $"The Webifi server at {uri.Authority} did not answer within {timeout.TotalSeconds:0.#} s.", uri, ex);
        }
        catch (InvalidDataException ex)
        {
            throw new DeviceException(DeviceErrorKind.Protocol, "WebifiAnswerTooLarge",
                $"The Webifi server at {uri.Authority} sent an answer {ex.Message} (error 7); it was not read to the end.", uri, ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or SocketException or AuthenticationException)
        {
            throw new DeviceException(DeviceErrorKind.Connection, "WebifiConnectionFailed",
                $"Could not reach the Webifi server at {uri.GetLeftPart(UriPartial.Authority)} (error 20): {ex.Message}", uri, ex);
        }
        try
        {
            return TildeCodec.Decode(answer);
        }
        catch (FormatException ex)
        {
            throw new DeviceException(DeviceErrorKind.Protocol, "WebifiProtocolError", $"The Webifi server at {uri.Authority} sent a malformed answer (error 7): {ex.Message}", uri, ex);
        }
    }

    private static async Task<(int StatusCode, byte[] Body)> SendAsync(HttpClient http, Uri uri, byte[] body, int maxAnswerBytes, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK) return ((int)response.StatusCode, Array.Empty<byte>());
        // A declared length over the limit is refused before reading; a body without one stops being read at the limit.
        long? declared = response.Content.Headers.ContentLength;
        if (declared > maxAnswerBytes) throw RelayConnection.TooLong(maxAnswerBytes);
        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return (200, await RelayConnection.ReadBodyAsync(stream, declared, maxAnswerBytes, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// POSTs <c>~p=1~cn=…~cp=…~ec=1~mi=1</c> (the DeviceShell capability: its dialect and message ids); error 8 becomes
    /// an Authentication failure. Whether the public service tolerates a key it does not know is UNKNOWN (docs/design/webifi.md §10):
    /// a server that fails the request or refuses the login with anything but a wrong password is asked once more the
    /// way the official libraries ask, so a strict server costs one request and never the login. With
    /// <see cref="WebifiConnectOptions.Dialect"/> Official only the official request is made.
    /// </summary>
    public static async Task<WebifiCredentials> RequestAsync(WebifiConnectOptions options, CancellationToken cancellationToken)
    {
        var server = options.Server;
        if (options.Encrypted && server.Scheme == Uri.UriSchemeHttp)
            server = new UriBuilder(server) { Scheme = Uri.UriSchemeHttps, Port = server.IsDefaultPort ? -1 : server.Port }.Uri;
        List<TildeField>? fields = null;
        if (options.Dialect == WebifiDialect.DeviceShell)
        {
            try
            {
                fields = await PostCredentialsAsync(server, options, askForMessageIds: true, cancellationToken).ConfigureAwait(false);
            }
            catch (DeviceException ex) when (ex.Kind is DeviceErrorKind.Connection or DeviceErrorKind.Protocol)
            {
                // Asked once more the official way below.
            }
        }
        if (fields?.FindInt("e") is not (WebifiErrorCode.Success or WebifiErrorCode.InvalidCredentials))
            fields = await PostCredentialsAsync(server, options, askForMessageIds: false, cancellationToken).ConfigureAwait(false);

        int? code = fields.FindInt("e");
        if (code == WebifiErrorCode.InvalidCredentials)
            throw new DeviceException(DeviceErrorKind.Authentication, "WebifiAuthenticationFailed",
                $"The Webifi server at {server.Authority} refused connect name '{options.ConnectName}' with this connect password (error 8).", options.ConnectName);
        string? deviceId = fields.Find("id");
        var ips = fields.FindAll("ip").ToList();
        var names = fields.FindAll("dn").ToList();
        if (code != WebifiErrorCode.Success || deviceId is null || ips.Count < 2 || names.Count < 2)
            throw new DeviceException(DeviceErrorKind.Protocol, "WebifiProtocolError",
                code is int other && other != WebifiErrorCode.Success
                    ? $"The Webifi server at {server.Authority} refused the login with error {other}."
                    : $"The Webifi server at {server.Authority} sent an incomplete credentials answer (error 7).", server);

        int separator = deviceId.IndexOf('s', StringComparison.Ordinal);
        int sessionId = separator > 0 && int.TryParse(deviceId.AsSpan(0, separator), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int parsed) ? parsed : -1;
        var hosts = options.Encrypted ? names : ips;
        string scheme = options.Encrypted ? "https" : "http";
        if (!Uri.TryCreate($"{scheme}://{hosts[0]}/", UriKind.Absolute, out _)
            || !Uri.TryCreate($"{scheme}://{hosts[1]}/", UriKind.Absolute, out _)
            || SharedWebSocketUri($"{(options.Encrypted ? "wss" : "ws")}://{hosts[0]}/api/WebSocket") is not { } webSocket)
            throw new DeviceException(DeviceErrorKind.Protocol, "WebifiProtocolError", $"The Webifi server at {server.Authority} named server addresses that are not host names (error 7).", server);
        return new WebifiCredentials(deviceId, sessionId, webSocket, hosts[1], ReadErrorTable(fields),
            fields.Find("mi") == "1" ? WebifiDialect.DeviceShell : WebifiDialect.Official);
    }

    private static async Task<List<TildeField>> PostCredentialsAsync(Uri server, WebifiConnectOptions options, bool askForMessageIds, CancellationToken cancellationToken)
    {
        var body = new List<byte>();
        TildeCodec.AppendField(body, "p", "1");
        TildeCodec.AppendField(body, "cn", options.ConnectName);
        // The password exists as text only inside this request body.
        TildeCodec.AppendField(body, "cp", new NetworkCredential(string.Empty, options.ConnectPassword).Password);
        TildeCodec.AppendField(body, "ec", "1");
        if (askForMessageIds) TildeCodec.AppendField(body, "mi", "1");
        try
        {
            // Straight to the server as the official library does (a connection of its own, no HttpClient: see
            // RelayConnection); through HttpClient only where the environment names a proxy, which it tunnels through.
            return WebSocketHandshake.ThroughProxy(server)
                ? await PostAsync(SharedHttpClient(options.TrustedCertificate), server, body, options.MaxAnswerBytes, options.ReplyTimeout, cancellationToken).ConfigureAwait(false)
                : await ExchangeAsync(server, options.ReplyTimeout,
                    token => RelayConnection.PostAsync(server, options.TrustedCertificate, body.ToArray(), options.MaxAnswerBytes, token), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            body.Clear();
        }
    }

    /// <summary>
    /// The table of the last login: the sessions of a process mostly log in to one relay, whose table is the same for
    /// all, so they share one copy rather than keep half a KiB each (docs/benchmarks.md, "Webifi idle session").
    /// </summary>
    private static IReadOnlyDictionary<int, string>? s_lastErrorTable;

    /// <summary>
    /// The relay's WebSocket address: the sessions of a process mostly log in to one relay, which names the same
    /// address to each, so they share one <see cref="Uri"/> (with its parsed parts and strings, about 0.35 KiB) rather
    /// than keep one each (docs/benchmarks.md, "Webifi idle session"). Null when the text is not an absolute URI.
    /// </summary>
    private static Uri? SharedWebSocketUri(string text)
    {
        var last = Volatile.Read(ref s_lastWebSocketUri);
        if (last is not null && string.Equals(last.OriginalString, text, StringComparison.Ordinal)) return last;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)) return null;
        Volatile.Write(ref s_lastWebSocketUri, uri);
        return uri;
    }

    private static Uri? s_lastWebSocketUri;

    /// <summary>From the first key named <c>0</c> to the end, every field is "code → description".</summary>
    private static IReadOnlyDictionary<int, string>? ReadErrorTable(List<TildeField> fields)
    {
        int start = fields.FindIndex(f => f.Key == "0");
        if (start < 0) return null;
        var table = new Dictionary<int, string>();
        foreach (var field in fields.Skip(start))
            if (int.TryParse(field.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int code)) table[code] = field.Text;
        var last = Volatile.Read(ref s_lastErrorTable);
        if (last is not null && last.Count == table.Count && table.All(entry => last.TryGetValue(entry.Key, out string? text) && text == entry.Value)) return last;
        Volatile.Write(ref s_lastErrorTable, table);
        return table;
    }
}
