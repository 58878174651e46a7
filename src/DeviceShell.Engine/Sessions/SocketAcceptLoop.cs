using System.Net.Sockets;

namespace DeviceShell.Engine.Sessions;

/// <summary>
/// The accept loop every DeviceShell server shares (the Pi link servers, the Lab's Brick Daemon and echo).
/// An accept that fails for a reason that passes (descriptors exhausted, no buffer space, a peer that reset before it
/// was accepted) must not end the loop: a server exposed on a network would otherwise stop answering for good after
/// one burst of connections. The loop backs off briefly, says so once per burst, and goes on when resources free up.
/// </summary>
internal static class SocketAcceptLoop
{
    /// <summary>The first pause after a failed accept; it doubles up to <see cref="MaxBackoff"/> while failures go on.</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(20);

    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    /// <summary>The least time between two log lines of one loop: a listener at its descriptor limit may fail and
    /// recover many times a second, and each of those must not become a line.</summary>
    public static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Accepts until <paramref name="stop"/> fires or the listener is closed, handing each socket to
    /// <paramref name="accepted"/> (which must not block). <paramref name="warn"/> hears when accepts start failing and
    /// when they work again, at most one line per <see cref="WarningInterval"/>, with the failures counted in between.
    /// </summary>
    public static async Task RunAsync(TcpListener listener, Action<Socket> accepted, Action<string>? warn, CancellationToken stop)
    {
        var backoff = TimeSpan.Zero;
        long failedSinceLine = 0;
        bool failing = false;
        long lastLine = long.MinValue;
        bool MayLog() => Environment.TickCount64 - lastLine >= (long)WarningInterval.TotalMilliseconds;
        void Log(string line)
        {
            warn?.Invoke(line);
            lastLine = Environment.TickCount64;
            failedSinceLine = 0;
        }
        while (!stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped (InvalidOperationException: the listener was stopped before the first accept)
            }
            catch (SocketException ex) when (IsTransient(ex.SocketErrorCode) && !stop.IsCancellationRequested)
            {
                failedSinceLine++;
                if (!failing && MayLog()) Log($"accept failed ({ex.SocketErrorCode}); retrying with back-off");
                failing = true;
                backoff = backoff == TimeSpan.Zero ? FirstBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                try { await Task.Delay(backoff, stop).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            catch (SocketException ex)
            {
                if (!stop.IsCancellationRequested) warn?.Invoke($"accept failed ({ex.SocketErrorCode}); the listener stops");
                return;
            }
            if (failing && MayLog()) Log($"accepting again ({failedSinceLine} failed accepts since the last line)");
            failing = false;
            backoff = TimeSpan.Zero;
            accepted(socket);
        }
    }

    /// <summary>Errors that say something about this moment (resources, one peer), not about the listener.</summary>
    public static bool IsTransient(SocketError error) => error is
        SocketError.TooManyOpenSockets          // EMFILE, ENFILE
        or SocketError.NoBufferSpaceAvailable   // ENOBUFS, ENOMEM
        or SocketError.ConnectionAborted        // ECONNABORTED: the peer gave up while queued
        or SocketError.ConnectionReset
        or SocketError.Interrupted
        or SocketError.TryAgain
        or SocketError.WouldBlock
        or SocketError.ProtocolNotSupported     // EPROTO on some kernels for a connection torn down in the queue
        or SocketError.NetworkDown
        or SocketError.NetworkUnreachable
        or SocketError.HostUnreachable
        or SocketError.OperationNotSupported;   // EOPNOTSUPP, listed by accept(2) among errors to retry
}
