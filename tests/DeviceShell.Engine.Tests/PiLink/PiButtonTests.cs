using System.Text.Json.Nodes;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.PiLink.Gpio;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Hosting;
using DeviceShell.Lab.PiLink;

namespace DeviceShell.Engine.Tests.PiLink;

public class PiButtonTests
{
    [Fact]
    public async Task The_button_server_answers_go_from_a_simulated_pin_that_toggles_while_a_client_polls()
    {
        var pin = new SimulatedPinSource(0, PiButton.DefaultPin);
        await using var server = PiButtonServer.Create(new PiButton(pin, 0, PiButton.DefaultPin), 0, PiLinkFixture.Fast);
        server.Start();
        await using var client = await PiLinkFixture.ConnectToAsync(server.Port);

        for (int round = 0; round < 20; round++)
        {
            bool pressed = round % 3 == 0;
            pin.Pressed = pressed;
            var reply = await client.SendAndReceiveReplyAsync(PiButtonServer.Command, TimeSpan.FromSeconds(5)).Within();
            Assert.Equal(pressed ? PiButtonServer.PressedReply : PiButtonServer.ReleasedReply, reply.Text);
        }
        // Anything but "go" gets no answer.
        await Assert.ThrowsAsync<DeviceException>(() => client.SendAndReceiveReplyAsync("stop", TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task The_lab_simulator_presses_its_button_on_command()
    {
        await using var host = await LabHost.StartAsync(new[] { ("pibutton", LabSimulatorOptions.Loopback()) }, CancellationToken.None).Within();
        var endpoint = host.Endpoints["pibutton"];
        await using var client = await PiLinkFixture.ConnectToAsync(endpoint.Port);

        Assert.Equal(PiButtonServer.ReleasedReply, (await client.SendAndReceiveReplyAsync("go", TimeSpan.FromSeconds(5)).Within()).Text);
        string answer = await host.ControlAsync("""{"id":1,"simulator":"pibutton","command":"press"}""", CancellationToken.None);
        Assert.True(JsonNode.Parse(answer)!["result"]!["pressed"]!.GetValue<bool>());
        Assert.Equal(PiButtonServer.PressedReply, (await client.SendAndReceiveReplyAsync("go", TimeSpan.FromSeconds(5)).Within()).Text);
        await host.ControlAsync("""{"id":2,"simulator":"pibutton","command":"set","args":{"pressed":false}}""", CancellationToken.None);
        Assert.Equal(PiButtonServer.ReleasedReply, (await client.SendAndReceiveReplyAsync("go", TimeSpan.FromSeconds(5)).Within()).Text);

        string refused = await host.ControlAsync("""{"id":3,"simulator":"pibutton","command":"explode"}""", CancellationToken.None);
        Assert.Contains("press, release, set, state and replay-report", refused, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_lab_simulator_keeps_the_one_client_rule()
    {
        await using var simulator = new PiButtonSimulator();
        var endpoint = await simulator.StartAsync(LabSimulatorOptions.Loopback(), CancellationToken.None);
        await using var first = await PiLinkFixture.ConnectToAsync(endpoint.Port);
        await using var second = new PiLinkSession("127.0.0.1", endpoint.Port, PiLinkFixture.Patient);
        Assert.Equal(PiLinkState.ServerOccupied, await second.ConnectAsync().Within());
    }

    [Fact]
    public async Task The_lab_simulator_reports_a_taken_port_as_a_start_failure()
    {
        await using var first = new PiButtonSimulator();
        var endpoint = await first.StartAsync(LabSimulatorOptions.Loopback(), CancellationToken.None);
        await using var second = new PiButtonSimulator();
        var error = await Assert.ThrowsAsync<IOException>(() => second.StartAsync(LabSimulatorOptions.Loopback(endpoint.Port), CancellationToken.None));
        Assert.Contains("PORT_IN_USE", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Simulated_lines_are_shared_per_chip_and_line_and_read_low_when_pressed()
    {
        var line = SimulatedPinSource.Line(7, 21);
        Assert.Same(line, SimulatedPinSource.Line(7, 21));
        Assert.NotSame(line, SimulatedPinSource.Line(7, 22));
        using var button = PiButton.Open(7, 21, simulated: true);
        Assert.False(button.Read().Pressed);
        line.Pressed = true;
        var state = button.Read();
        Assert.True(state.Pressed);
        Assert.Equal(PinLevel.Low, state.Level);
        Assert.True(state.Simulated);
        line.Pressed = false;
    }
}

/// <summary>
/// The GPIO character device source. This machine has no GPIO chip (and no gpio-sim/gpio-mockup), so what is checked
/// is the uAPI encoding against the kernel header's documented values and every error path reachable without hardware.
/// </summary>
public class GpioCharDeviceTests
{
    [Fact]
    public void Ioctl_numbers_and_struct_sizes_match_the_kernel_uapi()
    {
        Assert.Equal(592, GpioUapi.LineRequestSize);
        Assert.Equal(68, GpioUapi.ChipInfoSize);
        Assert.Equal(16, GpioUapi.LineValuesSize);
        Assert.Equal((nuint)0x8044B401, GpioUapi.GetChipInfoIoctl);
        Assert.Equal((nuint)0xC250B407, GpioUapi.GetLineIoctl);
        Assert.Equal((nuint)0xC010B40E, GpioUapi.GetValuesIoctl);
        Assert.Equal(0x4UL, GpioUapi.FlagInput);
        Assert.Equal(0x100UL, GpioUapi.FlagBiasPullUp);
    }

    [Fact]
    public void The_line_request_holds_the_offset_consumer_flags_and_count_where_the_kernel_reads_them()
    {
        byte[] request = GpioUapi.InputPullUpRequest(8, "DeviceShell");
        Assert.Equal(8u, BitConverter.ToUInt32(request, 0));
        Assert.Equal("DeviceShell\0"u8.ToArray(), request[256..268]);
        Assert.Equal(0x104UL, BitConverter.ToUInt64(request, 288)); // INPUT | BIAS_PULL_UP
        Assert.Equal(0u, BitConverter.ToUInt32(request, 296)); // no per-line attributes
        Assert.Equal(1u, BitConverter.ToUInt32(request, 560));
        Assert.Equal(0, GpioUapi.RequestFd(request));
    }

    [Fact]
    public void A_missing_chip_is_ObjectNotFound_with_a_hint()
    {
        var error = Assert.Throws<DeviceException>(() => GpioCharDevicePinSource.Open(99, 8));
        Assert.Equal("PiGpioChipNotFound", error.ErrorId);
        Assert.Equal(DeviceErrorKind.NotFound, error.Kind);
        Assert.Contains("/dev/gpiochip99", error.Message, StringComparison.Ordinal);
        Assert.Contains("-Simulated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_gpio_chip_is_refused_clearly()
    {
        var error = Assert.Throws<DeviceException>(() => GpioCharDevicePinSource.Open("/dev/null", 8));
        Assert.Equal("PiGpioNotAChip", error.ErrorId);
        Assert.Equal(DeviceErrorKind.NotSupported, error.Kind);
    }

    [Fact]
    public void A_negative_line_is_refused_before_any_device_is_opened()
    {
        var error = Assert.Throws<DeviceException>(() => GpioCharDevicePinSource.Open("/dev/gpiochip0", -1));
        Assert.Equal("PiGpioLineNotFound", error.ErrorId);
    }
}
