using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// The WebSocket upgrade the session makes on a connection of its own (WebSocketHandshake): a relay answer that does
/// not accept the upgrade is a clear connection error, and a frame the relay sends right behind its 101 answer, in the
/// same segment, reaches the session.
/// </summary>
public class WebSocketUpgradeTests
{
    [Theory]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: d3Jvbmc=\r\n\r\n", "Sec-WebSocket-Accept")]
    [InlineData("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", "HTTP 403 Forbidden")]
    public async Task An_upgrade_the_server_does_not_accept_is_a_connection_error_that_says_why(string answer, string why)
    {
        await using var server = new UpgradeAnswerServer(_ => answer);
        var error = await Assert.ThrowsAsync<DeviceException>(() => WebifiSession.ConnectAsync(server.Options).Within(TestTimeouts.Long));
        Assert.Equal(("WebifiConnectionFailed", DeviceErrorKind.Connection), (error.ErrorId, error.Kind));
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_frame_in_the_segment_of_the_101_answer_is_delivered()
    {
        await using var server = new UpgradeAnswerServer(UpgradeAnswerServer.Accepting, firstMessage: "~rt=r~f=5~dt=txt~d=right behind the 101~t=1");
        await using var session = await WebifiSession.ConnectAsync(server.Options).Within(TestTimeouts.Long);
        var received = await session.ReceiveAsync(1);
        Assert.Equal("right behind the 101", Encoding.UTF8.GetString(received[0].Bytes));
        Assert.Equal(5, received[0].FromSessionId);
    }

    /// <summary>
    /// Answers the credentials request with itself as the relay, and the WebSocket upgrade with the answer given; when
    /// that accepts, the WebSocket's first message goes in the same write as the answer, and the device id and the
    /// networks are acknowledged as a relay does.
    /// </summary>
    private sealed class UpgradeAnswerServer : LoopbackListener
    {
        private readonly Func<string, string> _answer;
        private readonly string? _firstMessage;

        public UpgradeAnswerServer(Func<string, string> answer, string? firstMessage = null)
        {
            _answer = answer;
            _firstMessage = firstMessage;
            StartListening();
        }

        public WebifiConnectOptions Options => new()
        {
            Server = new Uri($"http://127.0.0.1:{Port}/"),
            ConnectName = "webifi",
            ConnectPassword = WebifiFixture.Secure("pswd"),
            Networks = new[] { "net1" },
            Transport = WebifiTransport.WebSocket,
            Dialect = WebifiDialect.Official,
        };

        public static string Accepting(string key) =>
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
            + Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))) + "\r\n\r\n";

        protected override async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    var stream = client.GetStream();
                    var (_, key, _) = await ReadRequestAsync(stream);
                    if (key is null)
                    {
                        string self = $"127.0.0.1:{Port}";
                        await WriteAnswerAsync(stream, Encoding.ASCII.GetBytes($"~e=0~id=1s1~ip={self}~ip={self}~dn={self}~dn={self}"));
                        return;
                    }
                    var answer = new List<byte>(Encoding.ASCII.GetBytes(_answer(key)));
                    if (_firstMessage is not null)
                    {
                        // One unmasked text frame (RFC 6455 §5.2), short enough for the 7-bit length.
                        byte[] payload = Encoding.ASCII.GetBytes(_firstMessage);
                        answer.AddRange(new byte[] { 0x81, (byte)payload.Length });
                        answer.AddRange(payload);
                    }
                    await stream.WriteAsync(answer.ToArray(), Stopping.Token);
                    if (_firstMessage is not null) await ActAsRelayAsync(WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true }));
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException or WebSocketException)
                {
                    // The client went away.
                }
            }
        }

        /// <summary>Acknowledges the device id (rt=a) and the networks (rt=n), and answers a keep-alive.</summary>
        private async Task ActAsRelayAsync(WebSocket socket)
        {
            var buffer = new byte[4096];
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, Stopping.Token);
                if (result.MessageType == WebSocketMessageType.Close) return;
                string message = Encoding.ASCII.GetString(buffer, 0, result.Count);
                string reply = message.Contains("~id=", StringComparison.Ordinal) ? "~rt=a~e=0~t=1"
                    : message.Contains("~nc=", StringComparison.Ordinal) ? "~rt=n~e=4~t=1"
                    : message.Contains("~c=t", StringComparison.Ordinal) ? "~rt=c~e=0~t=1"
                    : "~rt=k~t=1";
                await socket.SendAsync(Encoding.ASCII.GetBytes(reply), WebSocketMessageType.Text, true, Stopping.Token);
            }
        }
    }
}
