using System.Net;
using System.Net.Sockets;

namespace DeviceShell.Engine.Sessions;

/// <summary>
/// The request/response links (Bricks, Pi link) use their socket with blocking calls only, each connection read by a
/// thread of its own while it is in use (<see cref="LinkReader"/>, docs/design/decisions.md §13.8). The first asynchronous call on a .NET socket registers it with
/// the runtime's socket engine for the socket's life: from then on every reply wakes the engine's thread, which hands
/// the read's completion to a thread-pool thread, two wake-ups per round trip where a blocking client (C, Python) has
/// one. A thread blocked in recv() is woken by the kernel itself and completes the waiting caller inline; a caller that
/// sends its next request from that continuation sends it from the same thread. Measured against the Python socket
/// client and the native TFP client in docs/benchmarks.md ("Round trips: a reader thread per connection").
/// </summary>
internal static class BlockingSocket
{
    /// <summary>
    /// Connects to the first of <paramref name="hostName"/>'s addresses that answers, each with a socket of its own (a
    /// socket is not usable after a failed connect), as <see cref="Socket.ConnectAsync(string, int)"/> does.
    /// </summary>
    /// <exception cref="SocketException">The name did not resolve, or no address took the connection (the last one's error).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired first.</exception>
    public static async Task<Socket> ConnectAsync(string hostName, int port, CancellationToken cancellationToken)
    {
        SocketException? last = null;
        foreach (var address in await ResolveAsync(hostName, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                return await ConnectAsync(address, port, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                last = ex;
            }
        }
        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>The addresses of <paramref name="hostName"/>, or the address it spells.</summary>
    /// <exception cref="SocketException">The name did not resolve.</exception>
    public static async Task<IPAddress[]> ResolveAsync(string hostName, CancellationToken cancellationToken) =>
        IPAddress.TryParse(hostName, out var literal)
            ? new[] { literal }
            : await Dns.GetHostAddressesAsync(hostName, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// A new socket connected to <paramref name="address"/>, with Nagle's delay off (one small request at a time must
    /// leave at once); nothing is left open when it fails.
    /// </summary>
    /// <exception cref="SocketException">The connect failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired first.</exception>
    public static async Task<Socket> ConnectAsync(IPAddress address, int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await ConnectAsync(socket, new IPEndPoint(address, port), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Connects with a blocking connect() on a thread of its own, so that the socket never joins the socket engine.
    /// Cancellation closes the socket, which ends the connect, and throws at once.
    /// </summary>
    /// <exception cref="SocketException">The connect failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired first.</exception>
    private static async Task ConnectAsync(Socket socket, EndPoint endPoint, CancellationToken cancellationToken)
    {
        var connect = Task.Factory.StartNew(static state =>
        {
            var (socket, endPoint) = ((Socket, EndPoint))state!;
            socket.Connect(endPoint);
        }, (socket, endPoint), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            await connect.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            socket.Dispose();
            // The connect ends with the closed socket's error, which nobody waits for any more.
            _ = connect.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    /// <summary>Writes all of <paramref name="bytes"/>, blocking while the peer's window is full.</summary>
    /// <exception cref="SocketException">The connection failed, or was closed to end a stalled or cancelled write.</exception>
    /// <exception cref="ObjectDisposedException">The socket was closed.</exception>
    public static void Send(Socket socket, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty) bytes = bytes[socket.Send(bytes, SocketFlags.None)..];
    }
}
