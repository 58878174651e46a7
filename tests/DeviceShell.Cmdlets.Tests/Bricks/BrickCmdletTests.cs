using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Security;

namespace DeviceShell.Cmdlets.Tests.Bricks;

/// <summary>The Brick cmdlets against the Lab's Brick Daemon simulator (a fresh lab for each test).</summary>
[Collection(RegistryCollection.Name)]
public sealed class BrickCmdletTests : IClassFixture<ModuleRunspace>, IDisposable
{
    private readonly ModuleRunspace _shell;
    private readonly RunningLab _lab;
    private readonly int _port;

    public BrickCmdletTests(ModuleRunspace shell)
    {
        _shell = shell;
        _lab = new RunningLab(shell, "-Brick");
        _port = _lab.Port("brick");
    }

    public void Dispose()
    {
        _shell.Run("Disconnect-Brick -All").AssertNoErrors();
        _lab.Dispose();
    }

    internal static SecureString Secure(string text) => new NetworkCredential(string.Empty, text).SecurePassword;

    private PSObject Connect(string arguments = "", int? port = null) =>
        _shell.Single("Connect-Brick -HostName 127.0.0.1 -Port $Port " + arguments, ("Port", port ?? _port));

    private static object? SessionIdOf(PSObject item) => PSObject.AsPSObject(item.Get("Session")!).Get("Id");

    [Fact]
    public void Connect_registers_the_default_session_and_Disconnect_removes_it()
    {
        var session = Connect("-TimeoutSec 0.5 -NoAutoReconnect");
        PowerShellAssert.HasType("DeviceShell.Engine.Bricks.BrickSession", session);
        Assert.Equal((TimeSpan.FromSeconds(0.5), false), (session.Get("Timeout"), session.Get("AutoReconnect")));

        var enumeration = _shell.Run("Get-BrickEnumeration -WaitSec 2");
        Assert.Equal(6, enumeration.Objects.Count);
        Assert.All(enumeration.Objects, d => Assert.Equal(session.Get("Id"), SessionIdOf(d)));
        Assert.Contains(enumeration.Progress, p => p.RecordType == ProgressRecordType.Completed);

        var disconnected = _shell.Single("Disconnect-Brick -PassThru");
        Assert.Equal((session.Get("Id"), "Closed"), (disconnected.Get("Id"), disconnected.Text("State")));
        Assert.Empty(_shell.Run("Get-DeviceSession -World Brick").Objects);

        PowerShellAssert.Error("SessionNotFound", ErrorCategory.ObjectNotFound, _shell.Run("Get-BrickEnumeration").TerminatingError);
    }

    [Fact]
    public void Connect_failures_are_clear_terminating_errors()
    {
        var unused = new TcpListener(IPAddress.Loopback, 0);
        unused.Start();
        int closedPort = ((IPEndPoint)unused.LocalEndpoint).Port;
        unused.Stop();
        var closed = _shell.Run("Connect-Brick -HostName 127.0.0.1 -Port $Port; 'not reached'", ("Port", closedPort));
        PowerShellAssert.Error("ConnectionFailed", ErrorCategory.ConnectionError, closed.TerminatingError);
        Assert.Empty(closed.Objects);
        Assert.Empty(_shell.Run("Get-DeviceSession -World Brick").Objects);
    }

    [Fact]
    public void Secrets_are_checked_and_a_wrong_one_is_an_authentication_error()
    {
        using var guarded = new RunningLab(_shell, "-Brick -BrickSecret $Secret", ("Secret", Secure("letmein")));
        int port = guarded.Port("brick");

        var wrong = _shell.Run("Connect-Brick 127.0.0.1 $Port -Secret $Secret", ("Port", port), ("Secret", Secure("nope")));
        PowerShellAssert.Error("AuthenticationFailed", ErrorCategory.AuthenticationError, wrong.TerminatingError);
        var nonAscii = _shell.Run("Connect-Brick 127.0.0.1 $Port -Secret $Secret", ("Port", port), ("Secret", Secure("lét")));
        PowerShellAssert.Error("NonAsciiSecret", ErrorCategory.InvalidArgument, nonAscii.TerminatingError);
        Assert.Empty(_shell.Run("Get-DeviceSession -World Brick").Objects);

        var right = _shell.Run("Connect-Brick 127.0.0.1 $Port -Secret $Secret -Verbose", ("Port", port), ("Secret", Secure("letmein")));
        var session = Assert.Single(right.Objects);
        Assert.NotEmpty(right.Verbose);
        Assert.DoesNotContain(right.Verbose, v => v.Contains("letmein", StringComparison.Ordinal));
        var identity = _shell.Single("Get-BrickIdentity -Session $Session -Uid 6qY", ("Session", session));
        Assert.Equal("Master Brick", identity.Get("DeviceName"));
    }

