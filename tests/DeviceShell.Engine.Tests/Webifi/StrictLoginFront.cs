using System.Net.Sockets;
using System.Text;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// A login front as strict as the public Webifi service might be (whether it tolerates a key it does not know is
/// UNKNOWN, webifi.md): it refuses a credentials request that asks for message ids (<c>~mi</c>) with error 7 and
/// forwards any other to a real relay, whose answer then points the client at that relay. Counts both.
/// </summary>
internal sealed class StrictLoginFront : LoopbackListener
{
    private readonly Uri _relay;
    private readonly HttpClient _http = new();
    private int _refused;
    private int _forwarded;

    public StrictLoginFront(Uri relay)
    {
        _relay = relay;
        StartListening();
    }

    public Uri Server => new($"http://127.0.0.1:{Port}/");

    public int Refused => Volatile.Read(ref _refused);

    public int Forwarded => Volatile.Read(ref _forwarded);

    protected override async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var (_, _, body) = await ReadRequestAsync(stream);
                byte[] answer;
                if (Encoding.ASCII.GetString(body).Contains("~mi=", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _refused);
                    answer = "~e=7"u8.ToArray();
                }
                else
                {
                    Interlocked.Increment(ref _forwarded);
                    using var response = await _http.PostAsync(_relay, new ByteArrayContent(body), Stopping.Token);
                    answer = await response.Content.ReadAsByteArrayAsync(Stopping.Token);
                }
                await WriteAnswerAsync(stream, answer);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
                // The test is over.
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _http.Dispose();
    }
}
