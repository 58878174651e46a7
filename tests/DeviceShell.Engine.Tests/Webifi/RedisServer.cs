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

    private Process _process;

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
            var server = new RedisServer(Launch(port), port);
            if (await server.AnswersPingAsync(TestTimeouts.Short)) return server;
            await server.DisposeAsync();
            if (attempt == 1) throw new InvalidOperationException($"redis-server did not answer on port {port}.");
        }
    }

    /// <summary>Kills redis-server and starts an empty one on the same port (no persistence: every key is gone).</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        _process = Launch(Port);
        if (!await AnswersPingAsync(TestTimeouts.Short)) throw new InvalidOperationException($"redis-server did not answer on port {Port} after a restart.");
    }

    /// <summary>Freezes redis-server (SIGSTOP) for <paramref name="stall"/>, then lets it go on (SIGCONT): a stall, not a restart.</summary>
    public async Task FreezeAsync(TimeSpan stall)
    {
        await SignalAsync("STOP");
        try
        {
            await Task.Delay(stall);
        }
        finally
        {
            await SignalAsync("CONT");
        }
    }

    /// <summary>Sends <c>DEBUG SLEEP seconds</c> on a connection of its own and returns once Redis answers (after the sleep).</summary>
    public async Task SleepAsync(int seconds)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port).Within();
        var stream = client.GetStream();
        string text = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n${text.Length}\r\n{text}\r\n")).AsTask().Within();
        var buffer = new byte[64];
        int read = await stream.ReadAsync(buffer).AsTask().Within(TestTimeouts.Long);
        string answer = Encoding.ASCII.GetString(buffer, 0, read);
        if (!answer.StartsWith("+OK", StringComparison.Ordinal)) throw new InvalidOperationException($"DEBUG SLEEP answered {answer.Trim()}");
    }

    /// <summary>Every key in Redis (<c>KEYS *</c>: a test's Redis holds a few dozen).</summary>
    public async Task<List<string>> KeysAsync()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port).Within();
        using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("KEYS *\r\n")).AsTask().Within();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        // *N, then $length and the key for each.
        string count = await reader.ReadLineAsync().Within() ?? throw new IOException("Redis closed the connection before answering KEYS.");
        var keys = new List<string>();
        for (int i = 0; i < int.Parse(count[1..], System.Globalization.CultureInfo.InvariantCulture); i++)
        {
            await reader.ReadLineAsync().Within();
            keys.Add(await reader.ReadLineAsync().Within() ?? throw new IOException("Redis cut its KEYS answer."));
        }
        return keys;
    }

    /// <summary>One field of a hash (<c>HGET</c>), null when there is none.</summary>
    public async Task<string?> HashFieldAsync(string key, string field)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port).Within();
        using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes($"HGET \"{key}\" \"{field}\"\r\n")).AsTask().Within();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        // $length and the value, or $-1 for none.
        string header = await reader.ReadLineAsync().Within() ?? throw new IOException("Redis closed the connection before answering HGET.");
        return header == "$-1" ? null : await reader.ReadLineAsync().Within();
    }

    /// <summary>Redis's <c>used_memory</c> (INFO memory), in bytes.</summary>
    public async Task<long> UsedMemoryAsync()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port).Within();
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("INFO memory\r\n")).AsTask().Within();
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        while (!answer.ToString().Contains("used_memory:", StringComparison.Ordinal) || !answer.ToString().EndsWith("\r\n", StringComparison.Ordinal))
        {
            int read = await stream.ReadAsync(buffer).AsTask().Within();
            if (read == 0) throw new IOException("Redis closed the connection before answering INFO.");
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        string line = answer.ToString().Split("\r\n").First(l => l.StartsWith("used_memory:", StringComparison.Ordinal));
        return long.Parse(line["used_memory:".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", new[] { "-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await kill.WaitForExitAsync().Within();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} {_process.Id} failed.");
    }

    private static Process Launch(int port)
    {
        var start = new ProcessStartInfo(Executable.Value!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
                     // DEBUG SLEEP stalls Redis for the tests of a slow Redis (from this machine only).
                     "--enable-debug-command", "local" })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
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

    /// <summary>
    /// A relay as its own Lab process (<c>dotnet DeviceShell.Lab.dll --webifi 0 --webifi-redis … [options]</c>), once it
    /// answers: a fresh process compiles what its first request runs (Kestrel, the Redis connection, a script), which
    /// took over 5 s on a loaded machine (load 50) and failed a client's first login on its reply timeout. An upload
    /// under a device id no relay gave out (error 12, nothing stored or counted) waits for that.
    /// </summary>
    public async Task<DeviceLab> StartRelayAsync(params string[] options)
    {
        var relay = await DeviceLab.StartAsync(Path.Combine(AppContext.BaseDirectory, "DeviceShell.Lab.dll"),
            new[] { "--webifi", "0", "--webifi-redis", Endpoint }.Concat(options).ToArray(), TestTimeouts.LabStart);
        try
        {
            using var http = new HttpClient();
            var upload = new Uri($"http://127.0.0.1:{relay["webifi"]!.Port}/Upload");
            await Eventually.Succeeds(() => WebifiSessionTests.PostAsync(http, upload, "~id=1s1~d=x~z=0"), TestTimeouts.LabStart, TestTimeouts.LabStart);
            return relay;
        }
        catch
        {
            await relay.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task StopAsync()
    {
        // A frozen server dies of SIGKILL all the same.
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