    [Fact]
    public void Enumeration_pipes_into_Get_BrickIdentity_and_feeds_the_Uid_completer()
    {
        var session = Connect();
        var devices = _shell.Run("Get-BrickEnumeration -Session $Session -WaitSec 2", ("Session", session)).Objects;
        var identities = _shell.Run("$Devices | Get-BrickIdentity -Session $Session", ("Devices", devices.ToArray()), ("Session", session));
        identities.AssertNoErrors();
        Assert.Equal(devices.Select(d => d.Text("Uid")).Order(), identities.Objects.Select(d => d.Text("Uid")).Order());
        Assert.All(identities.Objects, d => Assert.Null(d.Get("EnumerationType")));

        var completions = _shell.Single("(TabExpansion2 -inputScript 'Get-BrickIdentity -Uid 4' -cursorColumn 24).CompletionMatches");
        Assert.Equal("'4ER'", completions.Get("CompletionText"));
        Assert.Contains("Temperature Bricklet 2.0", completions.Text("ToolTip"), StringComparison.Ordinal);
    }

    [Fact]
    public void Piped_devices_carry_their_session_even_when_another_is_the_default()
    {
        var first = Connect();
        using var other = new RunningLab(_shell, "-Brick -Setting @{ 'brick-stack' = '13:Xth:0:0' }");
        var second = Connect("-TimeoutSec 0.3", other.Port("brick"));
        Assert.Equal(second.Get("Id"), SessionIdOf(_shell.Single("Get-BrickEnumeration -WaitSec 1")));

        var identities = _shell.Run("Get-BrickEnumeration -Session $First -WaitSec 2 | Get-BrickIdentity", ("First", first));
        identities.AssertNoErrors();
        Assert.Equal(6, identities.Objects.Count);
        Assert.All(identities.Objects, d => Assert.Equal(first.Get("Id"), SessionIdOf(d)));
    }

    [Fact]
    public void Bad_uids_and_silent_devices_are_per_item_errors_and_the_session_goes_on()
    {
        var session = Connect("-TimeoutSec 0.3");
        var run = _shell.Run("Get-BrickIdentity -Session $Session -Uid 0Il, zzz, 4ER", ("Session", session));
        Assert.Null(run.TerminatingError);
        Assert.Equal(2, run.Errors.Count);
        PowerShellAssert.Error("InvalidUid", ErrorCategory.InvalidArgument, run.Errors[0]);
        PowerShellAssert.Error("RequestTimeout", ErrorCategory.OperationTimeout, run.Errors[1]);
        Assert.Equal(new object[] { "4ER" }, run.Values("Uid"));
    }

    [Fact]
    public void Invoke_BrickFunction_calls_raw_functions_and_maps_error_codes()
    {
        var session = Connect();
        var ok = _shell.Run("Invoke-BrickFunction -Session $Session -Uid 4ER -FunctionId 1 -ResponseExpected -Verbose", ("Session", session));
        var response = Assert.Single(ok.Objects);
        Assert.Equal((2, (byte)1, (byte)0), (((byte[])response.Get("Payload")!).Length, response.Get("FunctionId"), response.Get("ErrorCode")));
        Assert.Contains(ok.Verbose, v => v.Contains("fid 1", StringComparison.Ordinal));

        var unsupported = _shell.Run("Invoke-BrickFunction -Session $Session -Uid 4ER -FunctionId 77 -ResponseExpected", ("Session", session));
        PowerShellAssert.Error("FunctionNotSupported", ErrorCategory.NotImplemented, Assert.Single(unsupported.Errors));

        var setter = _shell.Run("Invoke-BrickFunction -Session $Session -Uid 23Qx -FunctionId 1 -Payload 1, 2, 3", ("Session", session));
        setter.AssertNoErrors();
        Assert.Empty(setter.Objects);

        var whatIf = _shell.Run("Invoke-BrickFunction -Session $Session -Uid 23Qx -FunctionId 1 -Payload 9, 9, 9 -WhatIf", ("Session", session));
        Assert.Single(whatIf.WhatIf);
        var color = _shell.Single("Invoke-BrickFunction -Session $Session -Uid 23Qx -FunctionId 2 -ResponseExpected", ("Session", session));
        Assert.Equal(new byte[] { 1, 2, 3 }, color.Get("Payload"));
    }

