using System.Management.Automation;

namespace DeviceShell.Cmdlets.Tests.Sessions;

/// <summary>Get-DeviceSession over the process-wide registry, with Pi link servers as sessions that need no simulator.</summary>
[Collection(RegistryCollection.Name)]
public sealed class GetDeviceSessionTests(ModuleRunspace shell) : IClassFixture<ModuleRunspace>
{
    [Fact]
    public void Lists_open_sessions_and_filters_by_world()
    {
        var server = shell.Single("Start-PiLinkServer -Port 0");
        try
        {
            var all = shell.Run("Get-DeviceSession");
            Assert.Contains(server.Get("Id"), all.Values("Id"));
            PowerShellAssert.HasType("DeviceShell.Engine.Sessions.DeviceSession", all.Objects[0]);

            var piLink = shell.Run("Get-DeviceSession PiLink");
            Assert.Contains(server.Get("Id"), piLink.Values("Id"));
            var bricks = shell.Run("Get-DeviceSession -World Brick");
            bricks.AssertNoErrors();
            Assert.DoesNotContain(server.Get("Id"), bricks.Values("Id"));
        }
        finally
        {
            shell.Run("$Server | Stop-PiLinkServer", ("Server", server)).AssertNoErrors();
        }
    }

    [Fact]
    public void By_id_finds_the_session_and_reports_unknown_ids_as_ObjectNotFound()
    {
        var server = shell.Single("Start-PiLinkServer -Port 0");
        try
        {
            var run = shell.Run("Get-DeviceSession -Id $Id, 999999", ("Id", server.Get("Id")));
            Assert.Equal(new[] { server.Get("Id") }, run.Values("Id"));
            var error = Assert.Single(run.Errors);
            PowerShellAssert.Error("SessionNotFound", ErrorCategory.ObjectNotFound, error);
            Assert.Equal(999_999, error.TargetObject);

            // -Id binds by property name, so a session object finds itself.
            Assert.Equal(server.Get("Id"), shell.Single("$Server | Get-DeviceSession", ("Server", server)).Get("Id"));
        }
        finally
        {
            shell.Run("$Server | Stop-PiLinkServer", ("Server", server)).AssertNoErrors();
        }
    }

    [Fact]
    public void A_closed_session_is_no_longer_listed()
    {
        var server = shell.Single("Start-PiLinkServer -Port 0");
        shell.Run("$Server | Stop-PiLinkServer", ("Server", server)).AssertNoErrors();
        Assert.DoesNotContain(server.Get("Id"), shell.Run("Get-DeviceSession").Values("Id"));
    }

    [Fact]
    public void An_invalid_id_fails_binding_like_PowerShell_does()
    {
        var run = shell.Run("Get-DeviceSession -Id 0");
        PowerShellAssert.Error("ParameterArgumentValidationError", ErrorCategory.InvalidData, run.TerminatingError);
    }
}
