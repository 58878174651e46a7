using System.Net.Sockets;

namespace DeviceShell.Engine.Sessions;

/// <summary>
/// One thread for the whole process that waits, in poll(), on the sockets of every idle <see cref="LinkReader"/> and
/// starts a reader thread for each that gets bytes or its end. It runs only while some link is parked.
/// </summary>
internal static class IdleLinkWatcher
{
    /// <summary>
    /// How long one poll() lasts: a link parked meanwhile joins the next one. Its bytes wait in the kernel until then,
    /// at most this long, and only in the moment after it went idle.
    /// </summary>
    private const int PollMicroseconds = 50_000;

    private static readonly object Gate = new();
    private static readonly Dictionary<Socket, LinkReader> ParkedReaders = new();
    private static bool s_running;

    /// <summary>Looks after a reader that has just parked (unless it was stopped meanwhile).</summary>
    /// <exception cref="OutOfMemoryException">No thread could be started; the reader is not looked after.</exception>
    /// <exception cref="ThreadStartException">The same.</exception>
    public static void Watch(LinkReader reader)
    {
        lock (Gate)
        {
            if (!reader.IsParked) return;
            ParkedReaders[reader.Socket] = reader;
            if (s_running) return;
            s_running = true;
        }
        try
        {
            new Thread(Run) { IsBackground = true, Name = "DeviceShell idle link watcher" }.UnsafeStart();
        }
        catch
        {
            // The next link to park tries again (and looks after every parked link); this one ends with the failure.
            lock (Gate)
            {
                ParkedReaders.Remove(reader.Socket);
                s_running = false;
            }
            throw;
        }
    }

    /// <summary>Stops looking after a reader whose link was closed.</summary>
    public static void Forget(LinkReader reader)
    {
        lock (Gate) { ParkedReaders.Remove(reader.Socket); }
    }

    private static void Run()
    {
        var ready = new List<Socket>();
        while (true)
        {
            ready.Clear();
            lock (Gate)
            {
                foreach (var (socket, reader) in ParkedReaders)
                    if (reader.IsParked) ready.Add(socket);
                if (ready.Count == 0)
                {
                    s_running = false;
                    return;
                }
            }
            try
            {
                Socket.Select(ready, null, null, PollMicroseconds);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                // A parked socket was closed before poll() (by someone who did not stop its reader), or poll() itself
                // failed: every parked link goes back to a reader thread of its own, which reads, parks again, or ends
                // with the close. Listing the closed socket again would fail the same way for ever, and this thread
                // must not end the process by failing.
                lock (Gate) { ready.Clear(); ready.AddRange(ParkedReaders.Keys); }
            }
            foreach (var socket in ready)
            {
                LinkReader? reader;
                lock (Gate)
                {
                    if (!ParkedReaders.Remove(socket, out reader)) continue;
                }
                reader.Resume();
            }
        }
    }
}
