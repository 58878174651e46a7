using System.Net;
using System.Text.Json;
using DeviceShell.Engine.Lab;
using DeviceShell.Lab.Hosting;

namespace DeviceShell.Engine.Tests.Lab;

public class LabHostTests
{
    private static readonly string[] Names = { "brick", "echo" };

    [Fact]
    public void The_command_line_takes_ports_settings_and_options()
    {
        var line = LabCommandLine.Parse(new[] { "--brick", "4223", "--brick-secret", "s3", "--echo", "--bind", "::1", "--no-stdin" }, Names);
        Assert.Equal(2, line.Simulators.Count);
        Assert.Equal(("brick", 4223), (line.Simulators[0].Name, line.Simulators[0].Port));
        Assert.Equal("s3", line.Simulators[0].Settings["secret"]);
        Assert.Equal(0, line.Simulators[1].Port);
        Assert.Equal(IPAddress.IPv6Loopback, line.Bind);
        Assert.True(line.IgnoreStdin);
    }

    [Fact]
    public void Settings_come_from_the_environment_without_overriding_the_command_line()
    {
        var line = LabCommandLine.Parse(new[] { "--brick", "0", "--brick-stack", "empty" }, Names);
        line.AddEnvironmentSettings(new System.Collections.Hashtable
        {
            ["DEVICESHELL_LAB_BRICK_SECRET"] = "from-env",
            ["DEVICESHELL_LAB_BRICK_STACK"] = "default",
            ["DEVICESHELL_LAB_ECHO_X"] = "not started",
            ["OTHER"] = "ignored",
        });
        Assert.Equal("from-env", line.Simulators[0].Settings["secret"]);
        Assert.Equal("empty", line.Simulators[0].Settings["stack"]);
        Assert.Equal(2, line.Simulators[0].Settings.Count);
        Assert.Equal("DEVICESHELL_LAB_BRICK_SECRET", DeviceShell.Engine.Lab.LabSettingsEnvironment.VariableFor("brick-secret"));
    }

    [Theory]
    [InlineData("--nosuch")]
    [InlineData("--brick", "70000")]
    [InlineData("--brick-secret", "s")]
    [InlineData("--brick", "1", "--brick", "2")]
    [InlineData("--bind", "not-an-address")]
    [InlineData("stray")]
    public void Bad_command_lines_are_refused(params string[] args)
    {
        Assert.Throws<FormatException>(() => LabCommandLine.Parse(args, Names));
    }

    [Theory]
    [InlineData("brick")]
    [InlineData("gateway")]
    [InlineData("webifi")]
    [InlineData("pibutton")]
    [InlineData("echo")]
    public async Task A_simulator_refuses_a_port_another_lab_listens_on(string simulator)
    {
        await using var first = await LabHost.StartAsync(new[] { (simulator, LabSimulatorOptions.Loopback()) }, CancellationToken.None).Within(TestTimeouts.Long);
        int taken = first.Endpoints[simulator].Port;
        var refused = await Assert.ThrowsAsync<LabPortInUseException>(
            () => LabHost.StartAsync(new[] { (simulator, LabSimulatorOptions.Loopback(taken)) }, CancellationToken.None).Within(TestTimeouts.Long));
        Assert.Contains($"{simulator} simulator cannot listen on 127.0.0.1:{taken}", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_endpoint_line_is_one_JSON_object_the_launcher_reads_back()
    {
        await using var host = await LabHost.StartAsync(new[] { ("echo", LabSimulatorOptions.Loopback()) }, CancellationToken.None).Within();
        string line = host.EndpointLine();
        Assert.DoesNotContain('\n', line);
        var endpoint = Assert.Single(DeviceLab.ParseEndpoints(line));
        Assert.Equal("echo", endpoint.Simulator);
        Assert.Equal(host.Endpoints["echo"].Port, endpoint.Port);
    }

    [Fact]
    public async Task Control_lines_always_get_an_answer_with_their_id()
    {
        await using var host = await LabHost.StartAsync(new[] { ("echo", LabSimulatorOptions.Loopback()) }, CancellationToken.None).Within();
        foreach (string request in new[] { "not json", "{\"id\":7}", "{\"id\":8,\"simulator\":\"nosuch\",\"command\":\"x\"}", "{\"id\":9,\"simulator\":\"echo\",\"command\":\"x\"}" })
        {
            using var answer = JsonDocument.Parse(await host.ControlAsync(request, CancellationToken.None).Within());
            Assert.False(answer.RootElement.GetProperty("ok").GetBoolean());
            Assert.False(string.IsNullOrEmpty(answer.RootElement.GetProperty("error").GetString()));
        }
        using var withId = JsonDocument.Parse(await host.ControlAsync("{\"id\":9,\"simulator\":\"echo\",\"command\":\"x\"}", CancellationToken.None));
        Assert.Equal(9, withId.RootElement.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task An_unknown_simulator_fails_the_start()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => LabHost.StartAsync(new[] { ("nosuch", LabSimulatorOptions.Loopback()) }, CancellationToken.None));
    }
}
