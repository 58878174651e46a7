using System.Text.Json;
using System.Text.Json.Nodes;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Sessions.Recording;
using DeviceShell.Engine.Webifi;
using DeviceShell.Lab.Hosting;
using DeviceShell.Lab.Webifi;
using DeviceShell.Tests;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>Recording a live Webifi session on the Lab relay (docs/recording-format.md "Webifi"), and the relay replaying one.</summary>
public sealed class WebifiRecordingTests : IDisposable
{
    private const string Password = "never-in-a-recording-7f3a";

    private readonly string _folder = Directory.CreateTempSubdirectory("deviceshell-webifi-recording-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static WebifiRelayOptions OwnAccount() => new() { Accounts = new[] { new WebifiAccount("webifi", Password, new[] { "net1", "lab" }) } };

    private static WebifiConnectOptions Client(WebifiFixture relay, params string[] networks) =>
        relay.ClientOptions(WebifiTransport.WebSocket, networks) with { ConnectPassword = WebifiFixture.Secure(Password) };

    [Fact]
    public async Task A_recording_holds_login_outcomes_sends_receives_discovery_and_the_restart_but_no_password()
    {
        await using var relay = await WebifiFixture.StartAsync(OwnAccount());
        var peer = await relay.ConnectAsync(Client(relay, "lab") with { Name = "peer" });
        var device = await relay.ConnectAsync(Client(relay, "net1"));
        int peerId = peer.SessionId;
        string path = Path.Combine(_folder, "device.devrec");
        device.StartRecording(path, overwrite: false);

        await device.SendTextAsync("hello", "greeting", toNetworks: new[] { "lab" });
        Assert.Equal("hello", (await peer.ReceiveAsync(1))[0].Data);
        await peer.SendTextAsync("hi", toSessionIds: new[] { device.SessionId });
        Assert.Equal("hi", (await device.ReceiveAsync(1))[0].Data);
        var found = await device.DiscoverAsync(new[] { "lab" }, TimeSpan.FromMilliseconds(500)).Within();
        Assert.Equal("peer", Assert.Single(found).Name);
        await device.SendAsync(new WebifiOutgoing(new byte[] { 0xff, 0x00, 0x80 }, "binary", new[] { "lab" }, Array.Empty<int>())).Within();
        var failure = await Assert.ThrowsAsync<DeviceException>(() => device.SendTextAsync("lost", toSessionIds: new[] { 999_999 }));
        Assert.Equal("WebifiNotDelivered", failure.ErrorId);
        await relay.RestartAsync(TimeSpan.FromMilliseconds(200));
        await Eventually.True(() => device.Reconnects >= 1 && device.State == DeviceSessionState.Connected, what: "the device logs in again after the restart");
        await device.StopRecordingAsync().Within();

        string text = await File.ReadAllTextAsync(path);
        Assert.DoesNotContain(Password, text, StringComparison.Ordinal);
        var records = DeviceRecording.Load(path).Records;
        var logins = records.Where(r => Kind(r) == "login").ToList();
        Assert.True(logins.Count >= 2, "the login in force when the recording started, and the one after the restart");
        Assert.All(logins, login =>
        {
            Assert.Equal("webifi", login.GetProperty("connectName").GetString());
            Assert.Equal("accepted", login.GetProperty("outcome").GetString());
            Assert.Equal(new[] { "connectName", "kind", "outcome", "sessionId", "t" }, login.EnumerateObject().Select(p => p.Name).Order());
        });
        Assert.Equal(device.SessionId, logins[^1].GetProperty("sessionId").GetInt32());
        Assert.Equal(new[] { "net1" }, records.First(r => Kind(r) == "networks").GetProperty("networks").EnumerateArray().Select(n => n.GetString()));

        var sends = records.Where(r => Kind(r) == "send").ToList();
        var hello = sends.Single(s => s.TryGetProperty("data", out var d) && d.GetString() == "hello");
        Assert.Equal(("greeting", "lab", 0), (hello.GetProperty("dataType").GetString(), hello.GetProperty("network")[0].GetString(), hello.GetProperty("code").GetInt32()));
        var lost = sends.Single(s => s.TryGetProperty("data", out var d) && d.GetString() == "lost");
        Assert.Equal((999_999, WebifiErrorCode.NotDelivered, "WebifiNotDelivered"),
            (lost.GetProperty("to")[0].GetInt32(), lost.GetProperty("code").GetInt32(), lost.GetProperty("error").GetProperty("errorId").GetString()));
        Assert.Contains(sends, s => s.GetProperty("dataType").GetString() == "Discovery" && s.GetProperty("data").GetString() == "?");
        // Bytes that are not UTF-8 are written as hex, not as text they are not.
        var binary = sends.Single(s => s.GetProperty("dataType").GetString() == "binary");
        Assert.Equal(("ff0080", false), (binary.GetProperty("hex").GetString(), binary.TryGetProperty("data", out _)));

        var receives = records.Where(r => Kind(r) == "receive").ToList();
        Assert.Contains(receives, r => r.GetProperty("data").GetString() == "hi" && r.GetProperty("from").GetInt32() == peerId);
        Assert.Contains(receives, r => r.GetProperty("dataType").GetString() == "Discovery Response" && r.GetProperty("data").GetString() == "peer");
        Assert.All(receives, r => Assert.True(r.TryGetProperty("messageId", out _), "the relay numbers what DeviceShell clients send"));

        var states = records.Where(r => Kind(r) == "state").Select(r => r.GetProperty("state").GetString()).ToList();
        Assert.Equal(new[] { "Reconnecting", "Connected" }, states);
        Assert.Contains(records, r => Kind(r) == "drop");
    }

    [Fact]
    public async Task A_replaying_relay_takes_any_password_delivers_the_recorded_answers_and_restarts_where_the_relay_did()
    {
        string path = await WriteAsync("replay.devrec",
            Login(0, "accepted"),
            """{"t":1,"kind":"networks","networks":["net1"],"code":4}""",
            Send(100, "[]", "lab", "ping", 0),
            """{"t":150,"kind":"receive","from":123,"dataType":"reply","data":"pong","messageId":"ab.1"}""",
            Send(300, "[]", "lab", "bye", 0),
            """{"t":900,"kind":"state","state":"Reconnecting"}""",
            """{"t":910,"kind":"drop","errorId":"WebifiConnectionLost","message":"The connection to the Webifi relay was lost: closed"}""",
            Login(1500, "accepted"),
            """{"t":1501,"kind":"state","state":"Connected"}""",
            Send(1600, "[123]", "", "again", 0),
            """{"t":1610,"kind":"receive","from":123,"dataType":"","data":"welcome back"}""",
            """{"t":1800,"kind":"end","records":10}""");
        await using var relay = await WebifiFixture.StartReplayAsync(path, speed: 2);
        var device = await relay.ConnectAsync(relay.ClientOptions(WebifiTransport.WebSocket, "net1") with { ConnectPassword = WebifiFixture.Secure("any password at all") });

        await device.SendTextAsync("ping", toNetworks: new[] { "lab" });
        var pong = (await device.ReceiveAsync(1))[0];
        Assert.Equal(("pong", "reply", 123), (pong.Data, pong.DataType, pong.FromSessionId));
        // Not recorded: the relay routes it (nobody listens to net1 but the sender) and reports it.
        await device.SendTextAsync("extra", toNetworks: new[] { "net1" });
        Assert.Equal(0, device.Reconnects);
        await device.SendTextAsync("bye", toNetworks: new[] { "lab" });
        await Eventually.True(() => device.Reconnects == 1 && device.State == DeviceSessionState.Connected, what: "the recorded restart, and the login after it");
        await device.SendTextAsync("again", toSessionIds: new[] { 123 });
        Assert.Equal("welcome back", (await device.ReceiveAsync(1))[0].Data);

        var report = relay.Relay.ReplayReport()!;
        Assert.Equal(5, report.Recorded);
        Assert.Equal(5, report.Replayed);
        var uncovered = Assert.Single(report.Uncovered);
        Assert.Equal("send to [] network [net1] type \"\" data \"extra\"", uncovered.Request);
        Assert.Empty(report.Divergences);
    }

    [Fact]
    public async Task A_login_the_recording_refused_is_refused_again_and_another_connect_name_meets_the_normal_relay()
    {
        string path = await WriteAsync("refused.devrec",
            Login(0, "accepted"),
            // The relay went away a while after the send, as a real one does: the client has settled the send by then.
            Send(10, "[]", "lab", "last words", 0),
            """{"t":300,"kind":"state","state":"Reconnecting"}""",
            """{"t":500,"kind":"login","connectName":"webifi","outcome":"refused","code":8}""",
            """{"t":501,"kind":"state","state":"Disconnected"}""");
        await using var relay = await WebifiFixture.StartReplayAsync(path);
        var device = await relay.ConnectAsync(relay.ClientOptions(WebifiTransport.LongPolling) with { ConnectPassword = WebifiFixture.Secure("whatever") });
        await device.SendTextAsync("last words", toNetworks: new[] { "lab" });
        await Eventually.True(() => device.State == DeviceSessionState.Disconnected, what: "the re-login refused as recorded");
        var refused = await Assert.ThrowsAsync<DeviceException>(() => device.SendTextAsync("more"));
        Assert.Equal("WebifiAuthenticationFailed", refused.ErrorId);

        var stranger = await Assert.ThrowsAsync<DeviceException>(() => relay.ConnectAsync(relay.ClientOptions(WebifiTransport.WebSocket) with { ConnectName = "nobody" }));
        Assert.Equal("WebifiAuthenticationFailed", stranger.ErrorId);
    }

    [Fact]
    public async Task A_recording_the_relay_cannot_serve_is_refused_with_DeviceRecordingInvalid_naming_why()
    {
        string noLogin = await WriteAsync("no-login.devrec", Send(1, "[]", "lab", "x", 0));
        string noName = await WriteAsync("no-name.devrec", """{"t":1,"kind":"login","outcome":"accepted"}""");
        foreach (var (path, why) in new[] { (noLogin, "has no login record"), (noName, "without the fields it needs") })
        {
            var failure = await Assert.ThrowsAsync<DeviceException>(() => WebifiFixture.StartReplayAsync(path));
            Assert.Equal(("DeviceRecordingInvalid", DeviceErrorKind.InvalidArgument), (failure.ErrorId, failure.Kind));
            Assert.Contains(why, failure.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_replay_on_a_relay_that_shares_Redis_is_refused_at_start()
    {
        string recording = await WriteAsync("greeter.devrec", Login(1, "accepted"));
        await using var relay = new WebifiRelay();
        var settings = new Dictionary<string, string> { ["replay"] = recording, ["redis"] = "127.0.0.1:1" };
        var refusal = await Assert.ThrowsAsync<ArgumentException>(() => relay.StartAsync(LabSimulatorOptions.Loopback(settings: settings), CancellationToken.None).Within());
        Assert.Contains("does not go with --webifi-redis", refusal.Message, StringComparison.Ordinal);
    }

    private static string Kind(JsonElement record) => record.GetProperty("kind").GetString()!;

    private const string Header = """{"format":"devrec","version":1,"world":"Webifi","endpoint":"http://127.0.0.1:1","module":"0.1.0","started":"2026-12-07T07:00:00Z","session":1,"state":"Connected"}""";

    private static string Login(double t, string outcome) =>
        $$"""{"t":{{t}},"kind":"login","connectName":"webifi","outcome":"{{outcome}}","sessionId":100}""";

    private static string Send(double t, string to, string network, string data, int code) =>
        $$"""{"t":{{t}},"kind":"send","to":{{to}},"network":[{{(network.Length > 0 ? $"\"{network}\"" : "")}}],"dataType":"","data":"{{data}}","ms":2,"code":{{code}}}""";

    private async Task<string> WriteAsync(string name, params string[] records)
    {
        string path = Path.Combine(_folder, name);
        await File.WriteAllLinesAsync(path, records.Prepend(Header));
        return path;
    }
}
