using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Gateway;

/// <summary>
/// One gRPC channel (one HTTP/2 connection over TLS) per gateway endpoint, trusted CA and channel settings, shared by every
/// session to that gateway: gRPC multiplexes calls and status streams on one connection, and each extra TLS connection
/// costs both sides tens of KiB of buffers and TLS state (docs/design/decisions.md §13.4: about 100 KiB per idle session with a connection each).
/// Leases are reference counted; the channel is disposed with the last one. A connection that dies (missed keep-alive
/// pings, reset) fails every call and stream on it, so each session sharing it resubscribes on its own, and the handler
/// dials a new connection for the next call.
/// </summary>
internal sealed class GatewayChannelPool
{
    /// <summary>How long dialling (TCP and TLS) may take; each call's own deadline still applies within it.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    public static readonly GatewayChannelPool Shared = new();

    /// <summary>How long an HTTP/2 ping may go unanswered (or the ping interval, when shorter).</summary>
    private static readonly TimeSpan MaxPingTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// TCP keep-alive of the channel's sockets: a gateway that vanished without FIN or RST (power cut, cable pulled, a NAT
    /// that dropped the connection) answers no probe, and the kernel ends the connection after 20 s of silence and
    /// 4 unanswered probes 5 s apart (about 40 s), so the status streams on it fail and resubscribe. Probes are TCP
    /// segments without data, which gRPC's ping policy does not see. (While sent data waits for an acknowledgement the
    /// kernel retransmits instead of probing; the next HTTP/2 ping, unanswered for 20 s, ends that.)
    /// </summary>
    private static readonly TcpKeepAlive ChannelKeepAlive = new(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(5), 4);

    private static int _trustPrepared;

    private readonly object _gate = new();
    private readonly Dictionary<Key, Entry> _channels = new();

    /// <summary>What makes two sessions' channels interchangeable: where they dial, whom they trust, and the connection-level settings.</summary>
    internal readonly record struct Key(string Host, int Port, string CaSha256, int MaxReceiveMessageSize, TimeSpan KeepAlive);

    private sealed class Entry(GrpcChannel channel, X509Certificate2 trustedRoot)
    {
        public GrpcChannel Channel { get; } = channel;
        public X509Certificate2 TrustedRoot { get; } = trustedRoot;
        public int Leases { get; set; }
    }

    /// <summary>Channels open now (for tests and diagnostics).</summary>
    public int Count
    {
        get { lock (_gate) { return _channels.Count; } }
    }

    /// <summary>
    /// A lease on the channel for these settings, opened when none is. Takes ownership of <paramref name="trustedRoot"/>:
    /// it is kept by a new channel, or disposed when an open channel already trusts the same certificate.
    /// </summary>
    public Lease Acquire(string host, int port, X509Certificate2 trustedRoot, int maxReceiveMessageSize, TimeSpan keepAlive)
    {
        var key = new Key(host.ToLowerInvariant(), port, trustedRoot.GetCertHashString(HashAlgorithmName.SHA256), maxReceiveMessageSize, keepAlive);
        lock (_gate)
        {
            if (_channels.TryGetValue(key, out var entry))
            {
                trustedRoot.Dispose();
            }
            else
            {
                // On Linux the first certificate chain of a process reads the system's whole certificate bundle (even with
                // a custom root); that happens here beside the dial instead of inside the handshake.
                if (Interlocked.Exchange(ref _trustPrepared, 1) == 0)
                {
                    byte[] root = trustedRoot.RawData;
                    _ = Task.Run(() => TlsTrust.Prepare(root));
                }
                entry = new Entry(Open(host, port, trustedRoot, ConnectTimeout, maxReceiveMessageSize, keepAlive), trustedRoot);
                _channels.Add(key, entry);
            }
            entry.Leases++;
            return new Lease(this, key, entry.Channel);
        }
    }

    private void Release(Key key)
    {
        Entry? closing = null;
        lock (_gate)
        {
            var entry = _channels[key];
            if (--entry.Leases == 0)
            {
                _channels.Remove(key);
                closing = entry;
            }
        }
        if (closing is null) return;
        closing.Channel.Dispose();
        closing.TrustedRoot.Dispose();
    }

    /// <summary>
    /// A channel that trusts only <paramref name="trustedRoot"/>. Further HTTP/2 connections are opened only when a gateway's
    /// limit of concurrent streams is reached (every session keeps one status stream open), so calls never queue behind it.
    /// Tests make raw calls on such a channel.
    /// </summary>
    internal static GrpcChannel Open(string host, int port, X509Certificate2 trustedRoot, TimeSpan connectTimeout, int maxReceiveMessageSize, TimeSpan keepAlive)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = connectTimeout,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectCallback = ConnectWithTcpKeepAliveAsync,
            // HTTP/2 pings find a gateway whose process hangs while its host still acknowledges TCP. gRPC servers
            // (C-core, grpc-go, a device gateway runs one of them) permit one per 5 minutes while they send nothing and
            // end the connection after two early ones, so the default stays above that (GatewayConnectOptions.KeepAlive).
            // Pings go out only while calls are open (status streams always are): servers refuse them on an idle connection.
            KeepAlivePingDelay = keepAlive,
            KeepAlivePingTimeout = keepAlive < MaxPingTimeout ? keepAlive : MaxPingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            SslOptions = TlsTrust.ClientOptions(host, trustedRoot),
        };
        string authority = IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host;
        return GrpcChannel.ForAddress($"https://{authority}:{port}", new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = maxReceiveMessageSize,
        });
    }

    /// <summary>Dials like SocketsHttpHandler does (dual-mode socket, every address of the name), with TCP keep-alive on.</summary>
    private static async ValueTask<Stream> ConnectWithTcpKeepAliveAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            ChannelKeepAlive.Apply(socket);
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>One session's use of a shared channel; disposing it twice releases once.</summary>
    internal sealed class Lease(GatewayChannelPool pool, Key key, GrpcChannel channel) : IDisposable
    {
        private int _released;

        public GrpcChannel Channel { get; } = channel;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) pool.Release(key);
        }
    }
}
