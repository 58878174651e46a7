using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using DeviceShell.Engine.Lab;

namespace DeviceShell.Bench;

/// <summary>A world's benchmarks; found by reflection so each world adds a file without touching the runner.</summary>
public interface IBenchmarkSuite
{
    /// <summary>The name given on the command line: bricks, pilink, gateway, webifi, memory.</summary>
    string Name { get; }

    Task RunAsync(Bench bench, CancellationToken cancellationToken);
}

/// <summary>How long and how often: the full run docs/benchmarks.md quotes, or a quick smoke run.</summary>
public sealed record BenchSettings(bool Quick)
{
    /// <summary>Measured rounds; every figure is the median over them, every ratio the median of the per-round ratios.</summary>
    public int Repetitions => Quick ? 1 : 3;

    /// <summary>Untimed load before the first round: long enough for tiered compilation to reach tier-1 code.</summary>
    public TimeSpan Warmup => TimeSpan.FromSeconds(Quick ? 0.5 : 3);

    /// <summary>One measured round of one side.</summary>
    public TimeSpan Window => TimeSpan.FromSeconds(Quick ? 0.5 : 3);

    public int FloodCallbacks => Quick ? 500_000 : 3_000_000;

    public int IdleSessions => Quick ? 100 : 1000;
}

/// <summary>One line of the table. <see cref="Ratio"/> is DeviceShell against <see cref="Peer"/>; a goal names its bound.</summary>
public sealed record BenchRow(string World, string Measure, string Value, string? Peer = null, string? PeerValue = null, double? Ratio = null,
    string? Goal = null, bool? Met = null, string? Notes = null);

/// <summary>The run: settings, paths, the table, and the helpers every suite shares (rounds, child processes, the Lab).</summary>
public sealed class Bench
{
    private readonly List<BenchRow> _rows = new();

    public Bench(BenchSettings settings)
    {
        Settings = settings;
        Cache = Directory.CreateDirectory(Path.Combine(RepoRoot, "out", "bench-cache")).FullName;
    }

    public BenchSettings Settings { get; }

    public static string RepoRoot { get; } = Metadata("RepoRoot");

    /// <summary>Where the bench keeps what it builds or installs: the native programs, the npm bindings.</summary>
    public string Cache { get; }

    public static string Metadata(string key) =>
        typeof(Bench).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public static string PeerScript(string name) => Path.Combine(RepoRoot, "bench", "peers", name);

    public IReadOnlyList<BenchRow> Rows { get { lock (_rows) return _rows.ToArray(); } }

    public void Add(BenchRow row)
    {
        lock (_rows) _rows.Add(row);
        Console.Error.WriteLine($"  {row.World}: {row.Measure} = {row.Value}"
            + (row.Peer is null ? "" : $"; {row.Peer} {row.PeerValue}") + (row.Ratio is null ? "" : $"; {Format(row.Ratio.Value, "0.00")}x")
            + (row.Goal is null ? "" : $"; goal {row.Goal}: {(row.Met == true ? "met" : "MISSED")}") + (row.Notes is null ? "" : $" ({row.Notes})"));
    }

    /// <summary>A peer that is not installed: one line, and the row says so.</summary>
    public void Skip(string world, string measure, string peer, string why, string? goal = null) =>
        Add(new BenchRow(world, measure, "—", peer, "skipped: " + why, Goal: goal));

    /// <summary>
    /// Measures DeviceShell and each peer in alternating rounds (ours, then each peer, repeated), after warming ours up.
    /// Returns the medians; ratios are medians of the per-round ratios, so a burst of load on a shared machine hits one round, not one side.
    /// </summary>
    /// <summary>
    /// What Start-DeviceRecording costs a live session: <paramref name="rate"/> measured while the session records to a
    /// file (the path it is given), next to the same without a recording (null), as one row with the goal ≥ 0.9x.
    /// </summary>
    public async Task AddRecordingCostAsync(string world, string measure, string unit, Func<TimeSpan, string?, Task<double>> rate)
    {
        string path = Path.Combine(Path.GetTempPath(), $"deviceshell-bench-{Environment.ProcessId}.devrec");
        try
        {
            var recorded = await CompareAsync(window => rate(window, path),
                new (string, Func<Task<double>>)[] { ("not recording", () => rate(Settings.Window, null)) }).ConfigureAwait(false);
            double ratio = recorded.Ratio("not recording");
            Add(new BenchRow(world, measure, Format(recorded.Value) + " " + unit,
                "the same, not recording", Format(recorded.PeerValue("not recording")) + " " + unit, ratio, "≥ 0.9x", ratio >= 0.9));
        }
        finally
        {
            File.Delete(path);
        }
    }

