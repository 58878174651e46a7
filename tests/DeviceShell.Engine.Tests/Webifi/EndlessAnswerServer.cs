using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// A hostile Webifi server on a free loopback port: it answers one path with a body that never ends (chunked, or
/// under a declared length of 1 GiB; for <c>/api/WebSocket</c>, one WebSocket message that never ends) and the
/// credentials request, when that is not the hostile path, with a valid answer that points back at itself. One
/// request per connection. It counts the bytes it managed to write.
/// </summary>
internal sealed class EndlessAnswerServer : LoopbackListener
{
    private readonly string _endlessPath;
    private readonly bool _declareLength;
    private long _endlessBytes;

    public EndlessAnswerServer(string endlessPath, bool declareLength)
    {
        _endlessPath = endlessPath;
        _declareLength = declareLength;
        StartListening();
    }

    public Uri Server => new($"http://127.0.0.1:{Port}/");

    /// <summary>Bytes of endless body written so far: what the client read, plus what the socket buffers hold.</summary>
    public long EndlessBytes => Interlocked.Read(ref _endlessBytes);

    protected override async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var (path, webSocketKey, _) = await ReadRequestAsync(stream);
                if (path != _endlessPath) await WriteCredentialsAsync(stream);
                else if (webSocketKey is not null) await StreamEndlessWebSocketMessageAsync(stream, webSocketKey);
                else await StreamForeverAsync(stream);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
                // The client gave up on the answer, which is what the tests want it to do.
            }
        }
    }

    private async Task WriteCredentialsAsync(NetworkStream stream)
    {
        string self = $"127.0.0.1:{Port}";
        await WriteAnswerAsync(stream, Encoding.ASCII.GetBytes($"~e=0~id=1s1~ip={self}~ip={self}~dn={self}~dn={self}"));
    }

    /// <summary>Accepts the WebSocket (RFC 6455 §4.2.2), then sends a binary message whose continuation frames never end.</summary>
    private async Task StreamEndlessWebSocketMessageAsync(NetworkStream stream, string key)
    {
        string accept = Convert.ToBase64String(System.Security.Cryptography.SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"), Stopping.Token);
        byte[] filler = Enumerable.Repeat((byte)'x', 16 * 1024).ToArray();
        // Frame header: FIN clear, opcode binary (2) for the first frame and continuation (0) after; 16-bit length.
        for (byte opcode = 2; ; opcode = 0)
        {
            await stream.WriteAsync(new byte[] { opcode, 126, (byte)(filler.Length >> 8), (byte)filler.Length }, Stopping.Token);
            await stream.WriteAsync(filler, Stopping.Token);
            Interlocked.Add(ref _endlessBytes, filler.Length);
        }
    }

    /// <summary>A successful answer whose one value never ends, written as fast as the client takes it.</summary>
    private async Task StreamForeverAsync(NetworkStream stream)
    {
        string framing = _declareLength ? "Content-Length: 1073741824" : "Transfer-Encoding: chunked";
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n{framing}\r\n\r\n"), Stopping.Token);
        byte[] start = Encoding.ASCII.GetBytes("~e=0~f=1~d=");
        byte[] filler = Enumerable.Repeat((byte)'x', 16 * 1024).ToArray();
        for (bool first = true; ; first = false)
        {
            byte[] data = first ? start : filler;
            if (!_declareLength) await stream.WriteAsync(Encoding.ASCII.GetBytes($"{data.Length:x}\r\n"), Stopping.Token);
            await stream.WriteAsync(data, Stopping.Token);
            if (!_declareLength) await stream.WriteAsync("\r\n"u8.ToArray(), Stopping.Token);
            Interlocked.Add(ref _endlessBytes, data.Length);
        }
    }
}
