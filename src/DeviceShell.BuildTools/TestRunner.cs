using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;

namespace DeviceShell.BuildTools;

/// <summary>
/// Runs every xunit project (one after another: each already runs its classes in parallel), then the Pester
/// suites against the staged module in the pinned pwsh; prints each skipped test with its reason, then one line
/// "N passed, N failed" (xunit and Pester together), also written to out/test-results/summary.txt.
/// Counts come from the result files (TRX, and the Pester runner's JSON), not from console text.
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

        bool runnerFailed = Exec("dotnet", new[] { "build", Path.Combine(repo, "DeviceShell.sln"), "-c", configuration, "-nologo", "-v:minimal" }, repo) != 0;
        int passed = 0, failed = 0, skipped = 0;
        // Named again just before the summary, so the last lines of a long CI log say what failed.
        var failures = new List<string>();
        if (!runnerFailed)
        {
            foreach (string project in TestProjects(repo))
            {
                string name = Path.GetFileNameWithoutExtension(project);
                Console.WriteLine($"== {name}");
                int exit = Exec("dotnet", new[] { "test", project, "-c", configuration, "--no-build", "--nologo",
                    "--logger", $"trx;LogFileName={name}.trx", "--results-directory", results }, repo);
                string trx = Path.Combine(results, name + ".trx");
                if (!File.Exists(trx))
                {
                    Console.WriteLine($"{name}: no results (exit code {exit}).");
                    runnerFailed = true;
                    continue;
                }
                var counters = XDocument.Load(trx).Descendants().First(e => e.Name.LocalName == "Counters");
                int total = (int)counters.Attribute("total")!, ok = (int)counters.Attribute("passed")!;
                int bad = (int)counters.Attribute("failed")! + (int)counters.Attribute("error")! + (int)counters.Attribute("timeout")! + (int)counters.Attribute("aborted")!;
                passed += ok;
                failed += bad;
                skipped += total - ok - bad;
                if (exit != 0 && bad == 0) runnerFailed = true;
                foreach (var (test, reason) in TestsWithOutcome(trx, "NotExecuted")) Console.WriteLine($"skipped: {test}: {reason}");
                failures.AddRange(TestsWithOutcome(trx, "Failed").Select(f => $"{name}: {f.Test}: {f.Reason}"));
            }
        }

        Console.WriteLine("== Pester");
        var pester = RunPester(repo, pesterModule, results, failures);
        if (pester is var (pesterPassed, pesterFailed, pesterSkipped))
        {
            passed += pesterPassed;
            failed += pesterFailed;
            skipped += pesterSkipped;
        }
        else
        {
            runnerFailed = true;
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

    /// <summary>
    /// Runs tests/Pester in the repository's pinned pwsh (a local dotnet tool, restored here) with Pester imported
    /// from its NuGet package by path; null when the runner itself failed.
    /// </summary>
    private static (int Passed, int Failed, int Skipped)? RunPester(string repo, string pesterModule, string results, List<string> failures)
    {
        if (Exec("dotnet", ["tool", "restore"], repo) != 0)
        {
            Console.WriteLine("Pester: 'dotnet tool restore' could not restore the pinned pwsh.");
            return null;
        }
        string pesterResult = Path.Combine(results, "pester.json");
        int exit = Exec("dotnet", new[] { "tool", "run", "pwsh", "-NoProfile", "-NonInteractive", "-File",
            Path.Combine(repo, "tests", "Pester", "Invoke-Pester.ps1"), "-PesterModule", pesterModule, "-ResultFile", pesterResult }, repo);
        if (!File.Exists(pesterResult))
        {
            Console.WriteLine($"Pester: no results (exit code {exit}).");
            return null;
        }
        using var json = JsonDocument.Parse(File.ReadAllText(pesterResult));
        var root = json.RootElement;
        foreach (var test in root.GetProperty("skippedTests").EnumerateArray()) Console.WriteLine($"skipped: {test.GetString()}");
        if (root.TryGetProperty("failedTests", out var failedTests))
            failures.AddRange(failedTests.EnumerateArray().Select(test => $"Pester: {test.GetString()}"));
        return (root.GetProperty("passed").GetInt32(), root.GetProperty("failed").GetInt32(), root.GetProperty("skipped").GetInt32());
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
