using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using DeviceShell.Engine.Webifi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// A front on Kestrel, in front of a real relay, that accepts nothing but the official Webifi dialect (docs/design/webifi.md §3):
/// a login with only <c>p</c>, <c>cn</c>, <c>cp</c>, <c>ec</c> (anything else is answered error 7); one message per
/// WebSocket frame; no data message before the previous one's <c>rt=s</c>; one message group per upload; no field
/// the official library does not send. A WebSocket that breaks a rule is closed with 1008 (policy violation), an
/// upload that does is answered HTTP 400; every breach is recorded. With <see cref="RefuseData"/> it refuses every
/// data message the same way, as a relay that does not accept what a client sends would. With
/// <see cref="ForgetAfterLogin"/> it closes each WebSocket once its networks are set and answers every later
/// authentication of that device id with error 12, as a relay that loses every session right after the login would.
/// </summary>
internal sealed class StrictRelayFront : IAsyncDisposable
{
    public const string RefusalReason = "refused by the strict front";

    private static readonly HashSet<string> LoginKeys = new(StringComparer.Ordinal) { "p", "cn", "cp", "ec" };
    private static readonly HashSet<string> UploadKeys = new(StringComparer.Ordinal) { "id", "n", "s", "dt", "d", "z" };
    private static readonly HashSet<string> DownloadKeys = new(StringComparer.Ordinal) { "id", "n", "t", "r", "z", "ts" };
    private static readonly HashSet<string> WebSocketKeys = new(StringComparer.Ordinal) { "id", "nc", "ns", "n", "s", "dt", "d", "c" };

    private readonly int _relayPort;
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly ConcurrentQueue<string> _breaches = new();
    private WebApplication? _app;
    private int _refusedLogins;
    private int _webSockets;
    private int _uploads;
    private int _logins;
    private bool _forgetAfterLogin;
    private readonly ConcurrentDictionary<string, byte> _authenticated = new(StringComparer.Ordinal);

    private StrictRelayFront(int relayPort) => _relayPort = relayPort;

    public int Port { get; private set; }

    public Uri Server => new($"http://127.0.0.1:{Port}/");

    /// <summary>Refuse every data message: close the WebSocket with 1008, or cut the upload's connection.</summary>
    public bool RefuseData { get; init; }

    /// <summary>From now on: close each WebSocket after a networks answer, and refuse a device id seen before (error 12).</summary>
    public bool ForgetAfterLogin
    {
        get => Volatile.Read(ref _forgetAfterLogin);
        set => Volatile.Write(ref _forgetAfterLogin, value);
    }

    /// <summary>Logins passed on to the relay.</summary>
    public int Logins => Volatile.Read(ref _logins);

    /// <summary>What broke the official dialect, in the order it came.</summary>
    public string[] Breaches => _breaches.ToArray();

    /// <summary>Logins refused for asking more than the official library asks.</summary>
    public int RefusedLogins => Volatile.Read(ref _refusedLogins);

    /// <summary>WebSocket connections accepted, reconnects included.</summary>
    public int WebSockets => Volatile.Read(ref _webSockets);

    public int Uploads => Volatile.Read(ref _uploads);

    public static async Task<StrictRelayFront> StartAsync(int relayPort, bool refuseData = false)
    {
        var front = new StrictRelayFront(relayPort) { RefuseData = refuseData };
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.UseWebSockets();
        app.MapPost("/", (RequestDelegate)front.LoginAsync);
        app.MapPost("/Upload", (RequestDelegate)front.UploadAsync);
        app.MapPost("/Download", context => front.ForwardCheckedAsync(context, "Download"));
        app.MapPost("/CancelDownload", context => front.ForwardCheckedAsync(context, "CancelDownload"));
        app.Map("/api/WebSocket", (RequestDelegate)front.WebSocketAsync);
        await app.StartAsync().Within();
        front._app = app;
        front.Port = LoopbackWebApp.PortOf(app);
        return front;
    }

    private void Breach(string what) => _breaches.Enqueue(what);

