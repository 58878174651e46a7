using System.Net.WebSockets;
using System.Text;
using DeviceShell.Engine.Webifi;
using DeviceShell.Lab.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// The relay on the wire, driven byte by byte the way the official Python library talks (text frames in,
/// binary frames out, docs/design/webifi.md §8), so an existing client works by changing only the server address.
/// </summary>
public class WebifiRelayWireTests
{
    private static Task<List<TildeField>> PostAsync(HttpClient http, Uri uri, string body) => WebifiSessionTests.PostAsync(http, uri, body);

    private static async Task<string> LoginAsync(HttpClient http, WebifiFixture relay) =>
        (await PostAsync(http, relay.Server, "~p=1~cn=webifi~cp=pswd~ec=1")).Find("id")!;

    [Fact]
    public async Task The_credentials_answer_has_the_id_two_addresses_two_names_and_the_error_table_last()
    {
        await using var relay = await WebifiFixture.StartAsync();
        using var http = new HttpClient();
        var answer = await PostAsync(http, relay.Server, "~p=1~cn=webifi~cp=pswd~ec=1");
        Assert.Equal(new[] { "e", "id", "ip", "ip", "dn", "dn", "0" }, answer.Take(7).Select(f => f.Key));
        Assert.Equal(0, answer.FindInt("e"));
        Assert.Matches("^[0-9]+s[0-9a-f]+$", answer.Find("id"));
        Assert.All(answer.FindAll("ip"), ip => Assert.Equal($"127.0.0.1:{relay.Port}", ip));
        Assert.All(answer.Skip(6), f => Assert.True(int.TryParse(f.Key, out _)));
        Assert.Equal("Invalid connect name or connect password", answer.Find("8"));

        Assert.Equal("~e=8", Encoding.ASCII.GetString(await RawAsync(http, relay.Server, "~p=1~cn=webifi~cp=nope~ec=1")));

        // Reached by a host name (as connect.webifi.me would be): ip stays an IP literal, dn keeps the name.
        var byName = await PostAsync(http, new Uri($"http://localhost:{relay.Port}/"), "~p=1~cn=webifi~cp=pswd");
        Assert.All(byName.FindAll("ip"), ip => Assert.Equal($"127.0.0.1:{relay.Port}", ip));
        Assert.All(byName.FindAll("dn"), dn => Assert.Equal($"localhost:{relay.Port}", dn));
        Assert.Equal("~e=7", Encoding.ASCII.GetString(await RawAsync(http, relay.Server, "not tilde")));
    }

