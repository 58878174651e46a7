using System.Text.Json.Nodes;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Tests.Lab;

/// <summary>The Lab control channel over a real Lab host process: its stdin and stdout, as the Lab cmdlets use it.</summary>
public class LabControlTests
{
    private static Task<DeviceLab> StartLabAsync() =>
        DeviceLab.StartAsync(Path.Combine(AppContext.BaseDirectory, "DeviceShell.Lab.dll"),
            new[] { "--brick", "0", "--gateway", "0", "--pibutton", "0", "--echo", "0" }, TestTimeouts.LabStart);

    /// <summary>Sends a command by its wire name and returns the refusal; a command the lab took fails the test.</summary>
    private static async Task<DeviceException> RefusedAsync(DeviceLab lab, string simulator, string command, JsonObject? arguments)
    {
        var refused = await Assert.ThrowsAsync<DeviceException>(() => lab.ControlAsync(simulator, command, arguments, TestTimeouts.Short));
        Assert.Equal(("LabCommandRefused", DeviceErrorKind.InvalidArgument), (refused.ErrorId, refused.Kind));
        return refused;
    }

    [Fact]
    public async Task Unknown_commands_and_malformed_arguments_are_refused_with_the_reason()
    {
        await using var lab = await StartLabAsync();

        Assert.Contains("Unknown command 'explode'", (await RefusedAsync(lab, "brick", "explode", null)).Message, StringComparison.Ordinal);
        Assert.Contains("set", (await RefusedAsync(lab, "pibutton", "explode", null)).Message, StringComparison.Ordinal);
        Assert.Contains("takes no commands", (await RefusedAsync(lab, "echo", "anything", null)).Message, StringComparison.Ordinal);
        Assert.Contains("not running in this lab", (await RefusedAsync(lab, "webifi", "sessions", null)).Message, StringComparison.Ordinal);

        // A missing argument is named; a value of the wrong kind is refused, not taken as a default.
        Assert.Contains("deviceIdentifier", (await RefusedAsync(lab, "brick", "add-device", new JsonObject { ["uid"] = "Zz9" })).Message, StringComparison.Ordinal);
        await RefusedAsync(lab, "brick", "add-device", new JsonObject { ["uid"] = "Zz9", ["deviceIdentifier"] = "many" });
        Assert.Contains("ipAddress", (await RefusedAsync(lab, "gateway", "add-device", new JsonObject { ["deviceId"] = 7 })).Message, StringComparison.Ordinal);
        await RefusedAsync(lab, "gateway", "remove-device", new JsonObject { ["deviceId"] = -1 });
        Assert.Contains("pressed", (await RefusedAsync(lab, "pibutton", "set", null)).Message, StringComparison.Ordinal);

        // What the simulator itself refuses keeps its own sentence.
        Assert.Contains("not a valid base58 UID", (await RefusedAsync(lab, "brick", "add-device", new JsonObject { ["uid"] = "0", ["deviceIdentifier"] = 13 })).Message, StringComparison.Ordinal);
        Assert.Contains("not an IP address", (await RefusedAsync(lab, "gateway", "add-device", new JsonObject { ["deviceId"] = 7, ["ipAddress"] = "nowhere" })).Message, StringComparison.Ordinal);

        // The lab goes on answering after every refusal.
        var state = await lab.ControlAsync("pibutton", "state", null, TestTimeouts.Short);
        Assert.False(state.GetProperty("pressed").GetBoolean());
    }

    [Fact]
    public async Task Typed_commands_reach_each_simulator_and_come_back_typed()
    {
        await using var lab = await StartLabAsync();

        var plugged = await lab.Brick.AddDeviceAsync(new AddBrickDevice("Zz9", 2100, Position: 'g')).Within();
        Assert.Equal(new LabBrickDevice("Zz9", "6qY", 'g', 2100, "Industrial Digital In 4 Bricklet 2.0"), plugged);
        Assert.Contains(plugged, await lab.Brick.ListDevicesAsync().Within());
        await lab.Brick.SetInputAsync("Zz9", "Value", new JsonArray(true, false, false, true)).Within();
        await lab.Brick.RemoveDeviceAsync("Zz9").Within();
        Assert.DoesNotContain(await lab.Brick.ListDevicesAsync().Within(), d => d.Uid == "Zz9");
        var gone = await Assert.ThrowsAsync<DeviceException>(() => lab.Brick.RemoveDeviceAsync("Zz9"));
        Assert.Equal("LabCommandRefused", gone.ErrorId);
        Assert.Contains("There is no device with UID Zz9", gone.Message, StringComparison.Ordinal);

        Assert.Equal(new LabGatewayDevice(7, "BIOSTATION_2", "10.0.0.7"), await lab.Gateway.AddDeviceAsync(new AddGatewayDevice(7, "10.0.0.7", Type: "BioStation2")).Within());
        await lab.Gateway.RemoveDeviceAsync(7).Within();

        Assert.Equal(new LabPiButtonState(true, 8), await lab.PiButton.SetAsync(pressed: true).Within());
        Assert.Equal(new LabPiButtonState(false, 8), await lab.PiButton.SetAsync(pressed: false, TestTimeouts.Short).Within());

        // Without --NAME-replay a simulator that can replay reports nothing, and Get-LabReplayReport lists nothing.
        Assert.Null(await lab.ReplayReportAsync(GatewayLabClient.Name).Within());
        Assert.Empty(await LabReplay.GetReportsAsync(lab, null, CancellationToken.None).Within());
    }
}
