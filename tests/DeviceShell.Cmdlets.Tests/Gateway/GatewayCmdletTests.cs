using System.Management.Automation;

namespace DeviceShell.Cmdlets.Tests.Gateway;

/// <summary>The Gateway cmdlets against the Lab's gateway simulator over TLS (a fresh lab for each test), always with -Session.</summary>
public sealed class GatewayCmdletTests : IClassFixture<ModuleRunspace>, IDisposable
{
    private readonly ModuleRunspace _shell;
    private readonly RunningLab _lab;
    private readonly PSObject _endpoint;
    private readonly PSObject _session;

    public GatewayCmdletTests(ModuleRunspace shell)
    {
        _shell = shell;
        _lab = new RunningLab(shell, "-Gateway -Setting @{ 'gateway-reconnect-ms' = 100 }");
        _endpoint = _lab.Endpoint("gateway");
        // Generous: no test here measures the connect, and the first TLS call into a freshly started Lab took over 5 s
        // on a loaded machine (GatewayDeadlineExceeded at load 60). The tests give their own -TimeoutSec where it counts.
        _session = shell.Single("Connect-Gateway -HostName 127.0.0.1 -Port $Endpoint.Port -CaCertificate $Endpoint.CaCertificate -TimeoutSec 30", ("Endpoint", _endpoint));
        PowerShellAssert.HasType("DeviceShell.Engine.Gateway.GatewaySession", _session);
    }

    public void Dispose()
    {
        _shell.Run("Disconnect-Gateway -Session $Session", ("Session", _session)).AssertNoErrors();
        Assert.Equal("Closed", _session.Text("State"));
        _lab.Dispose();
    }

    private PowerShellRun Run(string script, params (string Name, object? Value)[] parameters) =>
        _shell.Run(script, parameters.Append(("Session", _session)).ToArray());

    /// <summary>Polls Get-GatewayDevice until <paramref name="count"/> devices match, for at most 5 s.</summary>
    private PSObject[] WaitForDevices(Func<PSObject, bool> match, int count)
    {
        PSObject[] devices = [];
        Eventually.TrueBlocking(() => (devices = Run("Get-GatewayDevice -Session $Session").Objects.Where(match).ToArray()).Length >= count,
            what: $"{count} matching devices");
        return devices;
    }

    [Fact]
    public void Find_piped_into_Add_async_connection_connects_the_devices()
    {
        var search = Run("Find-GatewayDevice -Session $Session -TimeoutSec 0.2 -Verbose");
        Assert.Contains("SearchDevice(timeout = 200 ms)", string.Join("\n", search.Verbose));
        var found = search.Objects.Where(d => d.Text("ConnectionMode") == "ServerToDevice").ToArray();
        Assert.Equal(3, found.Length);

        var whatIf = Run("$Found | Add-GatewayAsyncConnection -Session $Session -WhatIf", ("Found", found));
        Assert.Equal(3, whatIf.WhatIf.Count);
        var add = Run("$Found | Add-GatewayAsyncConnection -Session $Session -PassThru", ("Found", found));
        add.AssertNoErrors();
        Assert.Equal(3, add.Objects.Count);
        var connected = WaitForDevices(d => d.Text("Status") == "TcpConnected" && Equals(d.Get("AutoReconnect"), true), 3);
        Assert.Equal(found.Select(f => f.Get("DeviceId")).Order(), connected.Select(d => d.Get("DeviceId")).Order());

        var status = Run("Receive-GatewayStatus -Session $Session -Count 3 -TimeoutSec 5");
        Assert.Equal(3, status.Objects.Count(c => c.Text("Status") == "TcpConnected"));
    }

