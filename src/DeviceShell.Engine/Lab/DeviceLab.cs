using System.Diagnostics;
using System.Text.Json;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Lab;

/// <summary>One simulator of a running lab, as announced on the lab's JSON line.</summary>
public sealed class LabEndpoint
{
    /// <summary>Describes one simulator as the lab announced it.</summary>
    /// <param name="simulator">The simulator's name, e.g. "brick" or "gateway".</param>
    /// <param name="host">The address it listens on.</param>
    /// <param name="port">The port it listens on.</param>
    /// <param name="caCertificate">The CA certificate file to trust (gateway only), else null.</param>
    internal LabEndpoint(string simulator, string host, int port, string? caCertificate)
    {
        Simulator = simulator;
        Host = host;
        Port = port;
        CaCertificate = caCertificate;
    }

    /// <summary>The simulator's name as the lab announces it, e.g. "brick" or "gateway"; <see cref="DeviceLab"/>'s indexer finds it.</summary>
    public string Simulator { get; }

    /// <summary>The address the simulator listens on (a loopback address unless the lab was told otherwise).</summary>
    public string Host { get; }

    /// <summary>The port the simulator listens on.</summary>
    public int Port { get; }

    /// <summary>The CA certificate file a client must trust (gateway only).</summary>
    public string? CaCertificate { get; }

    /// <summary>Name, host and port, e.g. "brick 127.0.0.1:4223".</summary>
    public override string ToString() => $"{Simulator} {Host}:{Port}";
}

/// <summary>
/// The Lab host (DeviceShell.Lab) running as a child process. Start waits for the one JSON line the
/// host prints when every simulator listens; Stop closes its stdin (the host's signal to stop) and
/// kills it if it does not exit in time.
/// </summary>
public sealed partial class DeviceLab : IAsyncDisposable
{
    /// <summary>The Lab host's exit code when a simulator's port is taken (LabPortInUseException.ExitCode in DeviceShell.Lab).</summary>
    private const int PortInUseExitCode = 3;

    private const string StartFailurePrefix = "Could not start the lab: ";

    private static readonly object RunningGate = new();
    private static readonly List<DeviceLab> RunningLabs = new();

    private readonly Process _process;
    private readonly StringWriterQueue _log;
    private readonly SemaphoreSlim _controlGate = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private int _lastControlId;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> _exitNoticesGiven = new();
    private Task? _answerReader;
    private volatile bool _disposed;

    private DeviceLab(Process process, IReadOnlyList<LabEndpoint> endpoints, StringWriterQueue log)
    {
        _process = process;
        Endpoints = endpoints;
        _log = log;
        StartedAt = DateTime.Now;
    }

    /// <summary>The lab host's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>When the lab was started (local time).</summary>
    public DateTime StartedAt { get; }

    /// <summary>Every simulator of the lab with where it listens.</summary>
    public IReadOnlyList<LabEndpoint> Endpoints { get; }

    /// <summary>True once the lab was stopped or its process exited.</summary>
    public bool HasExited => _disposed || _process.HasExited;

    /// <summary>The last lines the lab wrote to stderr (its log).</summary>
    public IReadOnlyList<string> RecentLog => _log.Snapshot();

    /// <summary>The endpoint of the simulator named <paramref name="simulator"/> (case-insensitive), or null when the lab does not run it.</summary>
    public LabEndpoint? this[string simulator] => Endpoints.FirstOrDefault(e => string.Equals(e.Simulator, simulator, StringComparison.OrdinalIgnoreCase));

    /// <summary>The lab's exit code once its process has exited, else null.</summary>
    public int? ExitCode => !_disposed && _process.HasExited ? _process.ExitCode : null;

    /// <summary>
    /// For a session whose endpoint is one of a lab's that exited without being stopped (crashed, killed), that lab the
    /// first time it is asked about <paramref name="sessionId"/>, so the session's user hears of it once; otherwise null.
    /// </summary>
    public static DeviceLab? TakeExitNotice(int sessionId, string sessionEndpoint)
    {
        foreach (var lab in Running)
        {
            if (lab.HasExited && lab.Endpoints.Any(e => Serves(e, sessionEndpoint)) && lab._exitNoticesGiven.TryAdd(sessionId, true))
                return lab;
        }
        return null;
    }

