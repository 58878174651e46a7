using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace DeviceShell.BuildTools;

/// <summary>
/// Runs every xunit project and the Pester suites (against the staged module, in the pinned pwsh) side by side: most
/// of their time is spent waiting on sockets, timers and Lab processes, not on the CPU, and each binds port 0 and
/// starts its own Labs, so they do not meet. Each runner's output is kept and printed whole when it ends (in the
/// order they end), then each skipped test with its reason, then one line "N passed, N failed" (xunit and Pester
/// together), also written to out/test-results/summary.txt. Counts come from the result files (TRX, and the Pester
/// runner's JSON), not from console text.
/// </summary>
public static class TestRunner
{
    /// <summary>Set to 1 (as .ci/run does) to count every skipped test as a failure.</summary>
    public const string NoSkipVariable = "DEVICESHELL_NO_SKIP";

    public static int Run(string repo, string configuration, string pesterModule)
    {
        string results = Path.Combine(repo, "out", "test-results");
        if (Directory.Exists(results)) Directory.Delete(results, true);
        Directory.CreateDirectory(results);

        if (Exec("dotnet", new[] { "build", Path.Combine(repo, "DeviceShell.sln"), "-c", configuration, "-nologo", "-v:minimal" }, repo) != 0)
            return Summarize(results, new[] { SuiteResult.Broken("build", problem: "the solution did not build") });
        if (Exec("dotnet", ["tool", "restore"], repo) != 0)
            return Summarize(results, new[] { SuiteResult.Broken("Pester", problem: "'dotnet tool restore' could not restore the pinned pwsh") });

        var console = new Lock();
        var clock = Stopwatch.StartNew();
        var suites = TestProjects(repo).Select(project => Task.Run(() => RunXunit(repo, configuration, project, results)))
            .Append(Task.Run(() => RunPester(repo, pesterModule, results, "Pester", "-ExcludeTag")))
            .Append(Task.Run(() => RunPester(repo, pesterModule, results, "Pester (Slow)", "-Tag")))
            .Select(suite => suite.ContinueWith(done =>
            {
                var result = done.Result;
                lock (console)
                {
                    Console.WriteLine($"== {result.Name} ({clock.Elapsed.TotalSeconds:F0} s)");
                    Console.Write(result.Output);
                }
                return result;
            }, TaskScheduler.Default))
            .ToArray();
        return Summarize(results, Task.WhenAll(suites).GetAwaiter().GetResult());
    }

    /// <summary>Prints the skips, the failures and the counts of all suites; the exit code of the test run.</summary>
    private static int Summarize(string results, IEnumerable<SuiteResult> suites)
    {
        int passed = 0, failed = 0, skipped = 0;
        bool runnerFailed = false;
        // Named again just before the summary, so the last lines of a long CI log say what failed.
        var failures = new List<string>();
        foreach (var suite in suites)
        {
            passed += suite.Passed;
            failed += suite.Failed;
            skipped += suite.SkippedTests.Count;
            runnerFailed |= suite.RunnerFailed;
            foreach (string test in suite.SkippedTests) Console.WriteLine($"skipped: {test}");
            failures.AddRange(suite.FailedTests.Select(test => $"{suite.Name}: {test}"));
            if (suite.RunnerFailed) Console.WriteLine($"{suite.Name}: {suite.Problem}");
        }

        // CI sets this so that a test skipped for a missing Debian package (grpcio, qemu) fails the run instead.
        if (skipped > 0 && Environment.GetEnvironmentVariable(NoSkipVariable) == "1")
        {
            Console.WriteLine($"{NoSkipVariable}=1: the {skipped} skipped test(s) count as failed.");
            failed += skipped;
            skipped = 0;
        }

        foreach (string failure in failures) Console.WriteLine($"failed: {failure}");
        if (runnerFailed) Console.WriteLine("A test runner failed before reporting all of its results.");
        string summary = skipped > 0 ? $"{passed} passed, {failed} failed, {skipped} skipped" : $"{passed} passed, {failed} failed";
        Console.WriteLine(summary);
        // build.sh prints this file last, so the summary is the final line whatever MSBuild adds around it.
        File.WriteAllText(Path.Combine(results, "summary.txt"), summary + Environment.NewLine);
        return failed == 0 && !runnerFailed ? 0 : 1;
    }

