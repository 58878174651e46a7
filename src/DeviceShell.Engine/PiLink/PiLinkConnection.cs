using System.Buffers;
using System.Net.Sockets;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.PiLink;

/// <summary>
/// One TCP connection of a Pi link, the same on both sides: a reader thread that turns the byte stream into frames, and
/// sends serialised by a gate so that concurrent senders never interleave their bytes. The socket is used with blocking
/// calls only (<see cref="BlockingSocket"/>: one wake-up per round trip).
/// </summary>
internal sealed class PiLinkConnection
{
    /// <summary>
    /// TCP keep-alive: a peer whose network vanished without a FIN (cable pulled, Wi-Fi gone) is noticed within about
    /// 45 s (30 s idle, then 3 probes 5 s apart) instead of never; tcpcom had no keep-alive.
    /// </summary>
    internal static readonly TcpKeepAlive KeepAlive = new(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), 3);

    private readonly Socket _socket;
    private readonly PiLinkOptions _options;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private int _closed;
    private LinkReader? _reader;

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
    /// <paramref name="onFrame"/> in order on the reader thread (<see cref="LinkReader"/>). Returns normally in all those
    /// cases; the buffers the decoder used are back in the pool when it returns, whatever the peer sent.
    /// </summary>
    public async Task ReadAsync(Action<PiLinkFrame> onFrame)
    {
        var decoder = new PiLinkFrameDecoder(_options.Terminator, _options.MaxMessageBytes);
        var frames = new List<PiLinkFrame>();
        var reader = new LinkReader(_socket, bytes =>
        {
            decoder.Push(bytes, frames);
            foreach (var frame in frames) onFrame(frame);
            frames.Clear();
            return true;
        });
        Volatile.Write(ref _reader, reader);
        reader.Start();
        try
        {
            await reader.Completion.ConfigureAwait(false);
        }
        finally
        {
            decoder.Release();
        }
    }

    /// <summary>
    /// Writes one framed message. A write still blocked (the peer stopped reading) when <paramref name="cancellationToken"/>
    /// fires closes the connection: part of the message may be on the wire, so the stream could not go on.
    /// </summary>
    /// <exception cref="SocketException">The connection failed or was closed.</exception>
    /// <exception cref="ObjectDisposedException">The connection was closed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired before or during the write.</exception>
    public async Task SendAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var cancellation = cancellationToken.CanBeCanceled
                ? cancellationToken.UnsafeRegister(static state => ((PiLinkConnection)state!).Close(), this)
                : default;
            try
            {
                BlockingSocket.Send(_socket, bytes);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("The send was cancelled; the link was closed because part of the message may have been sent.", ex, cancellationToken);
            }
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
        Volatile.Read(ref _reader)?.Stop();
    }
}
