using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>A TCP listener on a free loopback port that hands every accepted connection to <see cref="ServeAsync"/> until disposed.</summary>
internal abstract class LoopbackListener : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private Task _accepting = Task.CompletedTask;

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Cancelled when the listener is disposed.</summary>
    protected CancellationTokenSource Stopping { get; } = new();

    /// <summary>Called by the derived constructor once its own fields are set, so no connection meets a half-built object.</summary>
    protected void StartListening()
    {
        _listener.Start();
        _accepting = AcceptLoopAsync();
    }

    /// <summary>Serves one connection; it runs concurrently with the others and owns <paramref name="client"/>.</summary>
    protected abstract Task ServeAsync(TcpClient client);

    /// <summary>Reads one HTTP/1.1 request: its path, its WebSocket key (if any) and its body (Content-Length).</summary>
    protected async Task<(string Path, string? WebSocketKey, byte[] Body)> ReadRequestAsync(NetworkStream stream)
    {
        var (lines, body) = await ReadRequestLinesAsync(stream);
        return (lines[0].Split(' ')[1], Header(lines, "Sec-WebSocket-Key"), body);
    }

    /// <summary>Reads one HTTP/1.1 request: its request line and header lines, and its body (Content-Length).</summary>
    protected async Task<(string[] Lines, byte[] Body)> ReadRequestLinesAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || !(head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one, Stopping.Token) == 0) throw new IOException("The client closed before the request was complete.");
            head.Add(one[0]);
        }
        string[] lines = Encoding.ASCII.GetString(head.ToArray(), 0, head.Count - 4).Split("\r\n");
        string? length = Header(lines, "Content-Length");
        var body = new byte[length is null ? 0 : int.Parse(length, CultureInfo.InvariantCulture)];
        await stream.ReadExactlyAsync(body, Stopping.Token);
        return (lines, body);
    }

    /// <summary>Writes a whole 200 answer with a tilde body, as a Webifi server does, and closes the exchange.</summary>
    protected async Task WriteAnswerAsync(NetworkStream stream, byte[] body)
    {
        string head = $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), Stopping.Token);
        await stream.WriteAsync(body, Stopping.Token);
    }

    internal static string? Header(string[] lines, string name) =>
        lines.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim();

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(Stopping.Token);
                _ = ServeAsync(client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped (InvalidOperationException: the listener stopped before the next accept began).
        }
    }

    public virtual async ValueTask DisposeAsync()
    {
        Stopping.Cancel();
        _listener.Stop();
        await _accepting.WaitAsync(TestTimeouts.Short);
    }
}
