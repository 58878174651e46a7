using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Webifi;

/// <summary>What a successful credentials request gives: the device id, the session id and where to go next.</summary>
internal sealed record WebifiCredentials(string DeviceId, int SessionId, Uri UploadBase, Uri DownloadBase, Uri WebSocket, IReadOnlyDictionary<int, string>? ErrorTable);

/// <summary>
/// The credentials step (webifi.md §3.1) and the HTTP plumbing shared by long polling:
/// every request is a POST of a tilde body with <c>Content-type: application/octet-stream</c>.
/// </summary>
internal static class WebifiLogin
{
    /// <summary>An HttpClient that also trusts <paramref name="trusted"/> (for a self-hosted relay's self-signed certificate).</summary>
    public static HttpClient CreateHttpClient(X509Certificate2? trusted) =>
        new(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = CertificateCheck(trusted) },
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        })
        { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>
    /// The system's verdict; with <paramref name="trusted"/>, a certificate the system does not trust is accepted when
    /// its chain ends in that certificate (a self-signed relay certificate, or a private CA). Name errors are never accepted.
    /// </summary>
    public static RemoteCertificateValidationCallback CertificateCheck(X509Certificate2? trusted) =>
        (_, certificate, _, errors) =>
        {
            if (errors == SslPolicyErrors.None) return true;
            if (trusted is null || certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(trusted);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using var server = new X509Certificate2(certificate);
            return chain.Build(server);
        };

    public static async Task<List<TildeField>> PostAsync(HttpClient http, Uri uri, List<byte> body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            using var response = await http.PostAsync(uri, content, limit.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
                throw new DeviceException(DeviceErrorKind.Connection, "WebifiConnectionFailed",
                    $"The Webifi server at {uri.GetLeftPart(UriPartial.Authority)} answered HTTP {(int)response.StatusCode} (error 20).", uri);
            byte[] answer = await response.Content.ReadAsByteArrayAsync(limit.Token).ConfigureAwait(false);
            try
            {
                return TildeCodec.Decode(answer);
            }
            catch (FormatException ex)
            {
                throw new DeviceException(DeviceErrorKind.Protocol, "WebifiProtocolError", $"The Webifi server at {uri.Authority} sent a malformed answer (error 7): {ex.Message}", uri, ex);
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DeviceException(DeviceErrorKind.Timeout, "WebifiTimeout", $"The Webifi server at {uri.Authority} did not answer within {timeout.TotalSeconds:0.#} s.", uri, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new DeviceException(DeviceErrorKind.Connection, "WebifiConnectionFailed",
                $"Could not reach the Webifi server at {uri.GetLeftPart(UriPartial.Authority)} (error 20): {ex.Message}", uri, ex);
        }
    }

    /// <summary>POSTs <c>~p=1~cn=…~cp=…~ec=1</c>; error 8 becomes an Authentication failure.</summary>
    public static async Task<WebifiCredentials> RequestAsync(HttpClient http, WebifiConnectOptions options, CancellationToken cancellationToken)
    {
        var server = options.Server;
        if (options.UseEncryption && server.Scheme == Uri.UriSchemeHttp)
            server = new UriBuilder(server) { Scheme = Uri.UriSchemeHttps, Port = server.IsDefaultPort ? -1 : server.Port }.Uri;
        var body = new List<byte>();
        TildeCodec.AppendField(body, "p", "1");
        TildeCodec.AppendField(body, "cn", options.ConnectName);
        // The password exists as text only inside this request body.
        TildeCodec.AppendField(body, "cp", new NetworkCredential(string.Empty, options.ConnectPassword).Password);
        TildeCodec.AppendField(body, "ec", "1");
        var fields = await PostAsync(http, server, body, options.ReplyTimeout, cancellationToken).ConfigureAwait(false);
        body.Clear();

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
        var hosts = options.UseEncryption ? names : ips;
        string scheme = options.UseEncryption ? "https" : "http";
        if (!Uri.TryCreate($"{scheme}://{hosts[0]}/", UriKind.Absolute, out var upload)
            || !Uri.TryCreate($"{scheme}://{hosts[1]}/", UriKind.Absolute, out var download)
            || !Uri.TryCreate($"{(options.UseEncryption ? "wss" : "ws")}://{hosts[0]}/api/WebSocket", UriKind.Absolute, out var webSocket))
            throw new DeviceException(DeviceErrorKind.Protocol, "WebifiProtocolError", $"The Webifi server at {server.Authority} named server addresses that are not host names (error 7).", server);
        return new WebifiCredentials(deviceId, sessionId, upload, download, webSocket, ReadErrorTable(fields));
    }

    /// <summary>From the first key named <c>0</c> to the end, every field is "code → description".</summary>
    private static IReadOnlyDictionary<int, string>? ReadErrorTable(List<TildeField> fields)
    {
        int start = fields.FindIndex(f => f.Key == "0");
        if (start < 0) return null;
        var table = new Dictionary<int, string>();
        foreach (var field in fields.Skip(start))
            if (int.TryParse(field.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int code)) table[code] = field.Text;
        return table;
    }
}
