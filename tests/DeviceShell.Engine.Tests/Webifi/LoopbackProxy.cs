using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// A TCP forwarder on a free loopback port in front of a relay. The relay names the address a client dialled in its
/// credentials answer, so every request of a session that logs in through the proxy goes through it. It records the
/// first byte of each connection (a TLS handshake record starts with 0x16, plaintext HTTP with a letter) and can cut
/// the connections it holds, or silence them: the relay's bytes are then swallowed while both ends stay open.
/// Given a certificate, it also ends TLS for a connection that starts with a handshake and forwards the plaintext,
/// so one port serves a plain relay to clients with and without encryption (a session switching between them).
/// </summary>
internal sealed class LoopbackProxy : LoopbackListener
{
    /// <summary>The content type of a TLS handshake record, the first byte a TLS client sends.</summary>
    public const byte TlsHandshake = 0x16;

    private volatile int _targetPort;
    private readonly X509Certificate2? _tlsCertificate;
    private readonly ConcurrentQueue<byte> _firstBytes = new();
    private readonly ConcurrentQueue<(bool Tls, MemoryStream Sent)> _sent = new();
    private readonly ConcurrentDictionary<Forwarding, byte> _open = new();

    private LoopbackProxy(int targetPort, X509Certificate2? tlsCertificate)
    {
        _targetPort = targetPort;
        _tlsCertificate = tlsCertificate;
        StartListening();
    }

    /// <summary>The first byte each client connection sent, in the order they came.</summary>
    public byte[] FirstBytes => _firstBytes.ToArray();

    /// <summary>
    /// Whether a client sent <paramref name="text"/> on a connection that was TLS (<paramref name="overTls"/>) or
    /// plaintext: what the proxy forwarded upstream, after it ended TLS. Only for protocols that send text as it is
    /// (HTTP bodies; not masked WebSocket frames).
    /// </summary>
    public bool ClientSent(string text, bool overTls)
    {
        byte[] wanted = System.Text.Encoding.ASCII.GetBytes(text);
        foreach (var (tls, sent) in _sent)
        {
            if (tls != overTls) continue;
            byte[] bytes;
            lock (sent) bytes = sent.ToArray();
            if (bytes.AsSpan().IndexOf(wanted) >= 0) return true;
        }
        return false;
    }

    public static LoopbackProxy Start(int targetPort, X509Certificate2? tlsCertificate = null) => new(targetPort, tlsCertificate);

    public Uri Server(string scheme) => new($"{scheme}://127.0.0.1:{Port}/");

    /// <summary>New connections go to this port from now on (a load balancer sending clients to another relay).</summary>
    public void Retarget(int targetPort) => _targetPort = targetPort;

    /// <summary>Closes every open connection at once, as a network failure would.</summary>
    public void CutAll()
    {
        foreach (var forwarding in _open.Keys) forwarding.Dispose();
    }

    /// <summary>From now on nothing the relay sends on the open connections reaches the client; new connections work.</summary>
    public void SilenceAll()
    {
        foreach (var forwarding in _open.Keys) forwarding.Silenced = true;
    }

    protected override async Task ServeAsync(TcpClient client)
    {
        var relay = new TcpClient();
        var forwarding = new Forwarding(client, relay);
        _open[forwarding] = 0;
        try
        {
            var first = new byte[1];
            if (await client.Client.ReceiveAsync(first, SocketFlags.Peek, Stopping.Token) == 0) return;
            _firstBytes.Enqueue(first[0]);
            Stream fromClient = client.GetStream();
            if (_tlsCertificate is not null && first[0] == TlsHandshake)
            {
                var tls = new SslStream(fromClient);
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _tlsCertificate }, Stopping.Token);
                fromClient = tls;
            }
            var sent = new MemoryStream();
            _sent.Enqueue((fromClient is SslStream, sent));
            await relay.ConnectAsync(IPAddress.Loopback, _targetPort, Stopping.Token);
            var up = PumpAsync(fromClient, relay.GetStream(), forwarding, fromClient: true, sent);
            var down = PumpAsync(relay.GetStream(), fromClient, forwarding, fromClient: false);
            await Task.WhenAny(up, down);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
            // One side went away (or its handshake failed); the other is closed below.
        }
        finally
        {
            _open.TryRemove(forwarding, out _);
            forwarding.Dispose();
        }
    }

    private async Task PumpAsync(Stream from, Stream to, Forwarding forwarding, bool fromClient, MemoryStream? record = null)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, Stopping.Token)) > 0)
            {
                if (!fromClient && forwarding.Silenced) continue;
                if (record is not null) lock (record) record.Write(buffer, 0, read);
                await to.WriteAsync(buffer.AsMemory(0, read), Stopping.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Closed from either side.
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        CutAll();
    }

    private sealed class Forwarding : IDisposable
    {
        private readonly TcpClient _client;
        private readonly TcpClient _relay;

        public Forwarding(TcpClient client, TcpClient relay)
        {
            _client = client;
            _relay = relay;
        }

        public volatile bool Silenced;

        public void Dispose()
        {
            _client.Dispose();
            _relay.Dispose();
        }
    }
}