    [Fact]
    public void Long_search_shows_progress_and_Ctrl_C_stops_it()
    {
        var search = Run("Find-GatewayDevice -Session $Session -TimeoutSec 1.3");
        Assert.Equal(4, search.Objects.Count);
        Assert.NotEmpty(search.Progress);
        Assert.Equal(ProgressRecordType.Completed, search.Progress[^1].RecordType);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var stopped = _shell.RunAndStop(TimeSpan.FromMilliseconds(300), "Find-GatewayDevice -Session $Session -TimeoutSec 10", ("Session", _session));
        Assert.True(stopped.Stopped);
        Assert.True(watch.ElapsedMilliseconds < 3000, $"stopping took {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void Add_async_connection_checks_pairs_and_honours_WhatIf()
    {
        var mismatch = Run("Add-GatewayAsyncConnection -Session $Session -DeviceId 1, 2 -IPAddress 10.0.0.1");
        PowerShellAssert.Error("InvalidArgument", ErrorCategory.InvalidArgument, Assert.Single(mismatch.Errors));

        var whatIf = Run("Add-GatewayAsyncConnection -Session $Session -DeviceId 546835041 -IPAddress 192.168.0.104 -WhatIf");
        Assert.Single(whatIf.WhatIf);
        Assert.Empty(Run("Get-GatewayDevice -Session $Session").Objects);
    }

    [Fact]
    public void Pending_device_piped_into_Set_AcceptFilter_Add_is_admitted()
    {
        IReadOnlyList<PSObject> pending = [];
        Eventually.TrueBlocking(() => (pending = Run("Get-GatewayPendingDevice -Session $Session").Objects).Count > 0, what: "a pending device");
        var device = Assert.Single(pending);
        var set = Run("$Pending | Set-GatewayAcceptFilter -Session $Session -Add -PassThru", ("Pending", device));
        set.AssertNoErrors();
        Assert.Equal(new[] { device.Get("DeviceId") }, ((System.Collections.IEnumerable)Assert.Single(set.Objects).Get("DeviceId")!).Cast<object>());
        Assert.Single(WaitForDevices(d => d.Text("ConnectionMode") == "DeviceToServer" && d.Text("Status") == "TcpConnected", 1));

        var whatIf = Run("Set-GatewayAcceptFilter -Session $Session -AllowAll -WhatIf");
        Assert.Single(whatIf.WhatIf);
        Assert.Equal(false, _shell.Single("Get-GatewayAcceptFilter -Session $Session", ("Session", _session)).Get("AllowAll"));
    }

    [Fact]
    public void Failures_to_reach_a_gateway_name_it_with_their_own_error_ids()
    {
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        int closedPort = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var refused = _shell.Run("Connect-Gateway -ComputerName 127.0.0.1 -Port $Port -CaCertificate $Endpoint.CaCertificate", ("Port", closedPort), ("Endpoint", _endpoint));
        PowerShellAssert.Error("GatewayConnectionRefused", ErrorCategory.ConnectionError, refused.TerminatingError);
        Assert.Contains($"no gateway at 127.0.0.1:{closedPort}", refused.TerminatingError!.Exception.Message);

        // Accepts TCP and never answers: the deadline given is the one reported.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        int silentPort = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var quiet = _shell.Run("Connect-Gateway 127.0.0.1 -Port $Port -CaCertificate $Endpoint.CaCertificate -TimeoutSec 0.5", ("Port", silentPort), ("Endpoint", _endpoint));
        PowerShellAssert.Error("GatewayDeadlineExceeded", ErrorCategory.OperationTimeout, quiet.TerminatingError);
        Assert.Contains($"the gateway at 127.0.0.1:{silentPort} did not answer within 0.5 s", quiet.TerminatingError!.Exception.Message);

        // Every cmdlet that calls the gateway takes its own deadline.
        Run("Get-GatewayDevice -Session $Session -TimeoutSec 2; Get-GatewayAcceptFilter -Session $Session -TimeoutSec 2").AssertNoErrors();
        // The accept filter cmdlets' earlier names still work.
        Assert.Equal(false, _shell.Single("Get-AcceptFilter -Session $Session", ("Session", _session)).Get("AllowAll"));
    }

    [Fact]
    public void Multi_call_with_one_bad_device_writes_one_error_record_for_it()
    {
        var connect = Run("Connect-GatewayDevice -Session $Session -IPAddress 192.168.0.110, 192.168.0.99");
        var device = Assert.Single(connect.Objects);
        PowerShellAssert.Error("GatewayUnavailable", ErrorCategory.ConnectionError, Assert.Single(connect.Errors));

        var ssl = Run("Enable-GatewayDeviceSsl -Session $Session -DeviceId $Id, 4242 -PassThru", ("Id", device.Get("DeviceId")));
        Assert.Null(ssl.TerminatingError);
        Assert.Equal(new[] { device.Get("DeviceId") }, ssl.Values("DeviceId"));
        var error = Assert.Single(ssl.Errors);
        PowerShellAssert.Error("GatewayDeviceNotFound", ErrorCategory.ObjectNotFound, error);
        Assert.Equal(4242u, error.TargetObject);

        Run("Set-GatewayConnectionMode -Session $Session -DeviceId $Id -Mode DeviceToServer", ("Id", device.Get("DeviceId"))).AssertNoErrors();
        var sideways = Run("Set-GatewayConnectionMode -Session $Session -DeviceId 1 -Mode Sideways");
        PowerShellAssert.Error("ParameterArgumentValidationError", ErrorCategory.InvalidData, sideways.TerminatingError);
    }

    [Fact]
    public void Unknown_device_and_missing_CA_file_fail_with_their_categories()
    {
        var disconnect = Run("Disconnect-GatewayDevice -Session $Session -DeviceId 999");
        Assert.Null(disconnect.TerminatingError);
        PowerShellAssert.Error("GatewayDeviceNotFound", ErrorCategory.ObjectNotFound, Assert.Single(disconnect.Errors));

        var missing = _shell.Run("Connect-Gateway -HostName 127.0.0.1 -Port $Endpoint.Port -CaCertificate no-such-ca.crt", ("Endpoint", _endpoint));
        PowerShellAssert.Error("CaCertificateNotFound", ErrorCategory.ObjectNotFound, missing.TerminatingError);
        // A relative path is PowerShell's current location, not the process's working directory.
        string location = _shell.Single("(Get-Location).ProviderPath").BaseObject.ToString()!;
        Assert.Contains(Path.Combine(location, "no-such-ca.crt"), missing.TerminatingError!.Exception.Message);
    }

    [Fact]
    public void Disconnect_all_and_slave_devices()
    {
        Run("Connect-GatewayDevice -Session $Session -IPAddress 192.168.0.104").AssertNoErrors();
        Run("Set-GatewaySlaveDevice -Session $Session -DeviceId 546835041 -Rs485SlaveDeviceId 7").AssertNoErrors();
        var slave = _shell.Single("Get-GatewaySlaveDevice -Session $Session", ("Session", _session));
        Assert.Equal(new object[] { 7u }, ((System.Collections.IEnumerable)slave.Get("Rs485SlaveDeviceId")!).Cast<object>());

        var all = Run("Disconnect-GatewayDevice -Session $Session -All");
        all.AssertNoErrors();
        Assert.Empty(Run("Get-GatewayDevice -Session $Session").Objects);
    }
}