    private static SuiteResult RunXunit(string repo, string configuration, string project, string results)
    {
        string name = Path.GetFileNameWithoutExtension(project);
        var (exit, output) = ExecCaptured("dotnet", new[] { "test", project, "-c", configuration, "--no-build", "--nologo",
            "--logger", $"trx;LogFileName={name}.trx", "--results-directory", results }, repo);
        string trx = Path.Combine(results, name + ".trx");
        if (!File.Exists(trx)) return SuiteResult.Broken(name, output, $"no results (exit code {exit})");
        var counters = XDocument.Load(trx).Descendants().First(e => e.Name.LocalName == "Counters");
        int total = (int)counters.Attribute("total")!, ok = (int)counters.Attribute("passed")!;
        int bad = (int)counters.Attribute("failed")! + (int)counters.Attribute("error")! + (int)counters.Attribute("timeout")! + (int)counters.Attribute("aborted")!;
        var skippedTests = TestsWithOutcome(trx, "NotExecuted").Select(t => $"{t.Test}: {t.Reason}").ToList();
        var failedTests = TestsWithOutcome(trx, "Failed").Select(t => $"{t.Test}: {t.Reason}").ToList();
        return new SuiteResult(name, output, ok, bad, skippedTests, failedTests,
            exit != 0 && bad == 0 ? $"exit code {exit} with no failed test" : null);
    }

    public static IEnumerable<string> TestProjects(string repo) =>
        Directory.GetFiles(Path.Combine(repo, "tests"), "*.csproj", SearchOption.AllDirectories)
            .Where(p => File.ReadAllText(p).Contains("<IsTestProject>true</IsTestProject>", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    private static int Exec(string file, IEnumerable<string> arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, UseShellExecute = false };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>Runs a command with its output and error kept (in the order written) for printing in one piece.</summary>
    private static (int ExitCode, string Output) ExecCaptured(string file, IEnumerable<string> arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        var output = new StringBuilder();
        void Append(object _, DataReceivedEventArgs line)
        {
            if (line.Data is null) return;
            lock (output) output.AppendLine(line.Data);
        }
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        if (!process.Start()) throw new InvalidOperationException($"Could not start {file}.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }

    /// <summary>
    /// Runs tests/Pester in the repository's pinned pwsh (a local dotnet tool, restored before) with Pester imported
    /// from its NuGet package by path: the blocks tagged Slow (<paramref name="slowFilter"/> -Tag) or all others
    /// (-ExcludeTag), so the long waits by design run beside the rest.
    /// </summary>
    private static SuiteResult RunPester(string repo, string pesterModule, string results, string name, string slowFilter)
    {
        string pesterResult = Path.Combine(results, slowFilter == "-Tag" ? "pester-slow.json" : "pester.json");
        var (exit, output) = ExecCaptured("dotnet", new[] { "tool", "run", "pwsh", "-NoProfile", "-NonInteractive", "-File",
            Path.Combine(repo, "tests", "Pester", "Invoke-Pester.ps1"), "-PesterModule", pesterModule, "-ResultFile", pesterResult, slowFilter, "Slow" }, repo);
        if (!File.Exists(pesterResult)) return SuiteResult.Broken(name, output, $"no results (exit code {exit})");
        using var json = JsonDocument.Parse(File.ReadAllText(pesterResult));
        var root = json.RootElement;
        var failedTests = root.TryGetProperty("failedTests", out var failedList) ? failedList.EnumerateArray().Select(test => test.GetString()!).ToList() : new List<string>();
        return new SuiteResult(name, output, root.GetProperty("passed").GetInt32(), root.GetProperty("failed").GetInt32(),
            root.GetProperty("skippedTests").EnumerateArray().Select(test => test.GetString()!).ToList(), failedTests, null);
    }

    /// <summary>
    /// The tests of a TRX file with one outcome, each with the first line of its message (a skip's reason, e.g. the
    /// Debian package it needs, or a failure's assertion).
    /// </summary>
    private static IEnumerable<(string Test, string Reason)> TestsWithOutcome(string trx, string outcome) =>
        XDocument.Load(trx).Descendants()
            .Where(e => e.Name.LocalName == "UnitTestResult" && (string?)e.Attribute("outcome") == outcome)
            .Select(e => ((string)e.Attribute("testName")!,
                (e.Descendants().FirstOrDefault(m => m.Name.LocalName == "Message")?.Value ?? "no reason given").Split('\n')[0].Trim()));
}

/// <summary>What one test runner (an xunit project, or the Pester suites) reported, with its console output.</summary>
internal sealed record SuiteResult(string Name, string Output, int Passed, int Failed, IReadOnlyList<string> SkippedTests, IReadOnlyList<string> FailedTests, string? Problem)
{
    public bool RunnerFailed => Problem is not null;

    public static SuiteResult Broken(string name, string output = "", string problem = "did not run") =>
        new(name, output, 0, 0, Array.Empty<string>(), Array.Empty<string>(), problem);
}
