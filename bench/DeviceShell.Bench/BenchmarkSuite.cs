using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace DeviceShell.Bench;

/// <summary>A world's benchmarks; found by reflection so each world adds a file without touching the runner.</summary>
public interface IBenchmarkSuite
{
    /// <summary>The name given on the command line: bricks, gateway, webifi, pilink, echo.</summary>
    string Name { get; }

    Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken);
}

/// <summary>Collects figures and prints them as a Markdown table (the README quotes it).</summary>
public sealed class BenchmarkReport
{
    private readonly List<(string Suite, string Figure, double Value, string Unit, string? Reference)> _rows = new();

    /// <summary>How long each measured loop runs; short runs for a smoke check, longer for figures.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(3);

    public void Add(string suite, string figure, double value, string unit, string? reference = null)
    {
        lock (_rows) { _rows.Add((suite, figure, value, unit, reference)); }
        Console.Error.WriteLine($"  {suite}: {figure} = {value.ToString("N1", CultureInfo.InvariantCulture)} {unit}{(reference is null ? "" : $" ({reference})")}");
    }

    /// <summary>
    /// Runs <paramref name="operation"/> repeatedly for <see cref="Duration"/>, <paramref name="inFlight"/> at a time,
    /// and returns operations per second.
    /// </summary>
    public async Task<double> RatePerSecondAsync(Func<Task> operation, CancellationToken cancellationToken, int warmup = 100, int inFlight = 1)
    {
        for (int i = 0; i < warmup; i++) await operation().ConfigureAwait(false);
        long count = 0;
        var clock = Stopwatch.StartNew();
        async Task LoopAsync()
        {
            while (clock.Elapsed < Duration && !cancellationToken.IsCancellationRequested)
            {
                await operation().ConfigureAwait(false);
                Interlocked.Increment(ref count);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => LoopAsync())).ConfigureAwait(false);
        return Interlocked.Read(ref count) / clock.Elapsed.TotalSeconds;
    }

    public string ToMarkdown()
    {
        var lines = new List<string> { "| suite | figure | value | unit | against the reference |", "|---|---|---:|---|---|" };
        lock (_rows)
        {
            lines.AddRange(_rows.Select(r => $"| {r.Suite} | {r.Figure} | {r.Value.ToString("N1", CultureInfo.InvariantCulture)} | {r.Unit} | {r.Reference ?? ""} |"));
        }
        return string.Join(Environment.NewLine, lines);
    }

    public static IReadOnlyList<IBenchmarkSuite> DiscoverSuites() =>
        typeof(BenchmarkReport).Assembly.GetTypes()
            .Where(t => typeof(IBenchmarkSuite).IsAssignableFrom(t) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (IBenchmarkSuite)Activator.CreateInstance(t)!)
            .OrderBy(s => s.Name, StringComparer.Ordinal)
            .ToList();

    public static string Ratio(double value, double reference) =>
        reference <= 0 ? "n/a" : (value / reference).ToString("0.00", CultureInfo.InvariantCulture) + "x";
}
