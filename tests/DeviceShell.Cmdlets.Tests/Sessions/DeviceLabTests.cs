using System.Management.Automation;
using System.Net.Sockets;
using DeviceShell.Commands;
using DeviceShell.Engine.Lab;
using DeviceShell.Testing;

namespace DeviceShell.Cmdlets.Tests.Sessions;

/// <summary>Start-DeviceLab and Stop-DeviceLab against a real Lab host process.</summary>
public class DeviceLabTests
{
    [Fact]
    public async Task Start_returns_endpoints_that_answer_and_Stop_ends_the_process()
    {
        var start = CmdletHarness.Invoke(new StartDeviceLabCommand(), ("Echo", true));
        Assert.Null(start.TerminatingError);
        var lab = Assert.IsType<DeviceLab>(Assert.Single(start.Objects));
        try
        {
            var echo = lab["echo"]!;
            Assert.Equal("127.0.0.1", echo.Host);
            Assert.InRange(echo.Port, 1, 65535);

            using var client = new TcpClient();
            await client.ConnectAsync(echo.Host, echo.Port).WaitAsync(TestSupport.Short);
            var stream = client.GetStream();
            await stream.WriteAsync("ping"u8.ToArray()).AsTask().WaitAsync(TestSupport.Short);
            var buffer = new byte[4];
            await stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(TestSupport.Short);
            Assert.Equal("ping"u8.ToArray(), buffer);
        }
        finally
        {
            var stop = CmdletHarness.Invoke(new StopDeviceLabCommand(), ("Lab", lab), ("PassThru", true));
            Assert.Null(stop.TerminatingError);
            Assert.Same(lab, Assert.Single(stop.Objects));
        }
        Assert.True(lab.HasExited);
        Assert.DoesNotContain(lab, DeviceLab.Running);
    }

    [Fact]
    public async Task Settings_reach_the_simulators_and_a_setting_for_a_missing_simulator_fails_the_start()
    {
        var settings = new System.Collections.Hashtable { ["brick-stack"] = "empty" };
        var lab = Assert.IsType<DeviceLab>(Assert.Single(CmdletHarness.Invoke(new StartDeviceLabCommand(), ("Brick", true), ("Setting", settings)).Objects));
        await using (lab)
        {
            var devices = await lab.ControlAsync("brick", "list-devices", null, TestSupport.Short);
            Assert.Equal(0, devices.GetArrayLength());
        }

        var run = CmdletHarness.Invoke(new StartDeviceLabCommand(), ("Echo", true), ("Setting", settings), ("StartTimeoutSec", 20));
        Assert.Equal("LabStartFailed", run.TerminatingError?.FullyQualifiedErrorId);
        Assert.Contains("must follow --brick", run.TerminatingError!.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WhatIf_starts_nothing()
    {
        var run = CmdletHarness.Invoke(new StartDeviceLabCommand(), new Dictionary<string, object?> { ["Echo"] = true }, whatIf: true);
        Assert.Empty(run.Objects);
        Assert.Single(run.ShouldProcessCalls);
    }

    [Fact]
    public void A_port_in_use_ends_in_a_clear_error_not_a_hang()
    {
        using var blocker = new TcpListener(System.Net.IPAddress.Loopback, 0);
        blocker.Start();
        int port = ((System.Net.IPEndPoint)blocker.LocalEndpoint).Port;
        var run = CmdletHarness.Invoke(new StartDeviceLabCommand(), ("EchoPort", port), ("StartTimeoutSec", 20));
        Assert.NotNull(run.TerminatingError);
        Assert.Equal("LabStartFailed", run.TerminatingError!.FullyQualifiedErrorId);
        Assert.Contains("address already in use", run.TerminatingError.Exception.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Control_commands_reach_the_host_and_refusals_are_clear()
    {
        var lab = Assert.IsType<DeviceLab>(Assert.Single(CmdletHarness.Invoke(new StartDeviceLabCommand(), ("Echo", true)).Objects));
        await using (lab)
        {
            var refused = await Assert.ThrowsAsync<DeviceShell.Engine.Sessions.DeviceException>(
                () => lab.ControlAsync("echo", "anything", null, TestSupport.Short));
            Assert.Equal("LabCommandRefused", refused.ErrorId);
            Assert.Contains("takes no commands", refused.Message, StringComparison.Ordinal);

            var unknown = await Assert.ThrowsAsync<DeviceShell.Engine.Sessions.DeviceException>(
                () => lab.ControlAsync("brick", "add-device", null, TestSupport.Short));
            Assert.Contains("not running in this lab", unknown.Message, StringComparison.Ordinal);
        }
        Assert.True(lab.HasExited);
    }

    private static string LabAssembly => Path.Combine(AppContext.BaseDirectory, "Lab", "DeviceShell.Lab.dll");

    [Fact]
    public async Task Closing_stdin_stops_the_lab_gracefully()
    {
        var lab = await DeviceLab.StartAsync(LabAssembly, new[] { "--echo", "0" }, TimeSpan.FromSeconds(30));
        await lab.StopAsync(TimeSpan.FromSeconds(10));
        Assert.True(lab.HasExited);
        // The host logs this only on its own way out, not when it is killed.
        Assert.Contains(lab.RecentLog, line => line.Contains("Stopping the lab.", StringComparison.Ordinal));
        await lab.DisposeAsync();
    }

    [Fact]
    public async Task A_lab_that_is_not_ready_in_time_is_killed_with_LabStartTimeout()
    {
        var failure = await Assert.ThrowsAsync<DeviceShell.Engine.Sessions.DeviceException>(
            () => DeviceLab.StartAsync(LabAssembly, new[] { "--echo", "0" }, TimeSpan.FromMilliseconds(1)));
        Assert.Equal("LabStartTimeout", failure.ErrorId);
        Assert.Equal(DeviceShell.Engine.Sessions.DeviceErrorKind.Timeout, failure.Kind);
    }

    [Fact]
    public async Task Bad_lab_arguments_and_a_missing_lab_are_clear_errors()
    {
        var badOption = await Assert.ThrowsAsync<DeviceShell.Engine.Sessions.DeviceException>(
            () => DeviceLab.StartAsync(LabAssembly, new[] { "--echo", "0", "--no-such-option" }, TimeSpan.FromSeconds(30)));
        Assert.Equal("LabStartFailed", badOption.ErrorId);
        Assert.Contains("Unknown option '--no-such-option'", badOption.Message, StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<DeviceShell.Engine.Sessions.DeviceException>(
            () => DeviceLab.StartAsync("/no/such/Lab.dll", Array.Empty<string>(), TimeSpan.FromSeconds(5)));
        Assert.Equal("LabNotFound", missing.ErrorId);
    }
}
