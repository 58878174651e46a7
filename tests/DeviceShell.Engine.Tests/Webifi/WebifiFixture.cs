using System.Net;
using System.Security;
using DeviceShell.Engine.Webifi;
using DeviceShell.Lab.Hosting;
using DeviceShell.Lab.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>A Webifi relay on a free loopback port plus the sessions a test opened on it; disposing closes them all.</summary>
internal sealed class WebifiFixture : SimulatorFixture<WebifiSession>
{
    private WebifiFixture(WebifiRelay relay, WebifiRelayOptions options, int port)
    {
        Relay = relay;
        Options = options;
        Port = port;
    }

    public WebifiRelay Relay { get; private set; }

    public WebifiRelayOptions Options { get; }

    public int Port { get; }

    public Uri Server => new($"{(Options.Certificate is null ? "http" : "https")}://127.0.0.1:{Port}/");

    public static async Task<WebifiFixture> StartAsync(WebifiRelayOptions? options = null)
    {
        options ??= new WebifiRelayOptions();
        var relay = new WebifiRelay(options);
        var endpoint = await relay.StartAsync(LabSimulatorOptions.Loopback(), CancellationToken.None).Within();
        return new WebifiFixture(relay, options, endpoint.Port);
    }

    /// <summary>A relay that serves the Webifi recording <paramref name="recording"/> (<c>--webifi-replay</c>) with the default account besides.</summary>
    public static async Task<WebifiFixture> StartReplayAsync(string recording, double speed = 1)
    {
        var relay = new WebifiRelay();
        var settings = new Dictionary<string, string>
        {
            ["replay"] = recording,
            ["replay-speed"] = speed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var endpoint = await relay.StartAsync(LabSimulatorOptions.Loopback(settings: settings), CancellationToken.None).Within();
        return new WebifiFixture(relay, new WebifiRelayOptions(), endpoint.Port);
    }

    /// <summary>Stops the relay (as a crash would, every client loses its connection) and starts a new one on the same port.</summary>
    public async Task RestartAsync(TimeSpan downtime, WebifiRelayOptions? options = null)
    {
        await Relay.DisposeAsync().AsTask().Within();
        await Task.Delay(downtime);
        Relay = new WebifiRelay(options ?? Options);
        await Relay.StartAsync(LabSimulatorOptions.Loopback(Port), CancellationToken.None).Within();
    }

    public static SecureString Secure(string text)
    {
        var secure = new NetworkCredential(string.Empty, text).SecurePassword;
        secure.MakeReadOnly();
        return secure;
    }

    public WebifiConnectOptions ClientOptions(WebifiTransport transport, params string[] networks) => ClientOptions(Server, transport, networks);

    /// <summary>The test account on <paramref name="server"/> with short timeouts, so a lost relay is noticed quickly.</summary>
    public static WebifiConnectOptions ClientOptions(Uri server, WebifiTransport transport, params string[] networks) => new()
    {
        Server = server,
        ConnectName = "webifi",
        ConnectPassword = Secure("pswd"),
        Networks = networks,
        Transport = transport,
        ReplyTimeout = TimeSpan.FromSeconds(5),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
        DownloadTimeout = TimeSpan.FromSeconds(10),
    };

    public async Task<WebifiSession> ConnectAsync(WebifiTransport transport, params string[] networks) =>
        await ConnectAsync(ClientOptions(transport, networks));

    /// <summary>A receiver listening to net1 and a sender with no networks of its own.</summary>
    public async Task<(WebifiSession Receiver, WebifiSession Sender)> ConnectPairAsync(WebifiTransport transport) =>
        (await ConnectAsync(transport, "net1"), await ConnectAsync(transport));

    public async Task<WebifiSession> ConnectAsync(WebifiConnectOptions options) => Track(await WebifiSession.ConnectAsync(options).Within());

    protected override async ValueTask StopServerAsync() => await Relay.DisposeAsync().AsTask().Within();
}

internal static class WebifiTestExtensions
{
    /// <summary>Takes <paramref name="count"/> messages, failing when they do not come within <paramref name="limit"/>.</summary>
    public static async Task<List<WebifiMessage>> ReceiveAsync(this WebifiSession session, int count, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TestTimeouts.Short);
        var messages = new List<WebifiMessage>();
        while (messages.Count < count)
        {
            var left = deadline - DateTime.UtcNow;
            var (taken, message) = await session.Events.TakeAsync(left < TimeSpan.Zero ? TimeSpan.Zero : left, e => e is WebifiMessage);
            if (!taken) throw new TimeoutException($"Received {messages.Count} of {count} message(s).");
            messages.Add((WebifiMessage)message);
        }
        return messages;
    }

    /// <summary>True when nothing arrives within <paramref name="quiet"/>.</summary>
    public static async Task<bool> StaysQuietAsync(this WebifiSession session, TimeSpan quiet)
    {
        var (taken, _) = await session.Events.TakeAsync(quiet, e => e is WebifiMessage);
        return !taken;
    }

    public static Task SendTextAsync(this WebifiSession session, string data, string dataType = "", string[]? toNetworks = null, int[]? toSessionIds = null) =>
        session.SendAsync(WebifiOutgoing.Text(data, dataType, toNetworks, toSessionIds)).Within();
}
