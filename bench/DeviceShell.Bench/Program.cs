using System.Globalization;
using DeviceShell.Bench;

// dotnet run -c Release --project bench/DeviceShell.Bench -- [suite ...] [--seconds N]
// Prints progress to stderr and the figures as one Markdown table on stdout.
var suites = BenchmarkReport.DiscoverSuites();
var chosen = new List<string>();
double seconds = 3;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--seconds" && i + 1 < args.Length) seconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
    else chosen.Add(args[i].ToLowerInvariant());
}
var unknown = chosen.Except(suites.Select(s => s.Name)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"Unknown suite(s): {string.Join(", ", unknown)}. Available: {string.Join(", ", suites.Select(s => s.Name))}.");
    return 2;
}
var report = new BenchmarkReport { Duration = TimeSpan.FromSeconds(seconds) };
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
foreach (var suite in suites.Where(s => chosen.Count == 0 || chosen.Contains(s.Name)))
{
    Console.Error.WriteLine($"Running {suite.Name} ...");
    await suite.RunAsync(report, cancel.Token);
}
Console.WriteLine(report.ToMarkdown());
return 0;