    /// <summary>
    /// Message ids (WebifiMessageId) are DeviceShell's own extension: offered only to a client that asks (the official
    /// libraries never see the field, on either transport), passed on only to recipients that asked, and a repeated id
    /// reaches a DeviceShell client once, so a resent window or a dead relay's replay does not deliver a message twice.
    /// </summary>
    [Fact]
    public async Task Message_ids_go_only_to_clients_that_ask_and_a_repeated_id_is_delivered_once()
    {
        await using var relay = await WebifiFixture.StartAsync();
        using var http = new HttpClient();
        var plainLogin = await PostAsync(http, relay.Server, "~p=1~cn=webifi~cp=pswd~ec=1");
        Assert.Null(plainLogin.Find("mi"));
        var numberedLogin = await PostAsync(http, relay.Server, "~p=1~cn=webifi~cp=pswd~ec=1~mi=1");
        Assert.Equal("1", numberedLogin.Find("mi"));

        var receiver = await relay.ConnectAsync(WebifiTransport.WebSocket, "net1");
        string plain = plainLogin.Find("id")!;
        Assert.Equal("~e=4", Encoding.ASCII.GetString(await RawAsync(http, new Uri(relay.Server, "Download"), $"~id={plain}~n=net1~z=0")));

        // A sender that numbers its messages sends message 1 twice (as after a dropped socket), then 2, then an
        // unnumbered one twice (as an official client would: never dropped). Between its 1 and its 2, another session
        // of the account sends under the same sender part with a higher number: it cannot silence the first sender.
        string numbered = numberedLogin.Find("id")!;
        string spoofer = (await PostAsync(http, relay.Server, "~p=1~cn=webifi~cp=pswd~mi=1")).Find("id")!;
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{relay.Port}/api/WebSocket"), CancellationToken.None).Within();
        var frames = new FrameReader(socket);
        await SendTextAsync(socket, $"~id={numbered}~t=1");
        Assert.Equal("~rt=a~e=0~t=1", await frames.NextAsync());
        async Task SendAsync(string group)
        {
            await SendTextAsync(socket, $"~n=net1~dt=t{group}~t=1");
            Assert.Equal("~rt=s~e=0~t=1", await frames.NextAsync());
        }
        await SendAsync("~u=feed.1~d=one");
        await SendAsync("~u=feed.1~d=one");
        Assert.Equal("~e=0", Encoding.ASCII.GetString(await RawAsync(http, new Uri(relay.Server, "Upload"), $"~id={spoofer}~n=net1~dt=t~u=feed.9~d=spoof~z=0")));
        await SendAsync("~u=feed.2~d=two");
        await SendAsync("~d=three");
        await SendAsync("~d=three");

        Assert.Equal(new[] { "one", "spoof", "two", "three", "three" }, (await receiver.ReceiveAsync(5)).Select(m => m.Data));
        Assert.True(await receiver.StaysQuietAsync(TimeSpan.FromMilliseconds(200)), "the repeat of message 1 is not delivered");
        Assert.Equal(1, receiver.DroppedRepeats);

        // The client that did not ask gets the groups exactly as before, without ~u.
        string From(string deviceId) => deviceId[..deviceId.IndexOf('s')];
        var expected = new[] { (numbered, "one"), (numbered, "one"), (spoofer, "spoof"), (numbered, "two"), (numbered, "three"), (numbered, "three") };
        string answer = Encoding.UTF8.GetString(await RawAsync(http, new Uri(relay.Server, "Download"), $"~id={plain}~z=1"));
        Assert.Equal($"~e=0{string.Concat(expected.Select(m => $"~f={From(m.Item1)}~dt=t~d={m.Item2}"))}", answer);
    }

    /// <summary>
    /// A server that refuses the login because it asks for message ids (the public service might: UNKNOWN) still lets
    /// the session in, asked once more the official way; it then works without ids.
    /// </summary>
    [Theory]
    [MemberData(nameof(WebifiSessionTests.Transports), MemberType = typeof(WebifiSessionTests))]
    public async Task A_server_that_refuses_the_message_id_request_gets_the_official_login(WebifiTransport transport)
    {
        await using var relay = await WebifiFixture.StartAsync();
        await using var front = new StrictLoginFront(relay.Server);
        await using var receiver = await WebifiSession.ConnectAsync(WebifiFixture.ClientOptions(front.Server, transport, "net1")).Within();
        Assert.Equal((1, 1), (front.Refused, front.Forwarded));
        var sender = await relay.ConnectAsync(transport);
        await sender.SendTextAsync("hello", toNetworks: new[] { "net1" });
        Assert.Equal("hello", Assert.Single(await receiver.ReceiveAsync(1)).Data);
    }

    private static async Task<byte[]> RawAsync(HttpClient http, Uri uri, string body)
    {
        using var response = await http.PostAsync(uri, new ByteArrayContent(Encoding.UTF8.GetBytes(body))).Within();
        return await response.Content.ReadAsByteArrayAsync();
    }

