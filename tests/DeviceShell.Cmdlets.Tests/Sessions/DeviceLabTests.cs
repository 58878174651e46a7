using System.Management.Automation;
using System.Net;
using System.Net.Sockets;

namespace DeviceShell.Cmdlets.Tests.Sessions;

/// <summary>Start-DeviceLab and Stop-DeviceLab against a real Lab host process; the engine's DeviceLab.StartAsync through PowerShell.</summary>
[Collection(RegistryCollection.Name)]
public sealed class DeviceLabTests(ModuleRunspace shell) : IClassFixture<ModuleRunspace>
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Start_returns_endpoints_that_answer_and_Stop_ends_the_process()
    {
        var lab = shell.Single("Start-DeviceLab -Echo");
        try
        {
            var echo = shell.Single("$Lab['echo']", ("Lab", lab));
            Assert.Equal("127.0.0.1", echo.Get("Host"));
            Assert.InRange((int)echo.Get("Port")!, 1, 65535);

            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, (int)echo.Get("Port")!).WaitAsync(Short);
            var stream = client.GetStream();
            await stream.WriteAsync("ping"u8.ToArray()).AsTask().WaitAsync(Short);
            var buffer = new byte[4];
            await stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(Short);
            Assert.Equal("ping"u8.ToArray(), buffer);
        }
        finally
        {
            var stopped = shell.Single("Stop-DeviceLab -Lab $Lab -PassThru", ("Lab", lab));
            Assert.Equal(lab.Get("ProcessId"), stopped.Get("ProcessId"));
        }
        Assert.Equal(true, lab.Get("HasExited"));
        Assert.DoesNotContain(lab.Get("ProcessId"), shell.Run("$Lab.GetType()::Running", ("Lab", lab)).Values("ProcessId"));
    }

    [Fact]
    public void Settings_reach_the_simulators_and_a_setting_for_a_missing_simulator_fails_the_start()
    {
        using (var lab = new RunningLab(shell, "-Brick -Setting @{ 'brick-stack' = 'empty' }"))
        {
            var devices = shell.Single("$Lab.ControlAsync('brick', 'list-devices', $null, [timespan]'0:0:5').GetAwaiter().GetResult().GetArrayLength()", ("Lab", lab.Lab));
            Assert.Equal(0, devices.BaseObject);
        }

        var run = shell.Run("Start-DeviceLab -Echo -Setting @{ 'brick-stack' = 'empty' } -StartTimeoutSec 20");
        PowerShellAssert.Error("LabStartFailed", ErrorCategory.InvalidOperation, run.TerminatingError);
        Assert.Contains("must follow --brick", run.TerminatingError!.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WhatIf_starts_nothing()
    {
        var run = shell.Run("Start-DeviceLab -Echo -WhatIf");
        run.AssertNoErrors();
        Assert.Empty(run.Objects);
        Assert.Single(run.WhatIf);
    }

    [Fact]
    public void A_port_in_use_ends_in_a_clear_error_not_a_hang()
    {
        using var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        var run = shell.Run("Start-DeviceLab -EchoPort $Port -StartTimeoutSec 20", ("Port", ((IPEndPoint)blocker.LocalEndpoint).Port));
        PowerShellAssert.Error("LabPortInUse", ErrorCategory.ResourceUnavailable, run.TerminatingError);
        Assert.Contains("already in use", run.TerminatingError!.Exception.Message, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Runs an engine call in the runspace and returns the DeviceException it threw (the module's type, read through PowerShell).</summary>
    private PSObject EngineFailure(string call, params (string Name, object? Value)[] parameters)
    {
        var run = shell.Run($"try {{ {call} }} catch {{ $_.Exception.GetBaseException() }}", parameters);
        var failure = Assert.Single(run.Objects);
        PowerShellAssert.HasType("DeviceShell.Engine.Sessions.DeviceException", failure);
        return failure;
    }

    [Fact]
    public void Control_commands_reach_the_host_and_refusals_are_clear()
    {
        using var lab = new RunningLab(shell, "-Echo");
        var refused = EngineFailure("$Lab.ControlAsync('echo', 'anything', $null, [timespan]'0:0:5').GetAwaiter().GetResult()", ("Lab", lab.Lab));
        Assert.Equal("LabCommandRefused", refused.Get("ErrorId"));
        Assert.Contains("takes no commands", refused.Text("Message"), StringComparison.Ordinal);

        var unknown = EngineFailure("$Lab.ControlAsync('brick', 'add-device', $null, [timespan]'0:0:5').GetAwaiter().GetResult()", ("Lab", lab.Lab));
        Assert.Contains("not running in this lab", unknown.Text("Message"), StringComparison.Ordinal);
    }

    private static string LabAssembly => Path.Combine(ModuleRunspace.ModuleFolder, "Lab", "DeviceShell.Lab.dll");

    /// <summary>The engine's DeviceLab type, found in the module's own load context (a type literal cannot name it).</summary>
    private const string DeviceLabType =
        "$DeviceLab = ([System.Runtime.Loader.AssemblyLoadContext]::All | Where-Object Name -eq 'DeviceShell').Assemblies |\n"
        + "  Where-Object { $_.GetName().Name -eq 'DeviceShell.Engine' } | ForEach-Object { $_.GetType('DeviceShell.Engine.Lab.DeviceLab', $true) }\n";

    [Fact]
    public void Closing_stdin_stops_the_lab_gracefully()
    {
        var lab = shell.Single(DeviceLabType + "$lab = $DeviceLab::StartAsync($LabAssembly, [string[]]('--echo', '0'), [timespan]'0:0:30').GetAwaiter().GetResult()\n"
            + "$null = $lab.StopAsync([timespan]'0:0:10').GetAwaiter().GetResult()\n$null = $lab.DisposeAsync().AsTask().GetAwaiter().GetResult()\n$lab", ("LabAssembly", LabAssembly));
        Assert.Equal(true, lab.Get("HasExited"));
        // The host logs this only on its own way out, not when it is killed.
        Assert.Contains((IEnumerable<object>)lab.Get("RecentLog")!, line => line.ToString()!.Contains("Stopping the lab.", StringComparison.Ordinal));
    }

    [Fact]
    public void A_lab_that_is_not_ready_in_time_is_killed_with_LabStartTimeout()
    {
        var failure = EngineFailure(DeviceLabType + "$DeviceLab::StartAsync($LabAssembly, [string[]]('--echo', '0'), [timespan]::FromMilliseconds(1)).GetAwaiter().GetResult()",
            ("LabAssembly", LabAssembly));
        Assert.Equal(("LabStartTimeout", "Timeout"), (failure.Get("ErrorId"), failure.Text("Kind")));
    }

    [Fact]
    public void Bad_lab_arguments_and_a_missing_lab_are_clear_errors()
    {
        var badOption = EngineFailure(DeviceLabType + "$DeviceLab::StartAsync($LabAssembly, [string[]]('--echo', '0', '--no-such-option'), [timespan]'0:0:30').GetAwaiter().GetResult()",
            ("LabAssembly", LabAssembly));
        Assert.Equal("LabStartFailed", badOption.Get("ErrorId"));
        Assert.Contains("Unknown option '--no-such-option'", badOption.Text("Message"), StringComparison.Ordinal);

        var missing = EngineFailure(DeviceLabType + "$DeviceLab::StartAsync('/no/such/Lab.dll', [string[]]@(), [timespan]'0:0:5').GetAwaiter().GetResult()");
        Assert.Equal("LabNotFound", missing.Get("ErrorId"));
    }
}
