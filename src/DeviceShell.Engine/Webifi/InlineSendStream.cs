using System.Net.Sockets;

namespace DeviceShell.Engine.Webifi;

/// <summary>
/// A relay connection's stream: <see cref="NetworkStream"/>'s reads, and writes that go out on the caller's thread while
/// the kernel's send buffer has room, which for a Webifi session is always but when a relay stops reading. Only then
/// does a write wait asynchronously. Why: the socket keeps the state of its first asynchronous send (an event-args
/// object and its callback, about 0.35 KiB) for its whole life, and an idle session's socket only ever needs its
/// pending receive (docs/benchmarks.md, "Webifi idle session").
/// </summary>
internal sealed class InlineSendStream : NetworkStream
{
    public InlineSendStream(Socket socket)
        : base(socket, ownsSocket: true)
    {
        // A send that would block returns WouldBlock instead; receives and the fallback send are asynchronous either way.
        socket.Blocking = false;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
        while (!buffer.IsEmpty)
        {
            int sent = Socket.Send(buffer.Span, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock) return base.WriteAsync(buffer, cancellationToken);
            if (error != SocketError.Success)
                return ValueTask.FromException(new IOException($"Unable to write data to the transport connection: {new SocketException((int)error).Message}.", new SocketException((int)error)));
            buffer = buffer[sent..];
        }
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(ReadOnlySpan<byte> buffer) => WriteAsync(buffer.ToArray()).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
}
