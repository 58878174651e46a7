using System.Management.Automation;
using DeviceShell.Commands;
using DeviceShell.Engine.Sessions;
using DeviceShell.Testing;

namespace DeviceShell.Cmdlets.Tests.Sessions;

[Collection(RegistryCollection.Name)]
public class GetDeviceSessionTests
{
    [Fact]
    public async Task Lists_open_sessions_and_filters_by_world()
    {
        await using var brick = SessionRegistry.Shared.Add(new TestSupport.PlainSession(DeviceWorld.Brick));
        await using var webifi = SessionRegistry.Shared.Add(new TestSupport.PlainSession(DeviceWorld.Webifi));

        var all = CmdletHarness.Invoke(new GetDeviceSessionCommand());
        Assert.Contains(brick, all.Objects);
        Assert.Contains(webifi, all.Objects);

        var bricks = CmdletHarness.Invoke(new GetDeviceSessionCommand(), ("World", "Brick"));
        Assert.Contains(brick, bricks.Objects);
        Assert.DoesNotContain(webifi, bricks.Objects);
        Assert.Empty(bricks.Errors);
    }

    [Fact]
    public async Task By_id_finds_the_session_and_reports_unknown_ids_as_ObjectNotFound()
    {
        await using var session = SessionRegistry.Shared.Add(new TestSupport.PlainSession(DeviceWorld.PiLink));
        var run = CmdletHarness.Invoke(new GetDeviceSessionCommand(), ("Id", new[] { session.Id, 999_999 }));
        Assert.Equal("Id", run.ParameterSetName);
        Assert.Equal(new object[] { session }, run.Objects);
        var error = Assert.Single(run.Errors);
        Assert.Equal("SessionNotFound", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal(999_999, error.TargetObject);
    }

    [Fact]
    public async Task A_closed_session_is_no_longer_listed()
    {
        var session = SessionRegistry.Shared.Add(new TestSupport.PlainSession(DeviceWorld.Gateway));
        await session.DisposeAsync();
        var run = CmdletHarness.Invoke(new GetDeviceSessionCommand());
        Assert.DoesNotContain(session, run.Objects);
    }

    [Fact]
    public void An_invalid_id_fails_binding_like_PowerShell_does()
    {
        Assert.Throws<ParameterBindingException>(() => CmdletHarness.Invoke(new GetDeviceSessionCommand(), ("Id", 0)));
    }
}