    public async Task<Comparison> CompareAsync(Func<TimeSpan, Task<double>> ours, IReadOnlyList<(string Name, Func<Task<double>> Measure)> peers,
        Func<TimeSpan, Task<double>>? warmup = null)
    {
        await (warmup ?? ours)(Settings.Warmup).ConfigureAwait(false);
        var ourRounds = new List<double>();
        var peerRounds = peers.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < Settings.Repetitions; round++)
        {
            ourRounds.Add(await ours(Settings.Window).ConfigureAwait(false));
            for (int i = 0; i < peers.Count; i++) peerRounds[i].Add(await peers[i].Measure().ConfigureAwait(false));
        }
        return new Comparison(ourRounds, peers.Select((p, i) => (p.Name, (IReadOnlyList<double>)peerRounds[i])).ToList());
    }

    /// <summary>Runs <paramref name="operation"/> for <paramref name="window"/>, <paramref name="inFlight"/> at a time; returns operations per second.</summary>
    public static async Task<double> RateAsync(Func<Task> operation, TimeSpan window, int inFlight = 1)
    {
        long count = 0;
        var clock = Stopwatch.StartNew();
        async Task LoopAsync()
        {
            while (clock.Elapsed < window)
            {
                await operation().ConfigureAwait(false);
                Interlocked.Increment(ref count);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => Task.Run(LoopAsync))).ConfigureAwait(false);
        return Interlocked.Read(ref count) / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Starts the staged Lab host (out/DeviceShell/Lab, what Start-DeviceLab runs) as its own process.</summary>
    public static Task<DeviceLab> StartLabAsync(params string[] arguments)
    {
        string lab = Path.Combine(RepoRoot, "out", "DeviceShell", "Lab", "DeviceShell.Lab.dll");
        if (!File.Exists(lab)) throw new FileNotFoundException("The bench runs the staged Lab: run ./build.sh first.", lab);
        return DeviceLab.StartAsync(lab, arguments, TimeSpan.FromSeconds(60));
    }

    /// <summary>Runs a program to its end (bounded by <paramref name="timeout"/>) and returns its standard output; a failure throws with its stderr.</summary>
    public static async Task<string> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(program)} {string.Join(' ', start.ArgumentList)} did not finish within {timeout.TotalSeconds:0} s.");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}): {(await error.ConfigureAwait(false)).Trim()}");
        return (await output.ConfigureAwait(false)).Trim();
    }

    public static double ParseNumber(string text) => double.Parse(text.Trim(), CultureInfo.InvariantCulture);

    public static string Format(double value, string format = "N0") => value.ToString(format, CultureInfo.InvariantCulture);

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public string ToMarkdown()
    {
        var lines = new List<string>
        {
            "| world | measure | DeviceShell | peer or reference (same run) | peer's figure | ratio | goal | met |",
            "|---|---|---:|---|---:|---:|---|---|",
        };
        foreach (var r in Rows)
        {
            string value = r.Notes is null ? r.Value : $"{r.Value} ({r.Notes})";
            string ratio = r.Ratio is null ? "" : Format(r.Ratio.Value, "0.00") + "x";
            string met = r.Met switch { true => "met", false => "**missed**", null => "" };
            lines.Add($"| {r.World} | {r.Measure} | {value} | {r.Peer ?? ""} | {r.PeerValue ?? ""} | {ratio} | {r.Goal ?? ""} | {met} |");
        }
        return string.Join(Environment.NewLine, lines);
    }

    public static IReadOnlyList<IBenchmarkSuite> DiscoverSuites() =>
        typeof(Bench).Assembly.GetTypes()
            .Where(t => typeof(IBenchmarkSuite).IsAssignableFrom(t) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (IBenchmarkSuite)Activator.CreateInstance(t)!)
            .ToList();
}

/// <summary>Rounds of DeviceShell and of each peer, alternated in one run.</summary>
public sealed record Comparison(IReadOnlyList<double> Ours, IReadOnlyList<(string Name, IReadOnlyList<double> Rounds)> Peers)
{
    public double Value => Bench.Median(Ours);

    public double PeerValue(string name) => Bench.Median(Peers.Single(p => p.Name == name).Rounds);

    /// <summary>The median of the per-round ratios ours / the peer's (higher is better for rates).</summary>
    public double Ratio(string name)
    {
        var rounds = Peers.Single(p => p.Name == name).Rounds;
        return Bench.Median(Ours.Zip(rounds, (ours, peer) => peer > 0 ? ours / peer : double.NaN));
    }
}
