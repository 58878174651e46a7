using System.Diagnostics;
using DeviceShell.Engine.PiLink;

namespace DeviceShell.Engine.Tests.PiLink;

/// <summary>
/// GpioCharDevicePinSource against a real kernel: tests/GpioVm/run-vm.sh boots Debian's kernel in qemu with a gpio-sim
/// chip of 8 lines and runs the GpioVm probe there, which prints one "RESULT &lt;check&gt; &lt;observed&gt;" line per check.
/// Needs qemu-system-x86, linux-image-amd64, busybox-static (and, as Debian 12's kernel lacks gpio-sim, linux-source
/// and linux-headers-amd64 to build it): without them the test is skipped with a line naming what is missing.
/// </summary>
public class GpioCharDeviceVmTests
{
    /// <summary>
    /// qemu emulates the CPU (TCG, no KVM here): the run takes about a minute on a loaded machine and passed qemu's
    /// former 90 s limit at load 55, so qemu gets 240 s and the script a little more; a passing run waits none of it.
    /// </summary>
    private const int QemuTimeoutSec = 240;

    private static readonly TimeSpan VmBound = TimeSpan.FromSeconds(QemuTimeoutSec + 30);

    [GpioVmFact]
    public async Task A_gpio_sim_line_reads_through_the_character_device_with_pull_up_busy_and_missing_errors()
    {
        var results = await RunVmAsync();

        // gpio-sim starts its lines pulled down: High (and the chip's pull now "pull-up") is the bias our request set.
        Assert.Equal("High pull-up", results["released"]);
        Assert.Equal("Low", results["pressed"]);
        Assert.Equal("PiGpioLineBusy", results["busy"]);
        Assert.Equal($"{PiButtonServer.PressedReply}|{PiButtonServer.ReleasedReply}", results["server"]);
        Assert.Equal("High", results["reopened"]);
        Assert.Equal("PiGpioLineNotFound", results["missing-line"]);
        Assert.Equal("PiGpioChipNotFound", results["missing-chip"]);
    }

    private static async Task<Dictionary<string, string>> RunVmAsync()
    {
        string repoRoot = TestRepository.Root;
        string probe = Path.Combine(repoRoot, "tests", "GpioVm", "bin", TestRepository.Configuration, "net10.0", "GpioVm.dll");
        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(repoRoot, "tests", "GpioVm", "run-vm.sh"));
        start.ArgumentList.Add(probe);
        start.Environment["GPIOVM_TIMEOUT_SEC"] = QemuTimeoutSec.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var vm = Process.Start(start)!;
        var output = vm.StandardOutput.ReadToEndAsync();
        var progress = vm.StandardError.ReadToEndAsync();
        try
        {
            await vm.WaitForExitAsync().WaitAsync(VmBound);
        }
        catch (TimeoutException)
        {
            vm.Kill(entireProcessTree: true);
            throw new TimeoutException($"run-vm.sh did not finish within {VmBound.TotalSeconds} s:\n{await progress}\n{await output}");
        }
        string console = await output;
        string log = $"run-vm.sh exited {vm.ExitCode}:\n{await progress}\n{console}";
        if (vm.ExitCode == 3)
            Assert.Fail($"The GPIO VM cannot run here ({log.Trim()}). Install the packages of .ci/apt-packages.txt, or set DEVICESHELL_SKIP_GPIO_VM=1 to skip this test.");
        Assert.True(vm.ExitCode == 0, log);

        var results = new Dictionary<string, string>();
        foreach (string line in console.Split('\n'))
        {
            string[] parts = line.TrimEnd().Split(' ', 3);
            if (parts is ["RESULT", var check, var observed]) results[check] = observed;
        }
        Assert.True(results.Count == 7, $"Expected 7 RESULT lines. {log}");
        return results;
    }
}

/// <summary>
/// A fact skipped, with one line naming what is missing, when a prerequisite package is not installed (CI installs
/// them and counts any skip as a failure), or when DEVICESHELL_SKIP_GPIO_VM=1 (machines that cannot run qemu).
/// </summary>
public sealed class GpioVmFactAttribute : FactAttribute
{
    public GpioVmFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("DEVICESHELL_SKIP_GPIO_VM") == "1") Skip = "DEVICESHELL_SKIP_GPIO_VM=1";
        else if (MissingPrerequisite.Value is { } missing) Skip = $"needs Debian packages (.ci/apt-packages.txt): {missing}";
    }

    /// <summary>What run-vm.sh --check reports missing (qemu, a kernel, busybox, what building gpio-sim takes), or null.</summary>
    private static readonly Lazy<string?> MissingPrerequisite = new(() =>
    {
        string script = Path.Combine(TestRepository.Root, "tests", "GpioVm", "run-vm.sh");
        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("--check");
        using var check = Process.Start(start)!;
        var error = check.StandardError.ReadToEndAsync();
        check.StandardOutput.ReadToEnd();
        if (!check.WaitForExit(TimeSpan.FromSeconds(30))) check.Kill(entireProcessTree: true);
        return check.ExitCode == 3 ? error.Result.Trim().Replace("MISSING: ", "", StringComparison.Ordinal) : null;
    });
}