    [Fact]
    public async Task A_python_style_WebSocket_conversation()
    {
        await using var relay = await WebifiFixture.StartAsync();
        using var http = new HttpClient();
        string id = await LoginAsync(http, relay);
        string sessionId = id[..id.IndexOf('s')];
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{relay.Port}/api/WebSocket"), CancellationToken.None).Within();
        var frames = new FrameReader(socket);

        await SendTextAsync(socket, $"~id={id}~t=1");
        Assert.Equal("~rt=a~e=0~t=1", await frames.NextAsync());
        await SendTextAsync(socket, "~nc=1~ns=net1~ns=net2~t=1");
        Assert.Equal("~rt=n~e=4~t=1", await frames.NextAsync());
        await SendTextAsync(socket, "~t=1");
        Assert.Equal("~rt=k~t=1", await frames.NextAsync());

        // Two messages in one frame, then one message split over two frames.
        await SendTextAsync(socket, $"~s={sessionId}~dt=greet~d=hello~~world~t=1~s={sessionId}~d=~t=1");
        await SendTextAsync(socket, $"~s={sessionId}~d=spl", endOfMessage: false);
        await SendTextAsync(socket, "it~t=1");
        // The answers to the messages of one read may share a frame; the client cuts at ~t=1 (docs/design/webifi.md §3.2).
        var seen = new List<string>();
        int Acknowledgements() => seen.Where(f => f.StartsWith("~rt=s", StringComparison.Ordinal)).Sum(f => f.Split("~rt=s~e=0~t=1").Length - 1);
        while (Acknowledgements() < 3 || string.Concat(seen).Split("~d=").Length < 4)
            seen.Add(await frames.NextAsync());
        Assert.Equal(3, Acknowledgements());
        Assert.All(seen.Where(f => f.StartsWith("~rt=s", StringComparison.Ordinal)), f => Assert.Matches("^(~rt=s~e=0~t=1)+$", f));
        string data = string.Concat(seen.Where(f => f.StartsWith("~rt=r", StringComparison.Ordinal)).Select(f => f[5..^4]));
        Assert.Equal($"~f={sessionId}~dt=greet~d=hello~~world~f={sessionId}~dt=~d=~f={sessionId}~dt=~d=split", data);

        await SendTextAsync(socket, "~c=t~t=1");
        Assert.Equal("~rt=c~e=0~t=1", await frames.NextAsync());
        Assert.Equal(0, relay.Relay.SessionCount);
    }

    [Fact]
    public async Task WebSocket_messages_before_auth_or_with_an_unknown_id_get_error_12()
    {
        await using var relay = await WebifiFixture.StartAsync();
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{relay.Port}/api/WebSocket"), CancellationToken.None).Within();
        var frames = new FrameReader(socket);
        await SendTextAsync(socket, "~d=early~t=1");
        Assert.Equal("~rt=s~e=12~t=1", await frames.NextAsync());
        await SendTextAsync(socket, "~id=100sdeadbeef~t=1");
        Assert.Equal("~rt=a~e=12~t=1", await frames.NextAsync());
    }

    [Fact]
    public async Task Long_polling_holds_times_out_with_16_cancels_with_15_and_refuses_a_second_hold_with_18()
    {
        await using var relay = await WebifiFixture.StartAsync();
        using var http = new HttpClient();
        string id = await LoginAsync(http, relay);
        var download = new Uri(relay.Server, "Download");
        Assert.Equal("~e=4", Encoding.ASCII.GetString(await RawAsync(http, download, $"~id={id}~n=net1~n=net2~z=0")));
        Assert.Equal("~e=5", Encoding.ASCII.GetString(await RawAsync(http, download, $"~id={id}~n=net1~n=zzz~z=1")));

        var started = DateTime.UtcNow;
        Assert.Equal("~e=16", Encoding.ASCII.GetString(await RawAsync(http, download, $"~id={id}~t=1~z=2")));
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(4));

        var held = RawAsync(http, download, $"~id={id}~z=3");
        // The second download must come once the relay holds the first, or the relay would hold it instead.
        await Eventually.True(() => relay.Relay.HeldDownloads == 1, what: "the relay to hold the first download");
        Assert.Equal("~e=18", Encoding.ASCII.GetString(await RawAsync(http, download, $"~id={id}~z=4")));
        Assert.Equal("~e=0", Encoding.ASCII.GetString(await RawAsync(http, new Uri(relay.Server, "CancelDownload"), $"~id={id}~z=0")));
        Assert.Equal("~e=15", Encoding.ASCII.GetString(await held.Within()));

