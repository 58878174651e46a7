using System.Net.Sockets;

namespace DeviceShell.Engine.Sessions;

/// <summary>
/// How a Brick link's reader waits for bytes while a caller waits for a response (docs/design/decisions.md §13.8): it blocks in
/// poll() on its own thread, which the kernel wakes as the bytes arrive, and reads them at once. An asynchronous read
/// is woken by the socket engine's thread and then handed to a thread-pool thread: two wake-ups per round trip where
/// a blocking client has one. The wait is short, so a slow peer holds a thread-pool thread only briefly; after it the
/// reader goes back to its asynchronous read, which is also what idle links use.
/// </summary>
internal static class AwaitedReplyPoll
{
    /// <summary>Long enough for an answer over loopback or a LAN on a busy machine.</summary>
    public const int Microseconds = 2000;

    /// <summary>True when bytes, the end of the stream or an error can be read without waiting.</summary>
    /// <exception cref="ObjectDisposedException">The socket was closed.</exception>
    /// <exception cref="SocketException">The socket failed.</exception>
    public static bool Readable(Socket socket) => socket.Poll(Microseconds, SelectMode.SelectRead);
}