    private static async Task<byte[]> BodyAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        return body.ToArray();
    }

    private static string? UnknownKey(List<TildeField> fields, HashSet<string> known) =>
        fields.Select(f => f.Key).FirstOrDefault(k => !known.Contains(k));

    private async Task LoginAsync(HttpContext context)
    {
        byte[] body = await BodyAsync(context);
        if (UnknownKey(TildeCodec.Decode(body), LoginKeys) is not null)
        {
            Interlocked.Increment(ref _refusedLogins);
            await context.Response.Body.WriteAsync("~e=7"u8.ToArray());
            return;
        }
        Interlocked.Increment(ref _logins);
        await ForwardAsync(context, "", body);
    }

    private async Task UploadAsync(HttpContext context)
    {
        Interlocked.Increment(ref _uploads);
        byte[] body = await BodyAsync(context);
        var fields = TildeCodec.Decode(body);
        if (RefuseData)
        {
            context.Abort();
            return;
        }
        int groups = fields.Count(f => f.Key == "d");
        string? unknown = UnknownKey(fields, UploadKeys);
        if (groups != 1 || unknown is not null)
        {
            Breach(unknown is null ? $"an upload with {groups} message groups" : $"an upload with the field {unknown}");
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        await ForwardAsync(context, "Upload", body);
    }

    private async Task ForwardCheckedAsync(HttpContext context, string path)
    {
        byte[] body = await BodyAsync(context);
        if (UnknownKey(TildeCodec.Decode(body), DownloadKeys) is string unknown)
        {
            Breach($"a {path} with the field {unknown}");
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        await ForwardAsync(context, path, body);
    }

    /// <summary>Passes the request on under the front's own address, so the relay's answer points the client back here.</summary>
    private async Task ForwardAsync(HttpContext context, string path, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{_relayPort}/{path}") { Content = new ByteArrayContent(body) };
        request.Headers.Host = $"127.0.0.1:{Port}";
        try
        {
            using var response = await _http.SendAsync(request, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = "application/octet-stream";
            await context.Response.Body.WriteAsync(await response.Content.ReadAsByteArrayAsync(context.RequestAborted), context.RequestAborted);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            context.Abort();
        }
    }

    private async Task WebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        Interlocked.Increment(ref _webSockets);
        using var client = await context.WebSockets.AcceptWebSocketAsync();
        using var relay = new ClientWebSocket();
        using var done = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        try
        {
            await relay.ConnectAsync(new Uri($"ws://127.0.0.1:{_relayPort}/api/WebSocket"), done.Token);
            var connection = new Connection();
            var up = PumpUpAsync(client, relay, connection, done.Token);
            var down = PumpDownAsync(relay, client, connection, done.Token);
            await Task.WhenAny(up, down);
            done.Cancel();
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // One side went away.
        }
    }

    /// <summary>Client to relay: every frame must be exactly one known message, and data waits for the previous rt=s.</summary>
    private async Task PumpUpAsync(WebSocket client, WebSocket relay, Connection connection, CancellationToken cancellationToken)
    {
        try
        {
            while (await ReceiveFrameAsync(client, cancellationToken) is byte[] frame)
            {
                var framer = new TildeFramer(int.MaxValue - 16);
                framer.Append(frame);
                var messages = new List<byte[]>();
                while (framer.TryTake(out byte[] message)) messages.Add(message);
                string? refusal = null;
                if (messages.Count != 1 || framer.Pending != 0) refusal = $"a frame with {messages.Count} messages";
                else
                {
                    var fields = TildeCodec.Decode(messages[0]);
                    bool data = fields.Count > 0 && fields[0].Key is "n" or "s" or "dt" or "d";
                    if (UnknownKey(fields, WebSocketKeys) is string unknown) refusal = $"a message with the field {unknown}";
                    else if (data && RefuseData) refusal = RefusalReason;
                    else if (data && Interlocked.Exchange(ref connection.AwaitingSendAnswer, 1) == 1) refusal = "data sent before the previous rt=s";
                }
                if (messages.Count == 1 && TildeCodec.Decode(messages[0]) is [{ Key: "id" } id, ..] && !_authenticated.TryAdd(id.Text, 0) && ForgetAfterLogin)
                {
                    await client.SendAsync("~rt=a~e=12~t=1"u8.ToArray(), WebSocketMessageType.Binary, true, cancellationToken);
                    continue;
                }
                if (refusal is not null)
                {
                    if (refusal != RefusalReason) Breach(refusal);
                    await client.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, refusal, cancellationToken);
                    return;
                }
                await relay.SendAsync(frame, WebSocketMessageType.Text, true, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or FormatException)
        {
            // Closed from either side.
        }
    }

    /// <summary>Relay to client, as it comes; an rt=s lets the next data message through.</summary>
    private async Task PumpDownAsync(WebSocket relay, WebSocket client, Connection connection, CancellationToken cancellationToken)
    {
        var framer = new TildeFramer(int.MaxValue - 16);
        try
        {
            while (await ReceiveFrameAsync(relay, cancellationToken) is byte[] frame)
            {
                framer.Append(frame);
                bool networksAnswered = false;
                while (framer.TryTake(out byte[] message))
                {
                    string? responseType = TildeCodec.Decode(message).Find("rt");
                    if (responseType == "s") Volatile.Write(ref connection.AwaitingSendAnswer, 0);
                    networksAnswered |= responseType == "n";
                }
                await client.SendAsync(frame, WebSocketMessageType.Binary, true, cancellationToken);
                if (networksAnswered && ForgetAfterLogin)
                {
                    await client.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, "forgotten", cancellationToken);
                    return;
                }
            }
            await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "relay closed", cancellationToken);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or FormatException)
        {
            // Closed from either side.
        }
    }

    /// <summary>One whole WebSocket message, or null when the peer closed.</summary>
    private static async Task<byte[]?> ReceiveFrameAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        using var frame = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            frame.Write(buffer, 0, result.Count);
            if (result.EndOfMessage) return frame.ToArray();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await LoopbackWebApp.StopAsync(_app);
        _http.Dispose();
    }

    private sealed class Connection
    {
        /// <summary>1 while a data message waits for its rt=s.</summary>
        public int AwaitingSendAnswer;
    }
}