    /// <summary>A session endpoint is host:port (Bricks, Gateway, Pi link) or scheme://host:port (Webifi).</summary>
    private static bool Serves(LabEndpoint endpoint, string sessionEndpoint)
    {
        string hostPort = $"{endpoint.Host}:{endpoint.Port}";
        return sessionEndpoint == hostPort || sessionEndpoint.EndsWith("/" + hostPort, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Labs started by this process and not stopped yet (some may have exited on their own), oldest first.</summary>
    public static IReadOnlyList<DeviceLab> Running
    {
        get { lock (RunningGate) { return RunningLabs.ToArray(); } }
    }

    /// <summary>
    /// Starts <c>dotnet &lt;labAssembly&gt; args</c> and waits up to <paramref name="timeout"/> for its endpoint line.
    /// <paramref name="secretSettings"/> reach the lab through its environment (<c>DEVICESHELL_LAB_BRICK_SECRET</c> for
    /// <c>brick-secret</c>), never its command line, which every local user can read in the process list.
    /// </summary>
    public static async Task<DeviceLab> StartAsync(string labAssembly, IReadOnlyList<string> arguments, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? secretSettings = null, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(labAssembly))
            throw new DeviceException(DeviceErrorKind.NotFound, "LabNotFound", $"The Lab host was not found at '{labAssembly}'.", labAssembly);
        string dotnet = DotnetHost.Find()
            ?? throw new DeviceException(DeviceErrorKind.ResourceUnavailable, "DotnetNotFound",
                "Starting the Lab needs the .NET runtime host 'dotnet' (8.0 or later with ASP.NET Core) on PATH or in DOTNET_ROOT.", labAssembly);

        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(labAssembly)!,
        };
        start.ArgumentList.Add(labAssembly);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        // The lab is this process's child in its process group: a terminal's Ctrl+C, meant to end a command of this
        // shell, reaches it too. It stops when its stdin closes (StopAsync, or this process ending) instead.
        start.ArgumentList.Add("--ignore-interrupt");
        foreach (var (name, value) in secretSettings ?? new Dictionary<string, string>())
            start.Environment[LabSettingsEnvironment.VariableFor(name)] = value;

        var process = Process.Start(start)
            ?? throw new DeviceException(DeviceErrorKind.ResourceUnavailable, "LabStartFailed", "The Lab process could not be started.", labAssembly);
        var log = new StringWriterQueue(200);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Add(e.Data); };
        process.BeginErrorReadLine();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        string? line;
        try
        {
            line = await process.StandardOutput.ReadLineAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            if (cancellationToken.IsCancellationRequested) throw;
            throw new DeviceException(DeviceErrorKind.Timeout, "LabStartTimeout",
                $"The Lab did not report its endpoints within {timeout.TotalSeconds:0.#} s. Last log lines: {string.Join(" | ", log.Snapshot().TakeLast(5))}", labAssembly);
        }
        if (line is null)
        {
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            if (process.ExitCode == PortInUseExitCode)
                throw new DeviceException(DeviceErrorKind.ResourceUnavailable, "LabPortInUse", PortInUseMessage(log.Snapshot()), labAssembly);
            throw new DeviceException(DeviceErrorKind.InvalidOperation, "LabStartFailed",
                $"The Lab exited (code {process.ExitCode}) before it was ready: {string.Join(" | ", log.Snapshot().TakeLast(5))}", labAssembly);
        }

