using System.Net;
using System.Net.Sockets;

namespace DeviceShell.Lab.Hosting;

/// <summary>A simulator could not listen because another process (or another lab) holds its port.</summary>
public sealed class LabPortInUseException : IOException
{
    /// <summary>The Lab host's exit code for this failure, so that Start-DeviceLab can tell it from other start failures.</summary>
    public const int ExitCode = 3;

    public LabPortInUseException(string simulator, IPAddress address, int port, Exception inner)
        : base($"The {simulator} simulator cannot listen on {address}:{port}: the port is already in use. Give another port, or 0 for a free one.", inner)
    {
    }

    /// <summary>True when <paramref name="exception"/> or one of its inner exceptions is a bind to a port in use (TcpListener and Kestrel alike).</summary>
    public static bool IsPortInUse(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
            if (current is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }) return true;
        return false;
    }
}
