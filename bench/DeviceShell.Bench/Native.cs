using System.Diagnostics;
using System.Globalization;

namespace DeviceShell.Bench;

/// <summary>
/// bench/native/netbench.c, built with gcc into the bench cache on first use: the native echo (the reference limit of a
/// protocol's request and reply sizes), a native TFP client and a TFP callback flood server.
/// </summary>
public static class Native
{
    private static readonly SemaphoreSlim BuildGate = new(1, 1);
    private static string? _program;

    /// <summary>The built program, or null with <paramref name="why"/> when gcc is missing or the build fails.</summary>
    public static async Task<(string? Program, string? Why)> BuildAsync(Bench bench)
    {
        await BuildGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_program is not null) return (_program, null);
            string source = Path.Combine(Bench.RepoRoot, "bench", "native", "netbench.c");
            string program = Path.Combine(bench.Cache, "netbench");
            if (!File.Exists(program) || File.GetLastWriteTimeUtc(program) < File.GetLastWriteTimeUtc(source))
            {
                try
                {
                    await Bench.RunAsync("gcc", new[] { "-O2", "-pthread", "-o", program, source }, TimeSpan.FromMinutes(2)).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
                {
                    return (null, "needs gcc (apt-get install gcc): " + ex.Message);
                }
            }
            _program = program;
            return (program, null);
        }
        finally
        {
            BuildGate.Release();
        }
    }

    public static async Task<string> RequireAsync(Bench bench) =>
        (await BuildAsync(bench).ConfigureAwait(false)) is { Program: { } program } ? program : throw new InvalidOperationException("The native reference could not be built (gcc).");

    /// <summary>Round trips per second of the native echo client against <paramref name="port"/>.</summary>
    public static async Task<double> EchoRateAsync(string program, int port, int request, int reply, TimeSpan window, int inFlight = 1) =>
        Bench.ParseNumber(await Bench.RunAsync(program, new[] { "echo-client", Text(port), Text(request), Text(reply), Text(window.TotalSeconds), Text(inFlight) },
            window + TimeSpan.FromSeconds(30)).ConfigureAwait(false));

    public static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A netbench server mode running in the background (echo-server, tfp-flood); the port it printed; killed on dispose.</summary>
public sealed class NativeServer : IAsyncDisposable
{
    private readonly Process _process;

    private NativeServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static async Task<NativeServer> StartAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException("netbench did not start.");
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        string? line = await process.StandardOutput.ReadLineAsync(limit.Token).ConfigureAwait(false);
        if (line is null || !int.TryParse(line, CultureInfo.InvariantCulture, out int port))
        {
            process.Kill();
            throw new InvalidOperationException($"netbench {string.Join(' ', arguments)} printed no port.");
        }
        return new NativeServer(process, port);
    }

    public async ValueTask DisposeAsync()
    {
        try { _process.Kill(); } catch (InvalidOperationException) { }
        await _process.WaitForExitAsync().ConfigureAwait(false);
        _process.Dispose();
    }
}
