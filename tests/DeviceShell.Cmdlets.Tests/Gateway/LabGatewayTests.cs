using System.Management.Automation;

namespace DeviceShell.Cmdlets.Tests.Gateway;

/// <summary>Start-DeviceLab -Gateway as a real Lab process, driven with Add-LabGatewayDevice and reached with Connect-Gateway.</summary>
public sealed class LabGatewayTests(ModuleRunspace shell) : IClassFixture<ModuleRunspace>
{
    [Fact]
    public void Lab_gateway_announces_its_CA_and_takes_new_devices()
    {
        using var lab = new RunningLab(shell, "-Gateway");
        var endpoint = lab.Endpoint("gateway");
        Assert.True(File.Exists(endpoint.Text("CaCertificate")), "the gateway endpoint names its CA file");
        // 30 s: the first call into a freshly started Lab took over 10 s (the default) at load 50; no test here measures it.
        var session = shell.Single("Connect-Gateway -HostName $Endpoint.Host -Port $Endpoint.Port -CaCertificate $Endpoint.CaCertificate -TimeoutSec 30", ("Endpoint", endpoint));
        try
        {
            var add = "Add-LabGatewayDevice -Lab $Lab -DeviceId 700001 -IPAddress 192.168.0.140 -Type XPASS2 -DeviceToServer";
            Assert.Single(shell.Run(add + " -WhatIf", ("Lab", lab.Lab)).WhatIf);
            shell.Run(add, ("Lab", lab.Lab)).AssertNoErrors();

            PSObject? pending = null;
            Eventually.TrueBlocking(() => (pending = shell.Run("Get-GatewayPendingDevice -Session $Session | Where-Object DeviceId -eq 700001", ("Session", session)).Objects.ElementAtOrDefault(0)) is not null,
                what: "device 700001 to knock");
            Assert.NotNull(pending);
            Assert.Equal(("Xpass2", "192.168.0.140"), (pending!.Text("Type"), pending.Text("IPAddress")));

            var refused = shell.Run("Add-LabGatewayDevice -Lab $Lab -DeviceId 700002 -IPAddress 192.168.0.141 -Type TOASTER", ("Lab", lab.Lab));
            PowerShellAssert.Error("LabCommandRefused", ErrorCategory.InvalidArgument, Assert.Single(refused.Errors));

            // Remove is the undo of Add: the device is no longer on the subnet the gateway searches.
            const string search = "Find-GatewayDevice -Session $Session -TimeoutSec 0.2 | Where-Object DeviceId -eq 700001";
            Assert.Single(shell.Run(search, ("Session", session)).Objects);
            shell.Run("Remove-LabGatewayDevice -Lab $Lab -DeviceId 700001 -Confirm:$false", ("Lab", lab.Lab)).AssertNoErrors();
            Assert.Empty(shell.Run(search, ("Session", session)).Objects);
            var unknown = shell.Run("Remove-LabGatewayDevice -Lab $Lab -DeviceId 123 -Confirm:$false", ("Lab", lab.Lab));
            PowerShellAssert.Error("LabCommandRefused", ErrorCategory.InvalidArgument, Assert.Single(unknown.Errors));
        }
        finally
        {
            shell.Run("Disconnect-Gateway -Session $Session", ("Session", session)).AssertNoErrors();
        }
    }
}
