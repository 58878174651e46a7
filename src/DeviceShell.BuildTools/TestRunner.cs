using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;

namespace DeviceShell.BuildTools;

/// <summary>
/// Runs every xunit project (one after another: each already runs its classes in parallel) and, when
/// pwsh is on PATH, the Pester suites against the staged module; then prints one line "N passed, N failed"
/// and writes it to out/test-results/summary.txt.
/// Counts come from the result files (TRX, and the Pester runner's JSON), not from console text.
/// </summary>
public static class TestRunner
{
    public static int Run(string repo, string configuration)
    {
        string results = Path.Combine(repo, "out", "test-results");
        if (Directory.Exists(results)) Directory.Delete(results, true);
        Directory.CreateDirectory(results);

        bool runnerFailed = Exec("dotnet", new[] { "build", Path.Combine(repo, "DeviceShell.sln"), "-c", configuration, "-nologo", "-v:minimal" }, repo) != 0;
        int passed = 0, failed = 0, skipped = 0;
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
            }
        }

        if (FindOnPath("pwsh") is string pwsh)
        {
            Console.WriteLine("== Pester");
            string pesterResult = Path.Combine(results, "pester.json");
            int exit = Exec(pwsh, new[] { "-NoProfile", "-NonInteractive", "-File", Path.Combine(repo, "tests", "Pester", "Invoke-Pester.ps1"), "-ResultFile", pesterResult }, repo);
            if (File.Exists(pesterResult))
            {
                using var json = JsonDocument.Parse(File.ReadAllText(pesterResult));
                passed += json.RootElement.GetProperty("passed").GetInt32();
                failed += json.RootElement.GetProperty("failed").GetInt32();
                skipped += json.RootElement.GetProperty("skipped").GetInt32();
            }
            else
            {
                Console.WriteLine($"Pester: no results (exit code {exit}).");
                runnerFailed = true;
            }
        }
        else
        {
            Console.WriteLine("Pester: skipped, pwsh not found");
        }

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

    private static string? FindOnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(d => new[] { Path.Combine(d, command), Path.Combine(d, command + ".exe") })
            .FirstOrDefault(File.Exists);
}
