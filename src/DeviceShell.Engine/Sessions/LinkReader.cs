using System.Buffers;
using System.Net.Sockets;

namespace DeviceShell.Engine.Sessions;

/// <summary>Takes one read's bytes on a reader thread; false stops the reading (the bytes made no sense).</summary>
internal delegate bool BytesReceived(ReadOnlySpan<byte> bytes);

/// <summary>
/// The reader of one request/response connection (Bricks, Pi link): a thread of its own, blocked in recv(), while the
/// link is in use, and no thread while it idles (docs/design/decisions.md §13.8). A blocked recv() is woken by the
/// kernel itself, once per reply, and completes the waiting caller inline; the runtime's asynchronous read wakes the
/// socket engine's thread and then a thread-pool thread (<see cref="BlockingSocket"/>). After
/// <see cref="IdleBeforeParking"/> without a byte the thread ends and the socket joins <see cref="IdleLinkWatcher"/>,
/// whose one thread starts a reader again when bytes or the end of the stream arrive, so an idle session holds no
/// thread (a thread costs about 20 KiB of private memory).
/// </summary>
internal sealed class LinkReader
{
    /// <summary>How long a reader thread waits for bytes before it hands the socket to the watcher and ends.</summary>
    public static readonly TimeSpan IdleBeforeParking = TimeSpan.FromSeconds(1);

    /// <summary>Bytes one read takes, rented from the shared pool for as long as a reader thread runs.</summary>
    private const int ReadBufferBytes = 4096;

    private const int Running = 0;
    private const int Parked = 1;
    private const int Ended = 2;

    private readonly BytesReceived _received;
    private int _state = Running;
    private int _stopped;

    /// <summary>Reads <paramref name="socket"/> (connected, never used asynchronously) once <see cref="Start"/> is called.</summary>
    /// <param name="socket">The connection; closing it ends the reading.</param>
    /// <param name="received">
    /// Called on the reader thread with each read's bytes, in order; returns false to stop reading (the bytes made no
    /// sense). Callers waiting for a reply are completed from it, inline.
    /// </param>
    public LinkReader(Socket socket, BytesReceived received)
    {
        Socket = socket;
        _received = received;
    }

    /// <summary>The connection read.</summary>
    public Socket Socket { get; }

    /// <summary>
    /// Completes when reading is over: the peer closed (the result is null), the socket failed or was closed (its
    /// exception), or the receiver returned false (null).
    /// </summary>
    public Task<Exception?> Completion => _completion.Task;

    private readonly TaskCompletionSource<Exception?> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>True while no thread reads and the watcher looks after the socket.</summary>
    internal bool IsParked => Volatile.Read(ref _state) == Parked;

    /// <summary>Starts the first reader thread.</summary>
    public void Start() => StartThread();

    /// <summary>
    /// Ends the reading of a link whose socket was closed: a parked reader has no thread to notice the close. Safe from
    /// any thread and idempotent.
    /// </summary>
    public void Stop()
    {
        Interlocked.Exchange(ref _stopped, 1);
        EndParked();
    }

    private void EndParked()
    {
        if (Interlocked.CompareExchange(ref _state, Ended, Parked) != Parked) return;
        IdleLinkWatcher.Forget(this);
        _completion.TrySetResult(null);
    }

    /// <summary>Called by the watcher: the parked socket has bytes or its end.</summary>
    internal void Resume()
    {
        if (Interlocked.CompareExchange(ref _state, Running, Parked) == Parked) StartThread();
    }

    /// <summary>A process out of threads ends this link's reading with the reason (the link drops), not the process.</summary>
    private void StartThread()
    {
        try
        {
            new Thread(Read) { IsBackground = true, Name = "DeviceShell link reader" }.UnsafeStart();
        }
        catch (Exception ex) when (ex is OutOfMemoryException or ThreadStartException)
        {
            Volatile.Write(ref _state, Ended);
            _completion.TrySetResult(ex);
        }
    }

    private void Read()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
        Exception? failure = null;
        try
        {
            Socket.ReceiveTimeout = (int)IdleBeforeParking.TotalMilliseconds;
            while (true)
            {
                int read;
                try
                {
                    read = Socket.Receive(buffer, SocketFlags.None);
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
                {
                    // Idle: the watcher looks after the socket until bytes come (if some came just now, it sees them
                    // at once). Exchanges on both sides: either this thread sees a Stop made meanwhile, or Stop sees Parked.
                    Interlocked.Exchange(ref _state, Parked);
                    if (Volatile.Read(ref _stopped) == 1) EndParked();
                    else IdleLinkWatcher.Watch(this);
                    return;
                }
                if (read == 0 || !_received(buffer.AsSpan(0, read))) break;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            failure = ex; // reset by the peer or closed by us: either way the connection is over
        }
        catch (Exception ex)
        {
            // On a thread of our own an exception nobody catches would end the host process (pwsh): the link ends
            // instead, with it as the reason.
            failure = ex;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        Volatile.Write(ref _state, Ended);
        _completion.TrySetResult(failure);
    }
}