        IReadOnlyList<LabEndpoint> endpoints;
        try
        {
            endpoints = ParseEndpoints(line);
        }
        catch (JsonException ex)
        {
            Kill(process);
            throw new DeviceException(DeviceErrorKind.Protocol, "LabBadEndpointLine", $"The Lab printed an endpoint line that is not JSON: {line}", labAssembly, ex);
        }
        var lab = new DeviceLab(process, endpoints, log);
        lab._answerReader = Task.Run(lab.ReadAnswersAsync, CancellationToken.None); // reads as long as the Lab runs
        lock (RunningGate) { RunningLabs.Add(lab); }
        return lab;
    }

    /// <summary>Parses the host's line: {"brick":{"host":"127.0.0.1","port":4223},...}.</summary>
    public static IReadOnlyList<LabEndpoint> ParseEndpoints(string line)
    {
        using var document = JsonDocument.Parse(line);
        var endpoints = new List<LabEndpoint>();
        foreach (var simulator in document.RootElement.EnumerateObject())
        {
            var value = simulator.Value;
            string? ca = value.TryGetProperty("caCertificate", out var caElement) ? caElement.GetString() : null;
            endpoints.Add(new LabEndpoint(simulator.Name, value.GetProperty("host").GetString()!, value.GetProperty("port").GetInt32(), ca));
        }
        return endpoints;
    }

    private async Task ReadAnswersAsync()
    {
        try
        {
            string? line;
            while ((line = await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false)) is not null)
            {
                JsonElement answer;
                try
                {
                    using var document = JsonDocument.Parse(line);
                    answer = document.RootElement.Clone();
                }
                catch (JsonException)
                {
                    _log.Add("stdout (not an answer): " + line);
                    continue;
                }
                if (answer.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number && _pending.TryGetValue(id.GetInt32(), out var waiting))
                    waiting.TrySetResult(answer);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The lab went away; pending commands fail below.
        }
        foreach (var waiting in _pending.Values)
            waiting.TrySetException(new DeviceException(DeviceErrorKind.InvalidOperation, "LabNotRunning", "The lab stopped before it answered.", this));
    }

    /// <summary>Asks the lab to stop (stdin closed) and waits; kills it after <paramref name="timeout"/>.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        lock (RunningGate) { RunningLabs.Remove(this); }
        if (_process.HasExited) return;
        try
        {
            _process.StandardInput.Close();
            await _process.WaitForExitAsync().WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or InvalidOperationException)
        {
            Kill(_process);
        }
    }

    /// <summary>Stops the lab (<see cref="StopAsync"/> with 5 s) and releases the process.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (_answerReader is not null) await _answerReader.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _disposed = true;
        _process.Dispose();
        _controlGate.Dispose();
    }

    /// <summary>The host's own sentence about the taken port (it names the simulator, address and port), without the log prefix.</summary>
    private static string PortInUseMessage(IReadOnlyList<string> logLines)
    {
        string? line = logLines.LastOrDefault(l => l.Contains(StartFailurePrefix, StringComparison.Ordinal));
        return line is null
            ? $"A simulator's port is already in use: {string.Join(" | ", logLines.TakeLast(5))}"
            : line[(line.IndexOf(StartFailurePrefix, StringComparison.Ordinal) + StartFailurePrefix.Length)..];
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It has exited already.
        }
    }

    /// <summary>Process id and every endpoint, e.g. "DeviceLab pid 4242: brick 127.0.0.1:4223, ...".</summary>
    public override string ToString() => $"DeviceLab pid {ProcessId}: {string.Join(", ", Endpoints)}";

    /// <summary>A small thread-safe ring of the host's log lines for error messages.</summary>
    private sealed class StringWriterQueue
    {
        private readonly Queue<string> _lines = new();
        private readonly int _capacity;

        public StringWriterQueue(int capacity) => _capacity = capacity;

        public void Add(string line)
        {
            lock (_lines)
            {
                if (_lines.Count == _capacity) _lines.Dequeue();
                _lines.Enqueue(line);
            }
        }

        public string[] Snapshot()
        {
            lock (_lines) { return _lines.ToArray(); }
        }
    }
}

/// <summary>
/// How a simulator setting travels in the Lab's environment: <c>brick-secret</c> is <c>DEVICESHELL_LAB_BRICK_SECRET</c>.
/// Shared by the launcher and the Lab host.
/// </summary>
internal static class LabSettingsEnvironment
{
    public const string Prefix = "DEVICESHELL_LAB_";

    public static string VariableFor(string setting) => Prefix + setting.ToUpperInvariant().Replace('-', '_');

    /// <summary>The settings found in <paramref name="environment"/>, as "simulator-setting" names.</summary>
    public static IEnumerable<(string Setting, string Value)> Read(System.Collections.IDictionary environment)
    {
        foreach (System.Collections.DictionaryEntry entry in environment)
        {
            if (entry.Key is string key && key.StartsWith(Prefix, StringComparison.Ordinal) && entry.Value is string value)
                yield return (key[Prefix.Length..].ToLowerInvariant().Replace('_', '-'), value);
        }
    }
}

/// <summary>Finds the dotnet host: DOTNET_ROOT first, then PATH.</summary>
internal static class DotnetHost
{
    public static string? Find()
    {
        string exe = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        var candidates = new List<string>();
        string? root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (!string.IsNullOrEmpty(root)) candidates.Add(Path.Combine(root, exe));
        // When the current process is dotnet itself (tests, the Lab), use that one.
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileName(self).Equals(exe, StringComparison.OrdinalIgnoreCase)) candidates.Add(self);
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            candidates.Add(Path.Combine(dir, exe));
        return candidates.FirstOrDefault(File.Exists);
    }
}
