using System.Management.Automation;
using DeviceShell.Commands;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Sessions;
using DeviceShell.Testing;

namespace DeviceShell.Cmdlets.Tests.Bricks;

/// <summary>Start-DeviceLab -Brick (a real Lab process) driven by Add-/Remove-LabBrickDevice, seen through a Brick session.</summary>
[Collection(RegistryCollection.Name)]
public class LabBrickCmdletTests
{
    [Fact]
    public async Task Plugging_and_unplugging_through_the_lab_reaches_connected_clients()
    {
        var start = CmdletHarness.Invoke(new StartDeviceLabCommand(), ("Brick", true), ("BrickSecret", BrickCmdletTests.Secure("lab-secret")));
        Assert.Null(start.TerminatingError);
        var lab = Assert.IsType<DeviceLab>(Assert.Single(start.Objects));
        await using (lab)
        {
            // The secret reaches the lab through its environment, never its command line (which other users can read).
            if (OperatingSystem.IsLinux())
                Assert.DoesNotContain("lab-secret", await File.ReadAllTextAsync($"/proc/{lab.ProcessId}/cmdline"), StringComparison.Ordinal);
            var endpoint = lab["brick"]!;
            var connect = CmdletHarness.Invoke(new ConnectBrickCommand(), ("HostName", endpoint.Host), ("Port", endpoint.Port), ("Secret", BrickCmdletTests.Secure("lab-secret")));
            var session = Assert.IsType<BrickSession>(Assert.Single(connect.Objects));
            try
            {
                var add = CmdletHarness.Invoke(new AddLabBrickDeviceCommand(), ("Lab", lab), ("Uid", "NewT"), ("DeviceIdentifier", 216), ("Position", "h"), ("PassThru", true));
                Assert.Empty(add.Errors);
                Assert.Equal(("NewT", 'h', "6qY"), (Assert.IsType<BrickDevice>(Assert.Single(add.Objects)).Uid, ((BrickDevice)add.Objects[0]).Position, ((BrickDevice)add.Objects[0]).ConnectedUid));

                var plugged = CmdletHarness.Invoke(new ReceiveBrickCallbackCommand(), ("Session", session), ("Kind", new[] { "Enumerate" }), ("Count", 1), ("TimeoutSec", 5));
                var announced = Assert.IsType<BrickEvent>(Assert.Single(plugged.Objects));
                Assert.Equal(("NewT", BrickEnumerationType.Connected), (announced.Uid!, announced.Device!.EnumerationType!.Value));
                var temperature = CmdletHarness.Invoke(new GetBrickTemperatureCommand(), ("Session", session), ("Uid", new[] { "NewT" }));
                Assert.Equal("Temperature Bricklet", Assert.IsType<BrickReading>(Assert.Single(temperature.Objects)).DeviceName);

                var duplicate = CmdletHarness.Invoke(new AddLabBrickDeviceCommand(), ("Lab", lab), ("Uid", "NewT"), ("DeviceIdentifier", 216));
                Assert.Equal("LabCommandRefused", duplicate.Errors.Single().FullyQualifiedErrorId);

                var remove = CmdletHarness.Invoke(new RemoveLabBrickDeviceCommand(), ("Lab", lab), ("Uid", new[] { "NewT" }));
                Assert.Empty(remove.Errors);
                var unplugged = CmdletHarness.Invoke(new ReceiveBrickCallbackCommand(), ("Session", session), ("Kind", new[] { "Enumerate" }), ("Count", 1), ("TimeoutSec", 5));
                Assert.Equal(BrickEnumerationType.Disconnected, Assert.IsType<BrickEvent>(Assert.Single(unplugged.Objects)).Device!.EnumerationType);

                var whatIf = CmdletHarness.Invoke(new RemoveLabBrickDeviceCommand(), new Dictionary<string, object?> { ["Lab"] = lab, ["Uid"] = new[] { "4ER" } }, whatIf: true);
                Assert.Empty(whatIf.Errors);
                Assert.Single(whatIf.ShouldProcessCalls);
            }
            finally
            {
                await session.DisposeAsync();
            }
        }
    }

    [Fact]
    public void Without_a_brick_lab_the_lab_cmdlets_say_so()
    {
        if (DeviceLab.Running.Any(l => l["brick"] is not null)) return; // another lab of this process is up: nothing to check
        var run = CmdletHarness.Invoke(new RemoveLabBrickDeviceCommand(), ("Uid", new[] { "4ER" }));
        Assert.Equal(("LabNotFound", ErrorCategory.ObjectNotFound), (run.Errors.Single().FullyQualifiedErrorId, run.Errors.Single().CategoryInfo.Category));
    }
}
