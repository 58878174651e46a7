using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using DeviceShell.Engine.Webifi;
using DeviceShell.Lab.Hosting;
using DeviceShell.Lab.Webifi;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// docs/design/decisions.md §12.3, §12.4 and §12.7: hostile peers on loopback against the relay before authentication, against a
/// client session that does not read, and a local user planting a symlink where the relay writes its certificate.
/// </summary>
public class WebifiHostileTests
{
    private static readonly HttpClient Http = new();

    /// <summary>A relay on a free loopback port and its credentials address (the port is the address's).</summary>
    internal static async Task<(WebifiRelay Relay, Uri Server)> StartAsync(WebifiRelayOptions options, ILoggerFactory? logs = null)
    {
        var relay = new WebifiRelay(options);
        var endpoint = await relay.StartAsync(LabSimulatorOptions.Loopback(loggerFactory: logs), CancellationToken.None).Within();
        return (relay, new Uri($"http://127.0.0.1:{endpoint.Port}/"));
    }

    internal static async Task<string> PostTextAsync(HttpClient http, Uri uri, string body)
    {
        using var response = await http.PostAsync(uri, new ByteArrayContent(Encoding.UTF8.GetBytes(body))).Within(TestTimeouts.Long);
        return Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Password_guesses_are_slowed_down_and_logged_once_per_burst()
    {
        var logs = new CapturingLoggerFactory(LogLevel.Information);
        var (relay, server) = await StartAsync(new WebifiRelayOptions(), logs);
        await using var _ = relay;
        var checkedWithin = TimeSpan.FromSeconds(3);
        var started = DateTime.UtcNow;
        int refusedInTime = 0;
        var guesses = Enumerable.Range(0, 200).Select(async i =>
        {
            try
            {
                string answer = await PostTextAsync(Http, server, $"~p=1~cn=webifi~cp=guess{i}");
                if (answer == "~e=8" && DateTime.UtcNow - started < checkedWithin) Interlocked.Increment(ref refusedInTime);
            }
            catch (Exception ex) when (ex is TimeoutException or HttpRequestException or TaskCanceledException)
            {
                // Held back past the test's patience: not a checked guess.
            }
        });
        await Task.WhenAll(guesses).Within(TestTimeouts.Long + TestTimeouts.Long);
        Assert.InRange(refusedInTime, 1, 20);
        Assert.InRange(logs.Lines.Count(l => l.Contains("login", StringComparison.OrdinalIgnoreCase)), 1, 4);
    }

    [Fact]
    public async Task An_unauthenticated_WebSocket_is_closed_at_the_deadline()
    {
        var (relay, server) = await StartAsync(new WebifiRelayOptions { AuthenticationTimeout = TimeSpan.FromMilliseconds(500) });
        await using var _ = relay;
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/api/WebSocket"), CancellationToken.None).Within();
        Assert.True(await ClosedAsync(socket), "the silent socket was closed");
    }

    [Fact]
    public async Task An_unauthenticated_WebSocket_may_buffer_only_a_little()
    {
        var (relay, server) = await StartAsync(new WebifiRelayOptions());
        await using var _ = relay;
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/api/WebSocket"), CancellationToken.None).Within();
        var chunk = Encoding.ASCII.GetBytes("~d=" + new string('x', 16 * 1024));
        try
        {
            for (int i = 0; i < 16; i++) await socket.SendAsync(chunk, WebSocketMessageType.Text, false, CancellationToken.None).Within();
        }
        catch (WebSocketException)
        {
            // Closed under our feet: what the test wants.
        }
        Assert.True(await ClosedAsync(socket), "256 KiB without a terminator before authenticating closed the socket");
    }

    /// <summary>True when the relay closes the socket (close frame or reset) within the short timeout.</summary>
    private static async Task<bool> ClosedAsync(ClientWebSocket socket)
    {
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().Within();
                if (result.MessageType == WebSocketMessageType.Close) return true;
            }
        }
        catch (WebSocketException)
        {
            return true;
        }
    }

    [Fact]
    public async Task Sessions_per_account_are_capped()
    {
        var (relay, server) = await StartAsync(new WebifiRelayOptions { MaxSessionsPerAccount = 5 });
        await using var _ = relay;
        for (int i = 0; i < 12; i++) await PostTextAsync(Http, server, "~p=1~cn=webifi~cp=pswd");
        Assert.InRange(relay.SessionCount, 1, 5);
    }

    [Fact]
    public async Task Uploads_parked_during_the_startup_grace_are_capped_in_bytes()
    {
        var options = new WebifiRelayOptions { MaxParkedBytes = 1024 * 1024, StartupGrace = TimeSpan.FromMinutes(1) };
        var (relay, server) = await StartAsync(options);
        await using var _ = relay;
        string sender = (await WebifiSessionTests.PostAsync(Http, server, "~p=1~cn=webifi~cp=pswd")).Find("id")!;
        string half = new('x', 512 * 1024);
        for (int i = 0; i < 8; i++) Assert.Equal("~e=0", await PostTextAsync(Http, new Uri(server, "Upload"), $"~id={sender}~n=net1~d={half}~z={i}"));
        string receiver = (await WebifiSessionTests.PostAsync(Http, server, "~p=1~cn=webifi~cp=pswd")).Find("id")!;
        Assert.Equal("~e=4", await PostTextAsync(Http, new Uri(server, "Download"), $"~id={receiver}~n=net1~z=0"));
        Assert.InRange(relay.QueuedBytes, 1, options.MaxParkedBytes);
    }

    [Fact]
    public async Task A_payload_over_the_limit_is_refused_on_every_path()
    {
        var (relay, server) = await StartAsync(new WebifiRelayOptions());
        await using var _ = relay;
        string id = (await WebifiSessionTests.PostAsync(Http, server, "~p=1~cn=webifi~cp=pswd")).Find("id")!;
        string over = new('x', 1024 * 1024 + 10);
        Assert.Equal("~e=7", await PostTextAsync(Http, new Uri(server, "Upload"), $"~id={id}~n=net1~d={over}~z=0"));

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/api/WebSocket"), CancellationToken.None).Within();
        await socket.SendAsync(Encoding.ASCII.GetBytes($"~id={id}~t=1"), WebSocketMessageType.Text, true, CancellationToken.None).Within();
        Assert.Equal("~rt=a~e=0~t=1", await NextFrameAsync(socket));
        await socket.SendAsync(Encoding.ASCII.GetBytes($"~n=net1~d={over}~t=1"), WebSocketMessageType.Text, true, CancellationToken.None).Within();
        Assert.Equal("~rt=s~e=7~t=1", await NextFrameAsync(socket));
        Assert.Equal(0, relay.QueuedMessages + relay.DroppedMessages);
    }

    private static async Task<string> NextFrameAsync(ClientWebSocket socket)
    {
        var buffer = new byte[4096];
        int length = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None).AsTask().Within();
            length += result.Count;
            if (result.EndOfMessage) return Encoding.UTF8.GetString(buffer, 0, length);
        }
    }

    [Fact]
    public async Task Peer_text_reaches_the_log_quoted_and_escaped()
    {
        var logs = new CapturingLoggerFactory(LogLevel.Trace);
        var (relay, server) = await StartAsync(new WebifiRelayOptions(), logs);
        await using var _ = relay;
        Assert.Equal("~e=8", await PostTextAsync(Http, server, "~p=1~cn=\u001b[31mred\u001b[0m\nforged line~cp=x"));
        await PostTextAsync(Http, new Uri(server, "Upload"), "not tilde \u001b[2J");
        Assert.NotEmpty(logs.Lines);
        Assert.All(logs.Lines, line => Assert.DoesNotContain(line, c => c == '\u001b' || c == '\n'));
    }

    [Fact]
    public async Task A_session_that_does_not_read_holds_a_bounded_number_of_bytes()
    {
        await using var relay = await WebifiFixture.StartAsync();
        var receiver = await relay.ConnectAsync(WebifiTransport.WebSocket, "net1");
        var sender = await relay.ConnectAsync(WebifiTransport.WebSocket);
        var megabyte = new byte[1024 * 1024];
        for (int i = 0; i < 24; i++) await sender.SendAsync(new WebifiOutgoing(megabyte, "", new[] { "net1" }, Array.Empty<int>())).Within(TestTimeouts.Long);
        await Eventually.True(() => receiver.QueuedEvents + receiver.DroppedEvents >= 24, TestTimeouts.Long);
        Assert.InRange(receiver.QueuedEvents, 1, 5);
        // Every message not queued was dropped and counted (the Connected status change may be among the dropped).
        Assert.InRange(receiver.DroppedEvents, 24 - receiver.QueuedEvents, 25 - receiver.QueuedEvents);
    }

    [Fact]
    public async Task The_certificate_file_does_not_follow_a_planted_symlink()
    {
        if (OperatingSystem.IsWindows()) return;
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        string victimDirectory = Directory.CreateTempSubdirectory("webifi-victim-").FullName;
        string victim = Path.Combine(victimDirectory, "precious.txt");
        File.WriteAllText(victim, "precious");
        string planted = Path.Combine(Path.GetTempPath(), $"deviceshell-webifi-{port}.crt");
        File.Delete(planted);
        File.CreateSymbolicLink(planted, victim);
        try
        {
            var relay = new WebifiRelay(new WebifiRelayOptions { Certificate = WebifiRelayOptions.CreateSelfSignedCertificate() });
            var endpoint = await relay.StartAsync(LabSimulatorOptions.Loopback(port), CancellationToken.None).Within();
            string written;
            await using (relay)
            {
                Assert.Equal("precious", File.ReadAllText(victim));
                written = endpoint.CaCertificate!;
                var file = new FileInfo(written);
                Assert.Null(file.LinkTarget);
                Assert.StartsWith("-----BEGIN CERTIFICATE-----", File.ReadAllText(written));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(file.DirectoryName!));
            }
            Assert.False(File.Exists(written), "the certificate file is removed at stop");
            Assert.Equal("precious", File.ReadAllText(victim));
        }
        finally
        {
            File.Delete(planted);
            Directory.Delete(victimDirectory, true);
        }
    }

    /// <summary>Collects every formatted log line, so a test can look at what an operator would see.</summary>
    internal sealed class CapturingLoggerFactory : ILoggerFactory, ILogger
    {
        private readonly List<string> _lines = new();
        private readonly LogLevel _minimum;

        public CapturingLoggerFactory(LogLevel minimum) => _minimum = minimum;

        public IReadOnlyList<string> Lines
        {
            get { lock (_lines) { return _lines.ToArray(); } }
        }

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= _minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            lock (_lines) { _lines.Add(formatter(state, exception)); }
        }
    }
}
