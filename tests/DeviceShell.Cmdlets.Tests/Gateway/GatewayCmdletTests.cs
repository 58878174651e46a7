using System.Management.Automation;
using DeviceShell.Commands;
using DeviceShell.Engine.Gateway;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Gateway;
using DeviceShell.Lab.Hosting;
using DeviceShell.Testing;

namespace DeviceShell.Cmdlets.Tests.Gateway;

/// <summary>The Gateway cmdlets through the harness, against the gateway simulator over TLS on loopback, always with -Session.</summary>
public sealed class GatewayCmdletTests : IAsyncLifetime
{
    private readonly GatewaySimulator _simulator = new() { ReconnectInterval = TimeSpan.FromMilliseconds(100) };
    private LabSimulatorEndpoint _endpoint = null!;
    private GatewaySession _session = null!;

    public async Task InitializeAsync()
    {
        _endpoint = await _simulator.StartAsync(LabSimulatorOptions.Loopback(), CancellationToken.None).WaitAsync(TestSupport.Short);
        var run = CmdletHarness.Invoke(new ConnectGatewayCommand(), ("HostName", "127.0.0.1"), ("Port", _endpoint.Port), ("CaCertificate", _endpoint.CaCertificate), ("TimeoutSec", 5.0));
        Assert.Null(run.TerminatingError);
        _session = Assert.IsType<GatewaySession>(Assert.Single(run.Objects));
    }

    public async Task DisposeAsync()
    {
        CmdletHarness.Invoke(new DisconnectGatewayCommand(), ("Session", _session));
        Assert.Equal(DeviceSessionState.Closed, _session.State);
        await _simulator.DisposeAsync().AsTask().WaitAsync(TestSupport.Short);
    }

    [Fact]
    public void Find_piped_into_Add_async_connection_connects_the_devices()
    {
        var search = CmdletHarness.Invoke(new FindGatewayDeviceCommand(), ("Session", _session), ("TimeoutSec", 0.2));
        Assert.Contains("SearchDevice(timeout = 200 ms)", string.Join("\n", search.Verbose));
        var found = search.Objects.Cast<GatewaySearchResult>().Where(d => d.ConnectionMode == GatewayConnectionMode.ServerToDevice).ToArray();
        Assert.Equal(3, found.Length);
        var add = CmdletHarness.Invoke(new AddGatewayAsyncConnectionCommand(), new Dictionary<string, object?> { ["Session"] = _session, ["PassThru"] = true }, input: found);
        Assert.Empty(add.Errors);
        Assert.Equal(3, add.ShouldProcessCalls.Count);
        Assert.Equal(3, add.Objects.Count);
        var connected = WaitForDevices(d => d.Status == GatewayDeviceStatus.TcpConnected && d.AutoReconnect, 3);
        Assert.Equal(found.Select(f => f.DeviceId).Order(), connected.Select(d => d.DeviceId).Order());

        var status = CmdletHarness.Invoke(new ReceiveGatewayStatusCommand(), ("Session", _session), ("Count", 3), ("TimeoutSec", 5.0));
        Assert.Equal(3, status.Objects.Cast<GatewayStatusChange>().Count(c => c.Status == GatewayDeviceStatus.TcpConnected));
    }

