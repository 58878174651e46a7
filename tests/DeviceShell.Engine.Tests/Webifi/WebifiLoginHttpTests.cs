using System.Net.Sockets;
using System.Text;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// The login POST goes out on a connection of its own, as the official library's http.client makes it
/// (RelayConnection, docs/design/webifi.md §1): the same headers, and every framing an HTTP/1.1 server may answer in
/// (a length, chunks, the close of the connection, an interim 100 first) logs in; an answer that is not 200, not
/// HTTP, or too long is a clear error.
/// </summary>
public class WebifiLoginHttpTests
{
    [Theory]
    [InlineData(LoginFraming.Length)]
    [InlineData(LoginFraming.Chunked)]
    [InlineData(LoginFraming.UntilClose)]
    [InlineData(LoginFraming.ContinueFirst)]
    public async Task Every_framing_of_the_credentials_answer_logs_in(LoginFraming framing)
    {
        await using var relay = await WebifiFixture.StartAsync();
        await using var front = new FramingLoginFront(relay.Server, framing);
        await using var receiver = await WebifiSession.ConnectAsync(WebifiFixture.ClientOptions(front.Server, WebifiTransport.WebSocket, "net1")).Within();
        Assert.Equal(WebifiDialect.DeviceShell, receiver.Dialect);
        var sender = await relay.ConnectAsync(WebifiTransport.WebSocket);
        await sender.SendTextAsync("hello", toNetworks: new[] { "net1" });
        Assert.Equal("hello", Assert.Single(await receiver.ReceiveAsync(1)).Data);
    }

    [Fact]
    public async Task The_credentials_request_carries_the_official_headers()
    {
        await using var relay = await WebifiFixture.StartAsync();
        await using var front = new FramingLoginFront(relay.Server, LoginFraming.Length);
        await using var session = await WebifiSession.ConnectAsync(WebifiFixture.ClientOptions(front.Server, WebifiTransport.WebSocket)).Within();
        string[] request = Assert.Single(front.Requests);
        Assert.Equal("POST / HTTP/1.1", request[0]);
        Assert.Equal($"127.0.0.1:{front.Port}", LoopbackListener.Header(request, "Host"));
        Assert.Equal("identity", LoopbackListener.Header(request, "Accept-Encoding"));
        Assert.Equal("application/octet-stream", LoopbackListener.Header(request, "Content-Type"));
        Assert.NotNull(LoopbackListener.Header(request, "Content-Length"));
    }

    [Theory]
    [InlineData("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", DeviceErrorKind.Connection, "WebifiConnectionFailed", "answered HTTP 503")]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n\r\n", DeviceErrorKind.Connection, "WebifiConnectionFailed", "not HTTP")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 12", DeviceErrorKind.Connection, "WebifiConnectionFailed", "closed the connection")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", DeviceErrorKind.Connection, "WebifiConnectionFailed", "chunk size")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n~e=0\r\n0\r\n\r\n", DeviceErrorKind.Connection, "WebifiConnectionFailed", "longer than its chunk size")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n", DeviceErrorKind.Protocol, "WebifiAnswerTooLarge", "longer than 256 bytes")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 63\r\n\r\n~e=0~id=101sabc~ip=no host~ip=127.0.0.1~dn=no host~dn=localhost", DeviceErrorKind.Protocol, "WebifiProtocolError", "not host names")]
    public async Task A_credentials_answer_that_is_not_a_login_fails_with_what_was_wrong(string answer, DeviceErrorKind kind, string errorId, string why)
    {
        await using var server = new FixedAnswerServer(answer);
        var options = WebifiFixture.ClientOptions(server.Server, WebifiTransport.WebSocket) with { MaxAnswerBytes = 256, Dialect = WebifiDialect.Official };
        var error = await Assert.ThrowsAsync<DeviceException>(() => WebifiSession.ConnectAsync(options).Within());
        Assert.Equal((errorId, kind), (error.ErrorId, error.Kind));
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }

    public enum LoginFraming
    {
        Length,
        Chunked,
        UntilClose,
        ContinueFirst,
    }

    /// <summary>Forwards each credentials request to a real relay and writes the relay's answer back in the framing given.</summary>
    private sealed class FramingLoginFront : LoopbackListener
    {
        private readonly Uri _relay;
        private readonly LoginFraming _framing;
        private readonly HttpClient _http = new();
        private readonly System.Collections.Concurrent.ConcurrentQueue<string[]> _requests = new();

        public FramingLoginFront(Uri relay, LoginFraming framing)
        {
            _relay = relay;
            _framing = framing;
            StartListening();
        }

        public Uri Server => new($"http://127.0.0.1:{Port}/");

        /// <summary>The request line and header lines of every request, in order.</summary>
        public IReadOnlyList<string[]> Requests => _requests.ToArray();

        protected override async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    var stream = client.GetStream();
                    var (lines, body) = await ReadRequestLinesAsync(stream);
                    _requests.Enqueue(lines);
                    using var response = await _http.PostAsync(_relay, new ByteArrayContent(body), Stopping.Token);
                    byte[] answer = await response.Content.ReadAsByteArrayAsync(Stopping.Token);
                    await stream.WriteAsync(Frame(answer), Stopping.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
                {
                    // The test is over.
                }
            }
        }

        private byte[] Frame(byte[] answer)
        {
            var framed = new MemoryStream();
            void Text(string text) => framed.Write(Encoding.ASCII.GetBytes(text));
            switch (_framing)
            {
                case LoginFraming.Chunked:
                    Text("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                    int half = answer.Length / 2;
                    Text($"{half:x};name=value\r\n");
                    framed.Write(answer, 0, half);
                    Text($"\r\n{answer.Length - half:X}\r\n");
                    framed.Write(answer, half, answer.Length - half);
                    Text("\r\n0\r\nX-Trailer: 1\r\n\r\n");
                    break;
                case LoginFraming.UntilClose:
                    Text("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
                    framed.Write(answer);
                    break;
                default:
                    if (_framing == LoginFraming.ContinueFirst) Text("HTTP/1.1 100 Continue\r\n\r\n");
                    Text($"HTTP/1.1 200 OK\r\nContent-Length: {answer.Length}\r\n\r\n");
                    framed.Write(answer);
                    break;
            }
            return framed.ToArray();
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            _http.Dispose();
        }
    }

    /// <summary>Answers every request with the same bytes and closes the connection.</summary>
    private sealed class FixedAnswerServer : LoopbackListener
    {
        private readonly byte[] _answer;

        public FixedAnswerServer(string answer)
        {
            _answer = Encoding.ASCII.GetBytes(answer);
            StartListening();
        }

        public Uri Server => new($"http://127.0.0.1:{Port}/");

        protected override async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    var stream = client.GetStream();
                    await ReadRequestLinesAsync(stream);
                    await stream.WriteAsync(_answer, Stopping.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
                {
                    // The test is over.
                }
            }
        }
    }
}