        var upload = new Uri(relay.Server, "Upload");
        Assert.Equal("~e=0", Encoding.ASCII.GetString(await RawAsync(http, upload, $"~id={id}~n=net1~dt=greet~d=hello~~world~z=1")));
        Assert.Equal("~e=7", Encoding.ASCII.GetString(await RawAsync(http, upload, $"~id={id}~z=2")));
        Assert.Equal("~e=0", Encoding.ASCII.GetString(await RawAsync(http, new Uri(relay.Server, "CancelDownload"), $"~id={id}~ts=1~z=3")));
        Assert.Equal("~e=12", Encoding.ASCII.GetString(await RawAsync(http, upload, $"~id={id}~d=x~z=4")));
    }

    [Fact]
    public async Task Oversized_messages_get_error_7_on_both_transports()
    {
        await using var relay = await WebifiFixture.StartAsync(new WebifiRelayOptions { MaxMessageBytes = 1000 });
        using var http = new HttpClient();
        string id = await LoginAsync(http, relay);
        string big = new('x', 3 * relay.Options.MaxEncodedBytes);
        Assert.Equal("~e=7", Encoding.ASCII.GetString(await RawAsync(http, new Uri(relay.Server, "Upload"), $"~id={id}~d={big}~z=0")));

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{relay.Port}/api/WebSocket"), CancellationToken.None).Within();
        var frames = new FrameReader(socket);
        await SendTextAsync(socket, $"~id={id}~t=1");
        Assert.Equal("~rt=a~e=0~t=1", await frames.NextAsync());
        await SendTextAsync(socket, $"~d={big}~t=1");
        Assert.Equal("~rt=s~e=7~t=1", await frames.NextAsync());
        var closing = await socket.ReceiveAsync(new byte[16], CancellationToken.None).WaitAsync(TestTimeouts.Short);
        Assert.Equal(WebSocketMessageType.Close, closing.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, closing.CloseStatus);
    }

    [Fact]
    public async Task Idle_sessions_expire_with_error_12()
    {
        // Long enough that a loaded machine still counts the session before it expires.
        await using var relay = await WebifiFixture.StartAsync(new WebifiRelayOptions { SessionTimeout = TimeSpan.FromSeconds(1) });
        using var http = new HttpClient();
        string id = await LoginAsync(http, relay);
        Assert.Equal(1, relay.Relay.SessionCount);
        await Eventually.True(() => relay.Relay.SessionCount == 0);
        Assert.Equal("~e=12", Encoding.ASCII.GetString(await RawAsync(http, new Uri(relay.Server, "Upload"), $"~id={id}~d=x~z=0")));
    }

    [Fact]
    public async Task A_held_download_keeps_a_long_polling_session_alive()
    {
        await using var relay = await WebifiFixture.StartAsync(new WebifiRelayOptions { SessionTimeout = TimeSpan.FromMilliseconds(300) });
        var receiver = await relay.ConnectAsync(WebifiTransport.LongPolling, "net1");
        var sender = await relay.ConnectAsync(WebifiTransport.LongPolling);
        await Task.Delay(800); // the point: the session outlives its 300 ms timeout only through the held download
        await sender.SendTextAsync("after a while", toNetworks: new[] { "net1" });
        Assert.Equal("after a while", Assert.Single(await receiver.ReceiveAsync(1)).Data);
        Assert.Equal(0, receiver.Reconnects);
    }

    private static Task SendTextAsync(ClientWebSocket socket, string text, bool endOfMessage = true) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage, CancellationToken.None).Within();

    /// <summary>Reads whole frames and checks they are binary, as the Python 3 library needs.</summary>
    private sealed class FrameReader
    {
        private readonly ClientWebSocket _socket;

        public FrameReader(ClientWebSocket socket) => _socket = socket;

        public async Task<string> NextAsync()
        {
            var buffer = new byte[64 * 1024];
            int length = 0;
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None).AsTask().Within();
                Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
                length += result.Count;
                if (result.EndOfMessage) return Encoding.UTF8.GetString(buffer, 0, length);
            }
        }
    }
}
