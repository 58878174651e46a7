using System.Net.Sockets;

namespace DeviceShell.Engine.Sessions;

/// <summary>
/// TCP keep-alive with the timing of a world's links: a peer whose network vanished without FIN or RST answers no
/// probe, and the kernel ends the connection after <c>idle + interval × probes</c> instead of never. Probes carry no
/// data, so no protocol above (tcpcom, gRPC's ping policy) sees them.
/// </summary>
internal readonly record struct TcpKeepAlive(TimeSpan Idle, TimeSpan Interval, int Probes)
{
    /// <summary>Turns keep-alive on for <paramref name="socket"/> with this timing.</summary>
    /// <exception cref="SocketException">The socket was reset or closed before the options could be set.</exception>
    public void Apply(Socket socket)
    {
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, (int)Idle.TotalSeconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, (int)Interval.TotalSeconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, Probes);
    }
}
