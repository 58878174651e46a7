using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DeviceShell.Engine.Lab;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// Debian's redis-server on a free loopback port, with no persistence, for the relay scale-out tests; killed on dispose.
/// CI runs on a fresh machine where no Redis runs: each test starts its own.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private static readonly Lazy<string?> Executable = new(() =>
        new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists));

    private readonly Process _process;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>Why the tests cannot run here, or null.</summary>
    public static string? MissingReason => Executable.Value is null ? "redis-server (not found in /usr/bin or /usr/local/bin)" : null;

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        // Redis takes no port 0: borrow a free one from the system (a small race with other processes, retried once).
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort();
            var start = new ProcessStartInfo(Executable.Value!)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string arg in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                         "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes" })
                start.ArgumentList.Add(arg);
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new RedisServer(process, port);
            if (await server.AnswersPingAsync(TestTimeouts.Short)) return server;
            await server.DisposeAsync();
            if (attempt == 1) throw new InvalidOperationException($"redis-server did not answer on port {port}.");
        }
    }

    private async Task<bool> AnswersPingAsync(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port).Within();
                var stream = client.GetStream();
                await stream.WriteAsync(Encoding.ASCII.GetBytes("PING\r\n")).AsTask().Within();
                var buffer = new byte[16];
                int read = await stream.ReadAsync(buffer).AsTask().Within();
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal)) return true;
            }
            catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
            {
                // Not listening yet.
            }
            await Task.Delay(50);
        }
        return false;
    }

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    internal static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A relay as its own Lab process (<c>dotnet DeviceShell.Lab.dll --webifi 0 --webifi-redis … [options]</c>).</summary>
    public async Task<DeviceLab> StartRelayAsync(params string[] options) =>
        await DeviceLab.StartAsync(Path.Combine(AppContext.BaseDirectory, "DeviceShell.Lab.dll"),
            new[] { "--webifi", "0", "--webifi-redis", Endpoint }.Concat(options).ToArray(), TestTimeouts.Long);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync().Within();
        _process.Dispose();
    }
}

/// <summary>A fact that is skipped, with the reason, where Debian's redis-server is not installed.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (RedisServer.MissingReason is { } reason) Skip = $"needs Debian packages (.ci/apt-packages.txt): {reason}";
    }
}

/// <summary>A theory that is skipped, with the reason, where Debian's redis-server is not installed.</summary>
public sealed class RedisTheoryAttribute : TheoryAttribute
{
    public RedisTheoryAttribute()
    {
        if (RedisServer.MissingReason is { } reason) Skip = $"needs Debian packages (.ci/apt-packages.txt): {reason}";
    }
}
