using System.Net.Sockets;

namespace DeviceShell.Engine.PiLink;

/// <summary>
/// One TCP connection of a Pi link, the same on both sides: a single reader task that turns the byte stream into
/// frames, and sends serialised by a gate so that concurrent senders never interleave their bytes.
/// </summary>
internal sealed class PiLinkConnection
{
    private readonly Socket _socket;
    private readonly PiLinkOptions _options;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private int _closed;

    public PiLinkConnection(Socket socket, PiLinkOptions options)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _options = options;
    }

    /// <summary>
    /// Reads until the peer closes, the socket fails or <see cref="Close"/> is called, handing each frame to
    /// <paramref name="onFrame"/> in order. Returns normally in all those cases.
    /// </summary>
    public async Task ReadAsync(Func<PiLinkFrame, ValueTask> onFrame)
    {
        var decoder = new PiLinkFrameDecoder(_options.Terminator, _options.MaxMessageBytes);
        var buffer = new byte[16 * 1024];
        var frames = new List<PiLinkFrame>();
        try
        {
            while (true)
            {
                int read = await _socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, _closing.Token).ConfigureAwait(false);
                if (read == 0) return;
                decoder.Push(buffer.AsSpan(0, read), frames);
                foreach (var frame in frames) await onFrame(frame).ConfigureAwait(false);
                frames.Clear();
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Reset by the peer or closed by us: either way the connection is over.
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
    /// thread; it is the only clean-up (the token source has no timer and the gate no wait handle, so neither needs disposing).
    /// </summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 1) return;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer.
        }
        _closing.Cancel();
        _socket.Close();
    }
}