    [Fact]
    public void Receive_BrickCallback_streams_filtered_callbacks_and_forwards_to_the_event_queue()
    {
        var session = Connect();
        // Temperature 2.0 callback configuration: period 10 ms, value need not change, no threshold.
        _shell.Run("Invoke-BrickFunction -Session $Session -Uid 4ER -FunctionId 2 -Payload 10, 0, 0, 0, 0, ([byte][char]'x'), 0, 0, 0, 0 -ResponseExpected",
            ("Session", session)).AssertNoErrors();

        var run = _shell.Run("Receive-BrickCallback -Session $Session -Kind Callback -Uid 4ER -Count 3 -TimeoutSec 5", ("Session", session));
        Assert.Equal(3, run.Objects.Count);
        Assert.All(run.Objects, e => Assert.Equal(("Callback", "4ER", (object)(byte)4), (e.Text("Kind"), e.Text("Uid"), e.Get("FunctionId"))));

        var forwarded = _shell.Run("Receive-BrickCallback -Session $Session -Kind Callback -Count 2 -TimeoutSec 5 -SourceIdentifier temps", ("Session", session));
        forwarded.AssertNoErrors();
        Assert.Empty(forwarded.Objects);
        // Forwarding runs in the background: wait (bounded) until both events are queued.
        var events = _shell.Run("""
            $deadline = [DateTime]::UtcNow.AddSeconds(5)
            while (@(Get-Event -SourceIdentifier temps -ErrorAction Ignore).Count -lt 2 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            Get-Event -SourceIdentifier temps; Remove-Event -SourceIdentifier temps
            """).Objects;
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal("temps", e.Get("SourceIdentifier")));
    }

    [Fact]
    public void Set_BrickSession_changes_timeout_and_auto_reconnect()
    {
        var session = Connect();
        var run = _shell.Run("Set-BrickSession -Session $Session -TimeoutSec 0.25 -AutoReconnect:$false -PassThru", ("Session", session));
        var changed = Assert.Single(run.Objects);
        Assert.Equal((session.Get("Id"), TimeSpan.FromSeconds(0.25), false), (changed.Get("Id"), changed.Get("Timeout"), changed.Get("AutoReconnect")));
        Assert.Single(_shell.Run("Set-BrickSession -Session $Session -TimeoutSec 1 -WhatIf", ("Session", session)).WhatIf);
        Assert.Equal(TimeSpan.FromSeconds(0.25), session.Get("Timeout"));
        _shell.Run("Set-BrickSession -Session $Session -AutoReconnect", ("Session", session)).AssertNoErrors();
        Assert.Equal(true, session.Get("AutoReconnect"));
    }

    [Fact]
    public void Topology_and_typed_temperature_and_the_catalogue()
    {
        var session = Connect();
        var nodes = _shell.Run("Get-BrickTopology -Session $Session -WaitSec 2", ("Session", session)).Objects;
        Assert.Equal(("6qY", (object)0), (nodes[0].Text("Uid"), nodes[0].Get("Depth")));
        Assert.Equal(5, ((System.Collections.ICollection)nodes[0].Get("Children")!).Count);
        Assert.All(nodes.Skip(1), n => Assert.Equal(1, n.Get("Depth")));
        Assert.StartsWith("  └─ [a] Temperature Bricklet 2.0", nodes[1].Text("Tree"), StringComparison.Ordinal);

        var temperature = _shell.Run("Get-BrickTemperature -Session $Session -Uid 4ER, 6qY, Pdw", ("Session", session));
        Assert.Equal(new object[] { "4ER", "6qY" }, temperature.Values("Uid"));
        Assert.Equal("WrongDeviceType", Assert.Single(temperature.Errors).FullyQualifiedErrorId.Split(',')[0]);

        var master = _shell.Run("Get-BrickDeviceType -Identifier 13, 9999");
        Assert.Equal(new object[] { "Master Brick" }, master.Values("Name"));
        PowerShellAssert.Error("UnknownDeviceIdentifier", ErrorCategory.ObjectNotFound, Assert.Single(master.Errors));
        var byName = _shell.Run("Get-BrickDeviceType -Name temperature*");
        Assert.Equal(new[] { 216, 217, 291, 2113 }, byName.Values("Identifier").Cast<int>().Order());
    }
}