    [Fact]
    public void Long_search_shows_progress_and_Ctrl_C_stops_it()
    {
        var search = CmdletHarness.Invoke(new FindGatewayDeviceCommand(), ("Session", _session), ("TimeoutSec", 1.3));
        Assert.Equal(4, search.Objects.Count);
        Assert.NotEmpty(search.Progress);
        Assert.Equal(ProgressRecordType.Completed, search.Progress[^1].RecordType);

        using var stop = new CancellationTokenSource(300);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var stopped = CmdletHarness.Invoke(new FindGatewayDeviceCommand(), new Dictionary<string, object?> { ["Session"] = _session, ["TimeoutSec"] = 10.0 }, stop: stop.Token);
        Assert.True(stopped.Stopped);
        Assert.True(watch.ElapsedMilliseconds < 3000, $"stopping took {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void Add_async_connection_checks_pairs_and_honours_WhatIf()
    {
        var mismatch = CmdletHarness.Invoke(new AddGatewayAsyncConnectionCommand(), ("Session", _session), ("DeviceId", new[] { 1u, 2u }), ("IPAddress", new[] { "10.0.0.1" }));
        Assert.Equal(("InvalidArgument", ErrorCategory.InvalidArgument), (Assert.Single(mismatch.Errors).FullyQualifiedErrorId, mismatch.Errors[0].CategoryInfo.Category));

        var whatIf = CmdletHarness.Invoke(new AddGatewayAsyncConnectionCommand(), new Dictionary<string, object?>
        {
            ["Session"] = _session, ["DeviceId"] = new[] { 546835041u }, ["IPAddress"] = new[] { "192.168.0.104" },
        }, whatIf: true);
        Assert.Single(whatIf.ShouldProcessCalls);
        Assert.Empty(CmdletHarness.Invoke(new GetGatewayDeviceCommand(), ("Session", _session)).Objects);
    }

    [Fact]
    public void Pending_device_piped_into_Set_AcceptFilter_Add_is_admitted()
    {
        Thread.Sleep(250);
        var pending = CmdletHarness.Invoke(new GetGatewayPendingDeviceCommand(), ("Session", _session)).Objects;
        Assert.Single(pending);
        var set = CmdletHarness.Invoke(new SetAcceptFilterCommand(), new Dictionary<string, object?> { ["Session"] = _session, ["Add"] = true, ["PassThru"] = true }, input: pending);
        Assert.Empty(set.Errors);
        var filter = Assert.IsType<GatewayAcceptFilter>(Assert.Single(set.Objects));
        Assert.Equal(new[] { ((GatewayPendingDevice)pending[0]).DeviceId }, filter.DeviceId);
        Assert.Single(WaitForDevices(d => d.ConnectionMode == GatewayConnectionMode.DeviceToServer && d.Status == GatewayDeviceStatus.TcpConnected, 1));

        var whatIf = CmdletHarness.Invoke(new SetAcceptFilterCommand(), new Dictionary<string, object?> { ["Session"] = _session, ["AllowAll"] = true }, whatIf: true);
        Assert.Single(whatIf.ShouldProcessCalls);
        Assert.False(Assert.IsType<GatewayAcceptFilter>(Assert.Single(CmdletHarness.Invoke(new GetAcceptFilterCommand(), ("Session", _session)).Objects)).AllowAll);
    }

    [Fact]
    public void Multi_call_with_one_bad_device_writes_one_error_record_for_it()
    {
        var connect = CmdletHarness.Invoke(new ConnectGatewayDeviceCommand(), ("Session", _session), ("IPAddress", new[] { "192.168.0.110", "192.168.0.99" }));
        var device = Assert.IsType<GatewayDevice>(Assert.Single(connect.Objects));
        var unreachable = Assert.Single(connect.Errors);
        Assert.Equal(("GatewayUnavailable", ErrorCategory.ConnectionError), (unreachable.FullyQualifiedErrorId, unreachable.CategoryInfo.Category));

        var ssl = CmdletHarness.Invoke(new EnableGatewayDeviceSslCommand(), ("Session", _session), ("DeviceId", new[] { device.DeviceId, 4242u }), ("PassThru", true));
        Assert.Equal(device.DeviceId, Assert.IsType<GatewayDevice>(Assert.Single(ssl.Objects)).DeviceId);
        var error = Assert.Single(ssl.Errors);
        Assert.Equal(("GatewayNotFound", ErrorCategory.ObjectNotFound, (object)4242u), (error.FullyQualifiedErrorId, error.CategoryInfo.Category, error.TargetObject));
        Assert.Null(ssl.TerminatingError);

        var mode = CmdletHarness.Invoke(new SetGatewayConnectionModeCommand(), ("Session", _session), ("DeviceId", new[] { device.DeviceId }), ("Mode", "DeviceToServer"));
        Assert.Empty(mode.Errors);
        Assert.Throws<ParameterBindingException>(() => CmdletHarness.Invoke(new SetGatewayConnectionModeCommand(), ("Session", _session), ("DeviceId", new[] { 1u }), ("Mode", "Sideways")));
    }

    [Fact]
    public void Unknown_device_and_missing_CA_file_fail_with_their_categories()
    {
        var disconnect = CmdletHarness.Invoke(new DisconnectGatewayDeviceCommand(), ("Session", _session), ("DeviceId", new[] { 999u }));
        Assert.Equal(("GatewayNotFound", ErrorCategory.ObjectNotFound), (disconnect.TerminatingError!.FullyQualifiedErrorId, disconnect.TerminatingError.CategoryInfo.Category));

        var missing = CmdletHarness.Invoke(new ConnectGatewayCommand(), ("HostName", "127.0.0.1"), ("Port", _endpoint.Port), ("CaCertificate", "no-such-ca.crt"));
        Assert.Equal(("CaCertificateNotFound", ErrorCategory.ObjectNotFound), (missing.TerminatingError!.FullyQualifiedErrorId, missing.TerminatingError.CategoryInfo.Category));
        Assert.Contains(Path.GetFullPath("no-such-ca.crt"), missing.TerminatingError.Exception.Message);
    }

    [Fact]
    public void Disconnect_all_and_slave_devices()
    {
        CmdletHarness.Invoke(new ConnectGatewayDeviceCommand(), ("Session", _session), ("IPAddress", new[] { "192.168.0.104" }));
        var set = CmdletHarness.Invoke(new SetGatewaySlaveDeviceCommand(), ("Session", _session), ("DeviceId", new[] { 546835041u }), ("Rs485SlaveDeviceId", new[] { 7u }));
        Assert.Empty(set.Errors);
        var slave = Assert.IsType<GatewaySlaveDevice>(Assert.Single(CmdletHarness.Invoke(new GetGatewaySlaveDeviceCommand(), ("Session", _session)).Objects));
        Assert.Equal(new[] { 7u }, slave.Rs485SlaveDeviceId);

        var all = CmdletHarness.Invoke(new DisconnectGatewayDeviceCommand(), ("Session", _session), ("All", true));
        Assert.Null(all.TerminatingError);
        Assert.Empty(CmdletHarness.Invoke(new GetGatewayDeviceCommand(), ("Session", _session)).Objects);
    }

    private IReadOnlyList<GatewayDevice> WaitForDevices(Func<GatewayDevice, bool> match, int count)
    {
        var deadline = DateTime.UtcNow + TestSupport.Short;
        while (true)
        {
            var devices = CmdletHarness.Invoke(new GetGatewayDeviceCommand(), ("Session", _session)).Objects.Cast<GatewayDevice>().Where(match).ToArray();
            if (devices.Length >= count) return devices;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Only {devices.Length} of {count} devices matched.");
            Thread.Sleep(50);
        }
    }
}
