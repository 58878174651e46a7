using System.Management.Automation;

namespace DeviceShell.Cmdlets.Tests.Bricks;

/// <summary>Start-DeviceLab -Brick (a real Lab process) driven by Add-/Remove-LabBrickDevice, seen through a Brick session.</summary>
[Collection(RegistryCollection.Name)]
public sealed class LabBrickCmdletTests(ModuleRunspace shell) : IClassFixture<ModuleRunspace>
{
    [Fact]
    public async Task Plugging_and_unplugging_through_the_lab_reaches_connected_clients()
    {
        using var lab = new RunningLab(shell, "-Brick -BrickSecret $Secret", ("Secret", BrickCmdletTests.Secure("lab-secret")));
        // The secret reaches the lab through its environment, never its command line (which other users can read).
        if (OperatingSystem.IsLinux())
            Assert.DoesNotContain("lab-secret", await File.ReadAllTextAsync($"/proc/{lab.Lab.Get("ProcessId")}/cmdline"), StringComparison.Ordinal);
        var session = shell.Single("Connect-Brick 127.0.0.1 $Port -Secret $Secret", ("Port", lab.Port("brick")), ("Secret", BrickCmdletTests.Secure("lab-secret")));
        try
        {
            var added = shell.Single("Add-LabBrickDevice -Lab $Lab -Uid NewT -DeviceIdentifier 216 -Position h -PassThru", ("Lab", lab.Lab));
            Assert.Equal(("NewT", "h", "6qY"), (added.Text("Uid"), added.Text("Position"), added.Text("ConnectedUid")));

            var announced = shell.Single("Receive-BrickCallback -Session $Session -Kind Enumerate -Count 1 -TimeoutSec 5", ("Session", session));
            Assert.Equal(("NewT", "Connected"), (announced.Text("Uid"), PSObject.AsPSObject(announced.Get("Device")!).Text("EnumerationType")));
            var temperature = shell.Single("Get-BrickTemperature -Session $Session -Uid NewT", ("Session", session));
            Assert.Equal("Temperature Bricklet", temperature.Get("DeviceName"));

            var duplicate = shell.Run("Add-LabBrickDevice -Lab $Lab -Uid NewT -DeviceIdentifier 216", ("Lab", lab.Lab));
            PowerShellAssert.Error("LabCommandRefused", ErrorCategory.InvalidArgument, Assert.Single(duplicate.Errors));

            shell.Run("Remove-LabBrickDevice -Lab $Lab -Uid NewT", ("Lab", lab.Lab)).AssertNoErrors();
            var unplugged = shell.Single("Receive-BrickCallback -Session $Session -Kind Enumerate -Count 1 -TimeoutSec 5", ("Session", session));
            Assert.Equal("Disconnected", PSObject.AsPSObject(unplugged.Get("Device")!).Text("EnumerationType"));

            var whatIf = shell.Run("Remove-LabBrickDevice -Lab $Lab -Uid 4ER -WhatIf", ("Lab", lab.Lab));
            whatIf.AssertNoErrors();
            Assert.Single(whatIf.WhatIf);
            Assert.Contains("4ER", shell.Run("Get-BrickEnumeration -Session $Session -WaitSec 1", ("Session", session)).Values("Uid"));
        }
        finally
        {
            shell.Run("Disconnect-Brick -Session $Session", ("Session", session)).AssertNoErrors();
        }
    }

    [Fact]
    public void Without_a_brick_lab_the_lab_cmdlets_say_so()
    {
        // Every test that starts a lab runs in this collection and stops it, so none is running now.
        var run = shell.Run("Remove-LabBrickDevice -Uid 4ER");
        PowerShellAssert.Error("LabNotFound", ErrorCategory.ObjectNotFound, Assert.Single(run.Errors));
    }
}
