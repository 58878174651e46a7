using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace DeviceShell.Cmdlets.Tests;

/// <summary>
/// A real PowerShell runspace with the staged module (out/DeviceShell) imported, shared by the tests of one class
/// (IClassFixture): importing costs far more than a command, and each test still opens and closes its own sessions.
/// Commands run one at a time, each bounded by <see cref="RunTimeout"/>.
/// </summary>
public sealed class ModuleRunspace : IDisposable
{
    /// <summary>Longer than any command of the tests may take (a Lab start, <see cref="RunningLab.StartTimeoutSec"/>), short enough to end a hang.</summary>
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(RunningLab.StartTimeoutSec + 30);

    public static string ModuleFolder { get; } = TestRepository.PathOf("out", "DeviceShell");

    private readonly RecordingHost _host = new();
    private readonly Runspace _runspace;
    private readonly Lock _gate = new();

    public ModuleRunspace()
    {
        string manifest = Path.Combine(ModuleFolder, "DeviceShell.psd1");
        if (!File.Exists(manifest))
            throw new InvalidOperationException($"The staged module {manifest} is missing: run ./build.sh first (./build.sh test stages it before it runs the tests).");
        _runspace = RunspaceFactory.CreateRunspace(_host, InitialSessionState.CreateDefault2());
        _runspace.Open();
        var import = Run("Import-Module $Manifest -ErrorAction Stop", ("Manifest", manifest));
        if (import.TerminatingError is not null) throw new InvalidOperationException($"Import-Module {manifest} failed: {import.TerminatingError}");
    }

    /// <summary>
    /// Runs <paramref name="script"/> with each parameter as a variable of that name. A terminating error ends the
    /// script and is returned as <see cref="PowerShellRun.TerminatingError"/>; non-terminating ones go on, as in a shell.
    /// </summary>
    public PowerShellRun Run(string script, params (string Name, object? Value)[] parameters) => Invoke(script, parameters, stopAfter: null);

    /// <summary>Runs <paramref name="script"/> and stops it after <paramref name="stopAfter"/>, as Ctrl+C would.</summary>
    public PowerShellRun RunAndStop(TimeSpan stopAfter, string script, params (string Name, object? Value)[] parameters) =>
        Invoke(script, parameters, stopAfter);

    /// <summary>Runs a script that must not fail and returns its single output object.</summary>
    public PSObject Single(string script, params (string Name, object? Value)[] parameters)
    {
        var run = Run(script, parameters);
        run.AssertNoErrors();
        return Assert.Single(run.Objects);
    }

    private PowerShellRun Invoke(string script, (string Name, object? Value)[] parameters, TimeSpan? stopAfter)
    {
        lock (_gate)
        {
            _host.Clear();
            using var shell = PowerShell.Create();
            shell.Runspace = _runspace;
            // try/catch turns a statement-terminating error (ThrowTerminatingError) into the end of the script,
            // so the test sees it as the terminating error it is and nothing after it runs.
            string declarations = parameters.Length == 0 ? "" : "param(" + string.Join(", ", parameters.Select(p => "$" + p.Name)) + ")\n";
            shell.AddScript(declarations + "try {\n" + script + "\n} catch { throw }");
            foreach (var (name, value) in parameters) shell.AddParameter(name, value);

            var output = new PSDataCollection<PSObject>();
            var pending = shell.BeginInvoke<PSObject, PSObject>(null, output);
            using var stop = stopAfter is TimeSpan after ? new Timer(_ => shell.BeginStop(null, null), null, after, Timeout.InfiniteTimeSpan) : null;
            if (!pending.AsyncWaitHandle.WaitOne(RunTimeout))
            {
                shell.BeginStop(null, null);
                throw new TimeoutException($"The command did not end within {RunTimeout.TotalSeconds} s:\n{script}");
            }
            ErrorRecord? terminating = null;
            bool stopped = false;
            try
            {
                shell.EndInvoke(pending);
            }
            catch (PipelineStoppedException)
            {
                stopped = true;
            }
            catch (RuntimeException ex)
            {
                terminating = ex.ErrorRecord;
            }
            return new PowerShellRun(
                output.ToList(),
                shell.Streams.Error.ToList(),
                terminating,
                stopped,
                shell.Streams.Verbose.Select(v => v.Message).ToList(),
                shell.Streams.Warning.Select(w => w.Message).ToList(),
                shell.Streams.Progress.ToList(),
                _host.Lines.Where(l => l.StartsWith("What if:", StringComparison.Ordinal)).ToList());
        }
    }

    public void Dispose() => _runspace.Dispose();
}

/// <summary>What one script wrote to each stream, and how it ended.</summary>
public sealed record PowerShellRun(
    IReadOnlyList<PSObject> Objects,
    IReadOnlyList<ErrorRecord> Errors,
    ErrorRecord? TerminatingError,
    bool Stopped,
    IReadOnlyList<string> Verbose,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<ProgressRecord> Progress,
    IReadOnlyList<string> WhatIf)
{
    public void AssertNoErrors()
    {
        Assert.True(TerminatingError is null, $"Terminating error: {TerminatingError} ({TerminatingError?.FullyQualifiedErrorId})");
        Assert.True(Errors.Count == 0, "Errors: " + string.Join("; ", Errors.Select(e => $"{e} ({e.FullyQualifiedErrorId})")));
    }

    /// <summary>The values of one property of every output object, in order.</summary>
    public IReadOnlyList<object?> Values(string property) => Objects.Select(o => o.Get(property)).ToList();
}

public static class PowerShellAssert
{
    /// <summary>A property of an output object (engine types live in the module's load context, so tests read them through PowerShell).</summary>
    public static object? Get(this PSObject item, string property) =>
        (item.Properties[property] ?? throw new ArgumentException($"{string.Join("/", item.TypeNames.Take(1))} has no property {property}.")).Value;

    /// <summary>A property as text: engine enums are not the test's types, so they are compared by name.</summary>
    public static string? Text(this PSObject item, string property) => item.Get(property)?.ToString();

    public static void HasType(string typeName, PSObject item) =>
        Assert.True(item.TypeNames.Contains(typeName), $"Expected a {typeName}; got {string.Join(", ", item.TypeNames)}.");

    /// <summary>The ErrorId and category of an error record; PowerShell appends ",command" to the id it was given.</summary>
    public static void Error(string errorId, ErrorCategory category, ErrorRecord? record)
    {
        Assert.NotNull(record);
        Assert.Equal((errorId, category), (record!.FullyQualifiedErrorId.Split(',')[0], record.CategoryInfo.Category));
    }
}
