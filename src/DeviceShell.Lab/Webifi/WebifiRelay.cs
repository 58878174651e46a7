using System.Collections.Concurrent;
using System.Net;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;
using DeviceShell.Lab.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// A Webifi relay (docs/design/webifi.md §8) on Kestrel: the credentials endpoint <c>POST /</c>, <c>/api/WebSocket</c>,
/// and long polling (<c>/Upload</c>, held <c>/Download</c>, <c>/CancelDownload</c>). WebSocket and long-polling
/// clients of one account reach each other. Accounts come from <see cref="WebifiRelayOptions"/>
/// (default: webifi / pswd with networks net1, net2, lab). Plain HTTP unless a certificate is given.
/// Stopping is orderly: every connection finishes the message in hand, writes out its mailbox and closes,
/// so a message is either acknowledged and delivered or not acknowledged (and sent again by the client).
/// Choices where the public material says UNKNOWN (docs/design/webifi.md §10), made so that clients get a clear answer:
/// <list type="bullet">
/// <item>networks and session ids together: the union of recipients, one copy each (see <see cref="RelayRouter"/>);</item>
/// <item>a network the account does not have, or an unknown session id: <c>e=2</c> for the send (the rest is delivered);
/// listen-to networks the account does not have: <c>e=5</c>, the known ones are set;</item>
/// <item>a second held /Download of one session: the new request gets <c>e=18</c>, the held one stays;</item>
/// <item>/CancelDownload answers <c>~e=0</c>; a stray <c>~id</c> over an authenticated WebSocket is answered <c>rt=a</c> again;
/// a message with an unknown first key or bad tilde encoding gets <c>rt=s e=7</c>;</item>
/// <item>payloads are bytes and pass through untouched (including bytes ≥ 0x80); client frames may be text or binary;</item>
/// <item>a message larger than <see cref="WebifiRelayOptions.MaxMessageBytes"/> (1 MiB by default): <c>e=7</c>, and over
/// WebSocket the socket is closed (MessageTooBig), since the rest of the stream cannot be trusted.</item>
/// </list>
/// <c>--webifi-replay FILE</c> serves a Webifi recording (<see cref="WebifiReplay"/>, <see cref="ReplayRelayRouter"/>) and
/// relays the rest as usual; <c>--webifi-replay-speed X</c> scales its pace (default 1).
/// </summary>
[LabSimulator("webifi", "Webifi relay: credentials, WebSocket and long polling")]
public sealed class WebifiRelay : ILabSimulator, ILabControllable, IReplayReporter
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly ConcurrentDictionary<RelayWebSocket, byte> _webSockets = new();
    private WebifiRelayOptions? _options;
    private IRelayRouter? _router;
    private WebApplication? _app;
    private Task? _expiry;
    private string? _certificateDirectory;
    private LoginThrottle? _throttle;
    private RelayLongPolling? _longPolling;
    private ILogger _log = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    private WebifiReplay? _replay;

    public WebifiRelay()
    {
    }

    /// <summary>A relay with these options instead of the ones from the Lab command line (tests, benchmarks).</summary>
    public WebifiRelay(WebifiRelayOptions options) => _options = options;

    private long _loginRequests;

    /// <summary>Credentials requests answered so far (accepted or not).</summary>
    public long LoginRequests => Interlocked.Read(ref _loginRequests);

    /// <summary>Logged-in sessions that have not expired or closed.</summary>
    public int SessionCount => Router.Count;

    /// <summary>Messages waiting in all mailboxes.</summary>
    public long QueuedMessages => Router.Sessions.Sum(s => (long)s.QueuedCount);

    /// <summary>Payload bytes waiting in all mailboxes (bounded by the mailbox limits).</summary>
    public long QueuedBytes => Router.Sessions.Sum(s => s.QueuedBytes);

    /// <summary>Long-polling sessions with a /Download held open, waiting for data.</summary>
    public int HeldDownloads => Router.Sessions.Count(s => s.HoldsDownload);

    /// <summary>Messages dropped because their recipient did not read them.</summary>
    public long DroppedMessages => Router.Sessions.Sum(s => s.Dropped);

    private IRelayRouter Router => _router ?? throw new InvalidOperationException("The relay has not been started.");

    public async Task<LabSimulatorEndpoint> StartAsync(LabSimulatorOptions options, CancellationToken cancellationToken)
    {
        _log = options.LoggerFactory.CreateLogger<WebifiRelay>();
        var relayOptions = _options ??= WebifiRelayOptions.From(options);
        if (ReplaySetting.From(options, "webifi") is var (recording, speed))
        {
            if (relayOptions.Redis is not null) throw new ArgumentException("--webifi-replay serves a recording from this relay alone; it does not go with --webifi-redis.");
            _replay = WebifiReplay.Load(recording, speed);
        }
        IRelayRouter router = relayOptions.Redis is null
            ? new RelayRouter(_replay?.AccountsWith(relayOptions.Accounts) ?? relayOptions.Accounts, relayOptions)
            : await RedisRelayRouter.ConnectAsync(relayOptions, _log, cancellationToken).ConfigureAwait(false);
        _router = _replay is null ? router : new ReplayRelayRouter(router, _replay);
        _throttle = new LoginThrottle(relayOptions, _log, (_router as RedisRelayRouter)?.LoginFailures);
        var longPolling = _longPolling = new RelayLongPolling(_router, relayOptions, _log, _stopping.Token);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(options.LoggerFactory);
        builder.Services.AddDescriptorBudget();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = relayOptions.MaxEncodedBytes;
            kestrel.Listen(options.Address, options.Port, listen =>
            {
                if (relayOptions.Certificate is not null) listen.UseHttps(relayOptions.Certificate);
            });
        });
        var app = builder.Build();
        app.UseWebSockets();
        app.MapPost("/", CredentialsAsync);
        app.Map("/api/WebSocket", WebSocketAsync);
        app.MapPost("/Upload", longPolling.UploadAsync);
        app.MapPost("/Download", longPolling.DownloadAsync);
        app.MapPost("/CancelDownload", longPolling.CancelDownloadAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;

        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        int port = new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal)).Port;
        _expiry = ExpireLoopAsync(relayOptions.SessionTimeout, _stopping.Token);
        _log.LogInformation("Webifi relay listening on {Scheme}://{Address}:{Port} with {Accounts} account(s)",
            relayOptions.Certificate is null ? "http" : "https", options.Address, port, relayOptions.Accounts.Count);
        string? certificateFile = relayOptions.Certificate is null ? null : WriteCertificateFile(relayOptions.Certificate);
        return new LabSimulatorEndpoint(options.Address.ToString(), port, certificateFile);
    }

    /// <summary>
    /// The public part of the certificate, for clients to trust (Connect-Webifi -CaCertificate), like the gateway's CA
    /// file. Written where no other local user can interfere (docs/design/decisions.md §12.7): a fresh directory with an
    /// unpredictable name, created by the system with mode 0700 (mkdtemp), and the file created new in it, so an
    /// existing entry or a planted symlink makes the write fail instead of being followed.
    /// </summary>
    private string WriteCertificateFile(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
    {
        _certificateDirectory = Directory.CreateTempSubdirectory("deviceshell-webifi-").FullName;
        string path = Path.Combine(_certificateDirectory, "relay.crt");
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        using var writer = new StreamWriter(file);
        writer.Write(certificate.ExportCertificatePem());
        return path;
    }

    /// <summary><c>~p=1~cn=…~cp=…~ec=1[~mi=1]</c> → <c>~e=0~id=…~ip=…~ip=…~dn=…~dn=…[~mi=1]</c> and the error table last, or <c>~e=8</c>.</summary>
    private async Task CredentialsAsync(HttpContext context)
    {
        Interlocked.Increment(ref _loginRequests);
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = Options.MaxCredentialsBytes;
        var fields = await RelayLongPolling.ReadFieldsAsync(context, _log).ConfigureAwait(false);
        if (fields is null) return;
        string connectName = fields.Find("cn") ?? "";
        var address = context.Connection.RemoteIpAddress;
        var answer = new List<byte>();
        var turn = await _throttle!.WaitTurnAsync(address, connectName, Router.HasAccount(connectName), context.RequestAborted).ConfigureAwait(false);
        if (turn is null)
        {
            TildeCodec.AppendField(answer, "e", WebifiErrorCode.Unknown);
            await RelayLongPolling.WriteAsync(context, answer).ConfigureAwait(false);
            return;
        }
        var (session, loginCode) = await Router.LoginAsync(connectName, fields.Find("cp") ?? "", fields.Find("mi") == "1");
        _throttle.Settle(turn, loginCode != WebifiErrorCode.InvalidCredentials);
        if (session is null)
        {
            // Per attempt at Debug only: bursts are logged by the throttle.
            _log.LogDebug("Refused a login for connect name {ConnectName} with error {Code}", LogText.Quote(connectName), loginCode);
            TildeCodec.AppendField(answer, "e", loginCode);
            await RelayLongPolling.WriteAsync(context, answer).ConfigureAwait(false);
            return;
        }
        var (ip, name) = Addresses(context);
        TildeCodec.AppendField(answer, "e", WebifiErrorCode.Success);
        TildeCodec.AppendField(answer, "id", session.DeviceId);
        foreach (string key in new[] { "ip", "ip" }) TildeCodec.AppendField(answer, key, ip);
        foreach (string key in new[] { "dn", "dn" }) TildeCodec.AppendField(answer, key, name);
        // Only to a client that asked: the official libraries never see the field.
        if (session.MessageIds) TildeCodec.AppendField(answer, "mi", "1");
        if (fields.Find("ec") == "1")
        {
            foreach (var (code, text) in WebifiErrorCode.DefaultDescriptions)
                TildeCodec.AppendField(answer, WebifiErrorCode.ToWire(code), text);
        }
        _log.LogDebug("Session {Session} logged in as {ConnectName}", session.Id, session.Account.ConnectName);
        await RelayLongPolling.WriteAsync(context, answer).ConfigureAwait(false);
    }

    /// <summary>
    /// Where the client should go next: the address it reached us on. <c>ip</c> must be an IP literal for the official
    /// libraries (with <c>:port</c> unless it is the default one), so a host name in the Host header is replaced by the
    /// local address of the connection; <c>dn</c> (used with TLS) keeps the host name, so certificates match.
    /// </summary>
    private static (string Ip, string Name) Addresses(HttpContext context)
    {
        var host = context.Request.Host;
        string name = host.HasValue ? host.Value! : "127.0.0.1";
        if (IPAddress.TryParse(host.Host.Trim('[', ']'), out _)) return (name, name);
        var local = context.Connection.LocalIpAddress ?? IPAddress.Loopback;
        if (local.IsIPv4MappedToIPv6) local = local.MapToIPv4();
        string literal = local.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{local}]" : local.ToString();
        return (host.Port is int port ? $"{literal}:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : literal, name);
    }

    private async Task WebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        var connection = new RelayWebSocket(socket, Router, Options, _log, _abort.Token);
        _webSockets[connection] = 0;
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _webSockets.TryRemove(connection, out _);
        }
    }

    private WebifiRelayOptions Options => _options!;

    /// <summary>
    /// Ends idle sessions and (with Redis) keeps the others' shared records alive. Survives every failure: it is what
    /// keeps sessions alive in Redis, so it tries again after a back-off (one warning per burst, see <see cref="FailureBurst"/>).
    /// </summary>
    private async Task ExpireLoopAsync(TimeSpan timeout, CancellationToken stop)
    {
        var period = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(5).Ticks));
        var failures = new FailureBurst(_log, "Session expiry");
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(failures.Failures == 0 ? period : failures.Backoff, stop).ConfigureAwait(false);
                int expired = await Router.ExpireAsync(DateTime.UtcNow - timeout).ConfigureAwait(false);
                failures.Succeeded();
                if (expired > 0) _log.LogInformation("{Count} idle session(s) expired", expired);
                _throttle?.Prune();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Stopping.
            }
            catch (Exception ex)
            {
                failures.Failed("ending idle sessions", ex);
            }
        }
    }

    /// <summary>
    /// Lab commands: <c>sessions</c> lists the logged-in sessions; <c>expire-sessions</c> ends them all as an expiry
    /// would (their clients get error 12 and log in again); <c>replay-report</c> answers what the replay saw
    /// (<see cref="WebifiReplay.Report"/>), null without a replay.
    /// </summary>
    /// <summary>What the replay served so far, when this relay replays a recording.</summary>
    public LabReplayReport? ReplayReport() => _replay?.Report();

    void ILabControllable.AddCommands(LabCommandTable commands) => commands
        .On((ListWebifiSessions _) => (IReadOnlyList<LabWebifiSession>)Router.Sessions.OrderBy(s => s.Id)
            .Select(s => new LabWebifiSession(s.Id, s.Account.ConnectName, s.Networks.Order().ToList(), s.QueuedCount, s.Dropped)).ToList())
        .On((ExpireWebifiSessions _) =>
        {
            var all = Router.Sessions;
            foreach (var session in all) Router.Remove(session);
            return all.Count;
        });

    /// <summary>Stops in order: no connection takes new messages, every mailbox is written out, sockets close, Kestrel stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _router?.Close();
        _stopping.Cancel();
        var connections = _webSockets.Keys.ToList();
        await Task.WhenAll(connections.Select(c => c.StopReadingAsync())).ConfigureAwait(false);
        await Task.WhenAll(connections.Select(c => c.FlushAndCloseAsync(CloseTimeout))).ConfigureAwait(false);
        if (_longPolling is not null) await _longPolling.LetDrainAsync(CloseTimeout).ConfigureAwait(false);
        if (_router is not null) await Task.WhenAll(_router.Sessions.Select(_router.SettleAsync)).WaitAsync(CloseTimeout).ConfigureAwait(false);
        if (_app is not null)
        {
            using (var limit = new CancellationTokenSource(CloseTimeout))
            {
                try
                {
                    await _app.StopAsync(limit.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Kestrel aborts what is left.
                }
            }
            _abort.Cancel();
            await _app.DisposeAsync().ConfigureAwait(false);
        }
        _abort.Cancel();
        if (_expiry is not null) await _expiry.ConfigureAwait(false);
        if (_router is not null) await _router.DisposeAsync().ConfigureAwait(false);
        if (_certificateDirectory is not null) Directory.Delete(_certificateDirectory, recursive: true);
        _log.LogInformation("Webifi relay stopped");
    }
}
