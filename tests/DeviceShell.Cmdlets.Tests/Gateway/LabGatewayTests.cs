using System.Management.Automation;
using DeviceShell.Commands;
using DeviceShell.Engine.Gateway;
using DeviceShell.Engine.Lab;
using DeviceShell.Testing;

namespace DeviceShell.Cmdlets.Tests.Gateway;

/// <summary>Start-DeviceLab -Gateway as a real Lab process, driven with Add-LabGatewayDevice and reached with Connect-Gateway.</summary>
public sealed class LabGatewayTests
{
    [Fact]
    public void Lab_gateway_announces_its_CA_and_takes_new_devices()
    {
        var start = CmdletHarness.Invoke(new StartDeviceLabCommand(), ("Gateway", true));
        Assert.Null(start.TerminatingError);
        var lab = Assert.IsType<DeviceLab>(Assert.Single(start.Objects));
        GatewaySession? session = null;
        try
        {
            var endpoint = lab["gateway"]!;
            Assert.True(File.Exists(endpoint.CaCertificate), "the gateway endpoint names its CA file");
            var connect = CmdletHarness.Invoke(new ConnectGatewayCommand(), ("HostName", endpoint.Host), ("Port", endpoint.Port), ("CaCertificate", endpoint.CaCertificate));
            Assert.Null(connect.TerminatingError);
            session = Assert.IsType<GatewaySession>(Assert.Single(connect.Objects));

            var add = CmdletHarness.Invoke(new AddLabGatewayDeviceCommand(), ("Lab", lab), ("DeviceId", new[] { 700001u }), ("IPAddress", new[] { "192.168.0.140" }),
                ("Type", "XPASS2"), ("DeviceToServer", true));
            Assert.Empty(add.Errors);
            Assert.Single(add.ShouldProcessCalls);

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            GatewayPendingDevice? pending = null;
            while (pending is null && DateTime.UtcNow < deadline)
            {
                pending = CmdletHarness.Invoke(new GetGatewayPendingDeviceCommand(), ("Session", session)).Objects.Cast<GatewayPendingDevice>().FirstOrDefault(p => p.DeviceId == 700001);
                if (pending is null) Thread.Sleep(100);
            }
            Assert.NotNull(pending);
            Assert.Equal((GatewayDeviceType.Xpass2, "192.168.0.140"), (pending!.Type, pending.IPAddress));

            var refused = CmdletHarness.Invoke(new AddLabGatewayDeviceCommand(), ("Lab", lab), ("DeviceId", new[] { 700002u }), ("IPAddress", new[] { "192.168.0.141" }), ("Type", "TOASTER"));
            var error = Assert.Single(refused.Errors);
            Assert.Equal(("LabCommandRefused", ErrorCategory.InvalidArgument), (error.FullyQualifiedErrorId, error.CategoryInfo.Category));
        }
        finally
        {
            if (session is not null) CmdletHarness.Invoke(new DisconnectGatewayCommand(), ("Session", session));
            CmdletHarness.Invoke(new StopDeviceLabCommand(), ("Lab", lab));
        }
    }
}
