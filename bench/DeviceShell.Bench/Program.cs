using DeviceShell.Bench;

// dotnet run -c Release --project bench/DeviceShell.Bench -- [all|bricks|pilink|gateway|webifi|memory ...] [--quick] [--out FILE]
// (bench/run.sh builds the module first.) Progress goes to stderr, the table to stdout and, with --out, to FILE.
// "cold-gateway HOST PORT CA SECONDS" is the child process the gateway suite starts for its cold figure.
if (args.Length > 0 && args[0] == "cold-gateway") return await GatewaySuite.ColdChildAsync(args[1..]);

var suites = Bench.DiscoverSuites();
var chosen = new List<string>();
bool quick = false;
string? outFile = null;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--quick") quick = true;
    else if (args[i] == "--out" && i + 1 < args.Length) outFile = args[++i];
    else if (args[i] != "all") chosen.Add(args[i].ToLowerInvariant());
}
var unknown = chosen.Except(suites.Select(s => s.Name)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"Unknown suite(s): {string.Join(", ", unknown)}. Available: all, {string.Join(", ", suites.Select(s => s.Name))}.");
    return 2;
}
var bench = new Bench(new BenchSettings(quick));
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
string[] order = { "bricks", "pilink", "gateway", "webifi", "memory" };
int failures = 0;
foreach (var suite in suites.Where(s => chosen.Count == 0 || chosen.Contains(s.Name)).OrderBy(s => Array.IndexOf(order, s.Name)))
{
    Console.Error.WriteLine($"Running {suite.Name} ({(quick ? "quick" : $"{bench.Settings.Repetitions} rounds of {bench.Settings.Window.TotalSeconds:0.#} s after {bench.Settings.Warmup.TotalSeconds:0.#} s of warm-up")}) ...");
    try
    {
        await suite.RunAsync(bench, cancel.Token);
    }
    catch (Exception ex) when (ex is not OperationCanceledException)
    {
        // One world's failure must not hide the others' figures: it becomes a row, and the exit code says so.
        failures++;
        Console.Error.WriteLine($"  {suite.Name} FAILED: {ex}");
        bench.Add(new BenchRow(suite.Name, "suite failed", "—", Notes: ex.GetType().Name + ": " + ex.Message.ReplaceLineEndings(" ")));
    }
}
string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
string table = bench.ToMarkdown() + Environment.NewLine + Environment.NewLine
    + $"{(quick ? "Quick run" : $"Medians of {bench.Settings.Repetitions} alternated rounds")}; {Environment.ProcessorCount} cores, 1-minute load average {load} at the end, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.";
Console.WriteLine(table);
if (outFile is not null) File.WriteAllText(outFile, table + Environment.NewLine);
return failures == 0 ? 0 : 1;
