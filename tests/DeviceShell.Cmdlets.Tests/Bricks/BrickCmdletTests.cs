using System.Management.Automation;
using System.Security;
using DeviceShell.Commands;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Bricks;
using DeviceShell.Lab.Hosting;
using DeviceShell.Testing;

namespace DeviceShell.Cmdlets.Tests.Bricks;

/// <summary>The Brick cmdlets through the harness against the in-process Brick Daemon simulator on loopback.</summary>
[Collection(RegistryCollection.Name)]
public sealed class BrickCmdletTests : IAsyncLifetime
{
    private BrickDaemonSimulator _daemon = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _daemon = new BrickDaemonSimulator();
        _port = (await _daemon.StartAsync(LabSimulatorOptions.Loopback(), CancellationToken.None).WaitAsync(TestSupport.Short)).Port;
    }

    public async Task DisposeAsync()
    {
        foreach (var session in SessionRegistry.Shared.List(DeviceWorld.Brick)) await session.DisposeAsync();
        await _daemon.DisposeAsync();
    }

    private BrickSession Connect(params (string Name, object? Value)[] extra)
    {
        var parameters = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase) { ["HostName"] = "127.0.0.1", ["Port"] = _port };
        foreach (var (name, value) in extra) parameters[name] = value;
        var run = CmdletHarness.Invoke(new ConnectBrickCommand(), parameters);
        Assert.Null(run.TerminatingError);
        return Assert.IsType<BrickSession>(Assert.Single(run.Objects));
    }

    internal static SecureString Secure(string text)
    {
        var secure = new SecureString();
        foreach (char c in text) secure.AppendChar(c);
        return secure;
    }

    [Fact]
    public void Connect_registers_the_default_session_and_Disconnect_removes_it()
    {
        var session = Connect(("TimeoutSec", 0.5), ("NoAutoReconnect", true));
        Assert.Same(session, SessionRegistry.Shared.GetDefault(DeviceWorld.Brick));
        Assert.Equal(TimeSpan.FromSeconds(0.5), session.Timeout);
        Assert.False(session.AutoReconnect);

        var enumeration = CmdletHarness.Invoke(new GetBrickEnumerationCommand(), ("WaitSec", 2));
        Assert.Equal(6, enumeration.Objects.Count);
        Assert.Contains(enumeration.Progress, p => p.RecordType == ProgressRecordType.Completed);

        var disconnect = CmdletHarness.Invoke(new DisconnectBrickCommand(), ("PassThru", true));
        Assert.Same(session, Assert.Single(disconnect.Objects));
        Assert.Equal(DeviceSessionState.Closed, session.State);
        Assert.Null(SessionRegistry.Shared.GetDefault(DeviceWorld.Brick));

        var none = CmdletHarness.Invoke(new GetBrickEnumerationCommand());
        Assert.Equal("SessionNotFound", none.TerminatingError!.FullyQualifiedErrorId);
    }

    [Fact]
    public async Task Connect_failures_are_clear_terminating_errors()
    {
        await _daemon.DisposeAsync();
        var closed = CmdletHarness.Invoke(new ConnectBrickCommand(), ("HostName", "127.0.0.1"), ("Port", _port));
        Assert.Equal(("ConnectionFailed", ErrorCategory.ConnectionError), (closed.TerminatingError!.FullyQualifiedErrorId, closed.TerminatingError.CategoryInfo.Category));
        Assert.Empty(SessionRegistry.Shared.List(DeviceWorld.Brick));
    }

    [Fact]
    public async Task Secrets_are_checked_and_a_wrong_one_is_an_authentication_error()
    {
        await using var guarded = new BrickDaemonSimulator { Secret = "letmein" };
        int port = (await guarded.StartAsync(LabSimulatorOptions.Loopback(), CancellationToken.None)).Port;

        var wrong = CmdletHarness.Invoke(new ConnectBrickCommand(), ("HostName", "127.0.0.1"), ("Port", port), ("Secret", Secure("nope")));
        Assert.Equal(("AuthenticationFailed", ErrorCategory.AuthenticationError), (wrong.TerminatingError!.FullyQualifiedErrorId, wrong.TerminatingError.CategoryInfo.Category));
        var nonAscii = CmdletHarness.Invoke(new ConnectBrickCommand(), ("HostName", "127.0.0.1"), ("Port", port), ("Secret", Secure("lét")));
        Assert.Equal(("NonAsciiSecret", ErrorCategory.InvalidArgument), (nonAscii.TerminatingError!.FullyQualifiedErrorId, nonAscii.TerminatingError.CategoryInfo.Category));
        Assert.Empty(SessionRegistry.Shared.List(DeviceWorld.Brick));

        var right = CmdletHarness.Invoke(new ConnectBrickCommand(), ("HostName", "127.0.0.1"), ("Port", port), ("Secret", Secure("letmein")));
        var session = Assert.IsType<BrickSession>(Assert.Single(right.Objects));
        Assert.DoesNotContain(right.Verbose, v => v.Contains("letmein", StringComparison.Ordinal));
        var identity = CmdletHarness.Invoke(new GetBrickIdentityCommand(), ("Session", session), ("Uid", new[] { "6qY" }));
        Assert.Equal("Master Brick", Assert.IsType<BrickDevice>(Assert.Single(identity.Objects)).DeviceName);
    }

    [Fact]
    public void Enumeration_pipes_into_Get_BrickIdentity_and_feeds_the_Uid_completer()
    {
        var session = Connect();
        var devices = CmdletHarness.Invoke(new GetBrickEnumerationCommand(), ("Session", session), ("WaitSec", 2)).Objects;
        var identities = CmdletHarness.Invoke(new GetBrickIdentityCommand(), new Dictionary<string, object?> { ["Session"] = session }, input: devices);
        Assert.Empty(identities.Errors);
        Assert.Equal(devices.Cast<BrickDevice>().Select(d => d.Uid).Order(), identities.Objects.Cast<BrickDevice>().Select(d => d.Uid).Order());
        Assert.All(identities.Objects.Cast<BrickDevice>(), d => Assert.Null(d.EnumerationType));

        var completions = new BrickUidCompleter().CompleteArgument("Get-BrickIdentity", "Uid", "4", null!, new System.Collections.Hashtable()).ToList();
        Assert.Equal("'4ER'", Assert.Single(completions).CompletionText);
        Assert.Contains("Temperature Bricklet 2.0", completions[0].ToolTip, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Piped_devices_carry_their_session_even_when_another_is_the_default()
    {
        var first = Connect();
        await using var other = new BrickDaemonSimulator(new[] { SimulatedDevices.Create(13, "Xth", "0", '0') });
        int otherPort = (await other.StartAsync(LabSimulatorOptions.Loopback(), CancellationToken.None)).Port;
        var second = Assert.IsType<BrickSession>(Assert.Single(CmdletHarness.Invoke(new ConnectBrickCommand(), ("HostName", "127.0.0.1"), ("Port", otherPort), ("TimeoutSec", 0.3)).Objects));
        Assert.Same(second, SessionRegistry.Shared.GetDefault(DeviceWorld.Brick));

        var devices = CmdletHarness.Invoke(new GetBrickEnumerationCommand(), ("Session", first), ("WaitSec", 2)).Objects;
        var identities = CmdletHarness.Invoke(new GetBrickIdentityCommand(), input: devices);
        Assert.Empty(identities.Errors);
        Assert.Equal(6, identities.Objects.Count);
        Assert.All(identities.Objects.Cast<BrickDevice>(), d => Assert.Same(first, d.Session));
    }

    [Fact]
    public void Bad_uids_and_silent_devices_are_per_item_errors_and_the_session_goes_on()
    {
        var session = Connect(("TimeoutSec", 0.3));
        var run = CmdletHarness.Invoke(new GetBrickIdentityCommand(), ("Session", session), ("Uid", new[] { "0Il", "zzz", "4ER" }));
        Assert.Equal(new[] { "InvalidUid", "RequestTimeout" }, run.Errors.Select(e => e.FullyQualifiedErrorId));
        Assert.Equal(new[] { ErrorCategory.InvalidArgument, ErrorCategory.OperationTimeout }, run.Errors.Select(e => e.CategoryInfo.Category));
        Assert.Equal("4ER", Assert.IsType<BrickDevice>(Assert.Single(run.Objects)).Uid);
    }

    [Fact]
    public void Invoke_BrickFunction_calls_raw_functions_and_maps_error_codes()
    {
        var session = Connect();
        var ok = CmdletHarness.Invoke(new InvokeBrickFunctionCommand(), ("Session", session), ("Uid", "4ER"), ("FunctionId", 1), ("ResponseExpected", true));
        var response = Assert.IsType<BrickResponse>(Assert.Single(ok.Objects));
        Assert.Equal((2, (byte)1, (byte)0), (response.Payload.Length, response.FunctionId, response.ErrorCode));
        Assert.Contains(ok.Verbose, v => v.Contains("fid 1", StringComparison.Ordinal));

        var unsupported = CmdletHarness.Invoke(new InvokeBrickFunctionCommand(), ("Session", session), ("Uid", "4ER"), ("FunctionId", 77), ("ResponseExpected", true));
        Assert.Equal(("FunctionNotSupported", ErrorCategory.NotImplemented), (unsupported.Errors.Single().FullyQualifiedErrorId, unsupported.Errors.Single().CategoryInfo.Category));

        var setter = CmdletHarness.Invoke(new InvokeBrickFunctionCommand(), ("Session", session), ("Uid", "23Qx"), ("FunctionId", 1), ("Payload", new byte[] { 1, 2, 3 }));
        Assert.Empty(setter.Objects);
        Assert.Empty(setter.Errors);

        var whatIf = CmdletHarness.Invoke(new InvokeBrickFunctionCommand(), new Dictionary<string, object?> { ["Session"] = session, ["Uid"] = "23Qx", ["FunctionId"] = 1, ["Payload"] = new byte[] { 9, 9, 9 } }, whatIf: true);
        Assert.Single(whatIf.ShouldProcessCalls);
        var color = CmdletHarness.Invoke(new InvokeBrickFunctionCommand(), ("Session", session), ("Uid", "23Qx"), ("FunctionId", 2), ("ResponseExpected", true));
        Assert.Equal(new byte[] { 1, 2, 3 }, Assert.IsType<BrickResponse>(Assert.Single(color.Objects)).Payload);
    }

    [Fact]
    public void Receive_BrickCallback_streams_filtered_callbacks_and_forwards_to_the_event_queue()
    {
        var session = Connect();
        // Temperature 2.0 callback configuration: period 10 ms, value need not change, no threshold.
        var configure = CmdletHarness.Invoke(new InvokeBrickFunctionCommand(), ("Session", session), ("Uid", "4ER"), ("FunctionId", 2),
            ("Payload", new byte[] { 10, 0, 0, 0, 0, (byte)'x', 0, 0, 0, 0 }), ("ResponseExpected", true));
        Assert.Empty(configure.Errors);

        var run = CmdletHarness.Invoke(new ReceiveBrickCallbackCommand(), ("Session", session), ("Kind", new[] { "Callback" }), ("Uid", new[] { "4ER" }), ("Count", 3), ("TimeoutSec", 5));
        Assert.Equal(3, run.Objects.Count);
        Assert.All(run.Objects.Cast<BrickEvent>(), e => Assert.Equal((BrickEventKind.Callback, "4ER", (byte)4), (e.Kind, e.Uid!, e.FunctionId)));

        var forwarded = CmdletHarness.Invoke(new ReceiveBrickCallbackCommand(), ("Session", session), ("Kind", new[] { "Callback" }), ("Count", 2), ("TimeoutSec", 5), ("SourceIdentifier", "temps"));
        Assert.Empty(forwarded.Objects);
        Assert.Equal(2, forwarded.Events.ReceivedEvents.Count);
        Assert.All(forwarded.Events.ReceivedEvents, e => Assert.Equal("temps", e.SourceIdentifier));
    }

    [Fact]
    public void Set_BrickSession_changes_timeout_and_auto_reconnect()
    {
        var session = Connect();
        var run = CmdletHarness.Invoke(new SetBrickSessionCommand(), ("Session", session), ("TimeoutSec", 0.25), ("AutoReconnect", false), ("PassThru", true));
        Assert.Same(session, Assert.Single(run.Objects));
        Assert.Equal((TimeSpan.FromSeconds(0.25), false), (session.Timeout, session.AutoReconnect));
        Assert.Single(run.ShouldProcessCalls);
        CmdletHarness.Invoke(new SetBrickSessionCommand(), ("Session", session), ("AutoReconnect", true));
        Assert.True(session.AutoReconnect);
    }

    [Fact]
    public void Topology_and_typed_temperature_and_the_catalogue()
    {
        var session = Connect();
        var nodes = CmdletHarness.Invoke(new GetBrickTopologyCommand(), ("Session", session), ("WaitSec", 2)).Objects.Cast<BrickNode>().ToList();
        Assert.Equal(("6qY", 0), (nodes[0].Uid, nodes[0].Depth));
        Assert.Equal(5, nodes[0].Children.Count);
        Assert.All(nodes.Skip(1), n => Assert.Equal(1, n.Depth));
        Assert.StartsWith("  └─ [a] Temperature Bricklet 2.0", nodes[1].Tree, StringComparison.Ordinal);

        var temperature = CmdletHarness.Invoke(new GetBrickTemperatureCommand(), ("Session", session), ("Uid", new[] { "4ER", "6qY", "Pdw" }));
        Assert.Equal(new[] { "4ER", "6qY" }, temperature.Objects.Cast<BrickReading>().Select(r => r.Uid));
        Assert.Equal("WrongDeviceType", temperature.Errors.Single().FullyQualifiedErrorId);

        var master = CmdletHarness.Invoke(new GetBrickDeviceTypeCommand(), ("Identifier", new[] { 13, 9999 }));
        Assert.Equal("Master Brick", Assert.IsType<BrickDeviceType>(Assert.Single(master.Objects)).Name);
        Assert.Equal(("UnknownDeviceIdentifier", ErrorCategory.ObjectNotFound), (master.Errors.Single().FullyQualifiedErrorId, master.Errors.Single().CategoryInfo.Category));
        var byName = CmdletHarness.Invoke(new GetBrickDeviceTypeCommand(), ("Name", "temperature*"));
        Assert.Equal(new[] { 216, 217, 291, 2113 }, byName.Objects.Cast<BrickDeviceType>().Select(t => t.Identifier).Order());
    }
}
