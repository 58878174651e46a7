using System.Buffers;
using System.Net.Sockets;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.PiLink;

/// <summary>
/// One TCP connection of a Pi link, the same on both sides: a single reader task that turns the byte stream into
/// frames, and sends serialised by a gate so that concurrent senders never interleave their bytes.
/// </summary>
internal sealed class PiLinkConnection
{
    /// <summary>
    /// TCP keep-alive: a peer whose network vanished without a FIN (cable pulled, Wi-Fi gone) is noticed within about
    /// 45 s (30 s idle, then 3 probes 5 s apart) instead of never; tcpcom had no keep-alive.
    /// </summary>
    internal static readonly TcpKeepAlive KeepAlive = new(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), 3);

    /// <summary>
    /// Bytes taken from the shared pool for one read. The reader waits for data with a zero-byte read and only then
    /// rents, so an idle connection holds no receive buffer (docs/design/decisions.md §13.4: small idle sessions).
    /// </summary>
    private const int ReadBufferBytes = 4096;

    private readonly Socket _socket;
    private readonly PiLinkOptions _options;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private int _closed;

    public PiLinkConnection(Socket socket, PiLinkOptions options)
    {
        _socket = socket;
        _options = options;
        try
        {
            _socket.NoDelay = true;
            KeepAlive.Apply(_socket);
        }
        catch (SocketException)
        {
            // Reset by the peer before we got to it: the reader sees that at once and ends the connection.
        }
    }

    /// <summary>
    /// Reads until the peer closes, the socket fails or <see cref="Close"/> is called, handing each frame to
    /// <paramref name="onFrame"/> in order. Returns normally in all those cases; the buffers it used are back in the
    /// pool when it returns, whatever the peer sent.
    /// </summary>
    public async Task ReadAsync(Func<PiLinkFrame, ValueTask> onFrame)
    {
        var decoder = new PiLinkFrameDecoder(_options.Terminator, _options.MaxMessageBytes);
        var frames = new List<PiLinkFrame>();
        try
        {
            while (true)
            {
                // Closing the socket ends a pending read, so no cancellation token is needed (nor registered per read).
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                byte[] buffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
                int read;
                try
                {
                    read = await _socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false);
                    decoder.Push(buffer.AsSpan(0, read), frames);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
                if (read == 0) return;
                foreach (var frame in frames) await onFrame(frame).ConfigureAwait(false);
                frames.Clear();
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Reset by the peer or closed by us: either way the connection is over.
        }
        finally
        {
            decoder.Release();
        }
    }

    public async Task SendAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int sent = 0;
            while (sent < bytes.Length)
                sent += await _socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    /// <summary>
    /// Half-closes: the peer reads the end of our stream while our reader goes on until the peer closes its end too.
    /// Safe against a concurrent <see cref="Close"/>.
    /// </summary>
    public void ShutdownSend()
    {
        if (Volatile.Read(ref _closed) == 1) return;
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Reset by the peer, or closed meanwhile: nothing left to half-close.
        }
    }

    /// <summary>
    /// Shuts the connection down (the peer sees an orderly close) and ends the reader. Idempotent and safe from any
    /// thread; it is the only clean-up (the gate has no wait handle, so it needs no disposing).
    /// </summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 1) return;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already reset by the peer.
        }
        _socket.Close();
    }
}
