using System.Management.Automation;

namespace DeviceShell.Cmdlets.Tests.Webifi;

/// <summary>The Webifi cmdlets against the Lab's relay (a fresh lab for each test), always with -Session.</summary>
public sealed class WebifiCmdletTests : IClassFixture<ModuleRunspace>, IDisposable
{
    private readonly ModuleRunspace _shell;
    private readonly List<PSObject> _sessions = new();
    private RunningLab _lab;
    private string _server;

    public WebifiCmdletTests(ModuleRunspace shell)
    {
        _shell = shell;
        _lab = new RunningLab(shell, "-Webifi");
        _server = ServerOf(_lab, "http");
    }

    public void Dispose()
    {
        _shell.Run("$Sessions | Where-Object State -ne Closed | Disconnect-Webifi", ("Sessions", _sessions.ToArray())).AssertNoErrors();
        _lab.Dispose();
    }

    private static string ServerOf(RunningLab lab, string scheme) => $"{scheme}://127.0.0.1:{lab.Port("webifi")}/";

    private static PSCredential Credential(string password = "pswd") =>
        new("webifi", new System.Net.NetworkCredential(string.Empty, password).SecurePassword);

    /// <summary>Runs Connect-Webifi with the test's credential and relay and more arguments; $CaCertificate is <paramref name="caFile"/>.</summary>
    private PowerShellRun TryConnect(string arguments, string? server = null, string password = "pswd", string? caFile = null) =>
        _shell.Run("Connect-Webifi -Credential $Credential -Server $Server " + arguments,
            ("Credential", Credential(password)), ("Server", server ?? _server), ("CaCertificate", caFile));

    private PSObject Connect(string arguments = "", string? server = null, string? caFile = null)
    {
        var run = TryConnect(arguments, server, caFile: caFile);
        run.AssertNoErrors();
        var session = Assert.Single(run.Objects);
        _sessions.Add(session);
        return session;
    }

    private PowerShellRun Run(string script, PSObject session, params (string Name, object? Value)[] parameters) =>
        _shell.Run(script, parameters.Append(("Session", session)).ToArray());

    private int RelaySessionCount(RunningLab lab) =>
        (int)_shell.Single("$Lab.ControlAsync('webifi', 'sessions', $null, [timespan]'0:0:5').GetAwaiter().GetResult().GetArrayLength()", ("Lab", lab.Lab)).BaseObject;

    [Theory]
    [InlineData("WebSocket")]
    [InlineData("LongPolling")]
    public void Send_from_the_pipeline_and_Receive_Count_2_work_as_a_pair(string transport)
    {
        var receiver = Connect("-Network lab -Transport " + transport);
        var sender = Connect("-Transport " + transport);
        PowerShellAssert.HasType("DeviceShell.Engine.Webifi.WebifiSession", sender);
        Assert.Contains(sender.Get("Id"), _shell.Run("Get-DeviceSession -World Webifi").Values("Id"));

        var send = Run("'a', 'b' | Send-WebifiData -ToNetwork lab -Session $Session", sender);
        send.AssertNoErrors();
        Assert.Empty(send.Objects); // a sink without -PassThru

        var receive = Run("Receive-WebifiData -Count 2 -TimeoutSec 5 -Session $Session", receiver);
        Assert.Equal(new object[] { "a", "b" }, receive.Values("Data"));
        Assert.All(receive.Objects, m => Assert.Equal(sender.Get("SessionId"), m.Get("FromSessionId")));
    }

    [Fact]
    public void PassThru_receipts_and_per_item_errors_for_unknown_recipients()
    {
        var sender = Connect("-Network net1");
        var run = Run("Send-WebifiData -Data x, y -ToSessionId 99999 -Session $Session", sender);
        Assert.Equal(2, run.Errors.Count);
        Assert.All(run.Errors, e => PowerShellAssert.Error("WebifiNotDelivered", ErrorCategory.ObjectNotFound, e));

        var ok = Run("Send-WebifiData -Data 'to me' -ToSessionId $Session.SessionId -DataType note -PassThru -Verbose -Session $Session", sender);
        var receipt = Assert.Single(ok.Objects);
        Assert.Equal(("to me", "note", sender.Get("SessionId")), (receipt.Get("Data"), receipt.Get("DataType"), receipt.Get("FromSessionId")));
        Assert.Contains(ok.Verbose, v => v.Contains("session " + sender.Get("SessionId"), StringComparison.Ordinal));

        var filtered = Run("Receive-WebifiData -DataType note -Count 1 -TimeoutSec 5 -Session $Session", sender);
        Assert.Equal(new object[] { "to me" }, filtered.Values("Data"));
    }

    [Fact]
    public void Sends_made_while_the_relay_is_down_wait_in_the_queue_and_arrive_after_the_reconnect()
    {
        var receiver = Connect("-Network lab");
        var sender = Connect();
        int port = _lab.Port("webifi");
        _lab.Dispose();

        var send = Run("Send-WebifiData -Data queued -ToNetwork lab -TimeoutSec 0.3 -Session $Session", sender);
        send.AssertNoErrors();
        Assert.Contains(send.Warnings, w => w.Contains("1 message(s) are not acknowledged yet", StringComparison.Ordinal));
        Assert.Equal(1, sender.Get("BufferedCount"));

        // Both sessions reconnect with back-off first (its pauses double to 6.4 and 12.8 s while the relay is down), so
        // under load the receiver can join more than the default 10 s after the relay's start, when data parked for its
        // network is no longer kept: the relay keeps it a minute here. The receive ends when the data comes.
        _lab = new RunningLab(_shell, "-WebifiPort $Port -Setting @{ 'webifi-startup-grace' = 60 }", ("Port", port));
        var receive = Run("Receive-WebifiData -Count 1 -TimeoutSec 45 -Session $Session", receiver);
        Assert.Equal(new object[] { "queued" }, receive.Values("Data"));
        // The acknowledgement reaches the sender just after the data reached the receiver.
        Eventually.TrueBlocking(() => Equals(sender.Get("BufferedCount"), 0), what: "the acknowledgement");
    }

    [Fact]
    public void UseEncryption_with_the_relays_certificate_file()
    {
        using var tlsLab = new RunningLab(_shell, "-Webifi -Setting @{ 'webifi-certificate' = 'self-signed' }");
        string server = ServerOf(tlsLab, "https");
        string caFile = tlsLab.Endpoint("webifi").Text("CaCertificate")!;
        Assert.True(File.Exists(caFile));

        PowerShellAssert.Error("WebifiConnectionFailed", ErrorCategory.ConnectionError, TryConnect("-UseEncryption", server).TerminatingError);

        var session = Connect("-UseEncryption -CaCertificate $CaCertificate", server, caFile);
        Assert.Equal(true, session.Get("UseEncryption"));
        Run("Send-WebifiData -Data 'over TLS' -ToSessionId $Session.SessionId -Session $Session", session).AssertNoErrors();
        Assert.Equal(new object[] { "over TLS" }, Run("Receive-WebifiData -Count 1 -TimeoutSec 5 -Session $Session", session).Values("Data"));

        var bad = TryConnect("-UseEncryption -CaCertificate /nonexistent/relay.crt", server);
        Assert.Equal("WebifiBadCertificate", bad.TerminatingError?.FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void A_wrong_password_is_a_terminating_AuthenticationError()
    {
        var run = TryConnect("", password: "bad");
        PowerShellAssert.Error("WebifiAuthenticationFailed", ErrorCategory.AuthenticationError, run.TerminatingError);
        Assert.DoesNotContain("bad", run.TerminatingError!.Exception.Message, StringComparison.Ordinal);
        Assert.Empty(run.Objects);
    }

    [Fact]
    public void An_unknown_network_at_connect_is_a_non_terminating_error_and_the_session_still_opens()
    {
        var run = TryConnect("-Network net1, nosuch");
        _sessions.AddRange(run.Objects);
        Assert.Null(run.TerminatingError);
        PowerShellAssert.HasType("DeviceShell.Engine.Webifi.WebifiSession", Assert.Single(run.Objects));
        PowerShellAssert.Error("WebifiNetworkNotSet", ErrorCategory.InvalidArgument, Assert.Single(run.Errors));
    }

    [Fact]
    public void Find_lists_discoverable_sessions_by_name()
    {
        var device = Connect("-Network net1 -Name thermostat");
        Connect("-Network net1 -NotDiscoverable");
        var finder = Connect("-Network net2");
        // -WaitSec also bounds the relay's acknowledgement of the request: 0.5 s was too short for a loaded CI machine.
        var run = Run("Find-WebifiDevice -Network net1 -WaitSec 2 -Session $Session", finder);
        run.AssertNoErrors();
        var found = Assert.Single(run.Objects);
        Assert.Equal(("thermostat", device.Get("SessionId")), (found.Get("Name"), found.Get("SessionId")));
        Assert.NotEmpty(run.Progress);
    }

    [Fact]
    public void Set_changes_networks_and_settings_and_honours_WhatIf()
    {
        var session = Connect("-Network net1");
        Assert.Single(Run("Set-WebifiSession -Network net2 -Session $Session -WhatIf", session).WhatIf);
        Assert.Equal(new object[] { "net1" }, ((System.Collections.IEnumerable)session.Get("Networks")!).Cast<object>());

        var changed = Assert.Single(Run("Set-WebifiSession -Network net2, lab -Discoverable:$false -Name renamed -DownloadTimeoutSec 30 -PassThru -Session $Session", session).Objects);
        Assert.Equal(session.Get("Id"), changed.Get("Id"));
        Assert.Equal(new object[] { "net2", "lab" }, ((System.Collections.IEnumerable)session.Get("Networks")!).Cast<object>());
        Assert.Equal((false, "renamed", 30.0), (session.Get("Discoverable"), session.Get("Name"), session.Get("DownloadTimeoutSec")));

        var bad = Run("Set-WebifiSession -Network unknown -Session $Session", session);
        Assert.Equal("WebifiNetworkNotSet", Assert.Single(bad.Errors).FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void Error_texts_come_from_the_server_table_or_the_fallback()
    {
        var session = Connect();
        var texts = Run("Get-WebifiErrorText -Code 8, 99 -Session $Session", session).Values("Text");
        Assert.Equal("Invalid connect name or connect password", texts[0]);
        string fallback = _shell.Single("$Session.GetType().Assembly.GetType('DeviceShell.Engine.Webifi.WebifiErrorCode', $true)::FallbackText", ("Session", session)).ToString();
        Assert.Equal(fallback, texts[1]);
    }

    [Fact]
    public void Disconnect_closes_and_unregisters()
    {
        var session = Connect();
        var closed = Assert.Single(Run("Disconnect-Webifi -Session $Session -PassThru", session).Objects);
        Assert.Equal((session.Get("Id"), "Closed"), (closed.Get("Id"), session.Text("State")));
        Assert.DoesNotContain(session.Get("Id"), _shell.Run("Get-DeviceSession -World Webifi").Values("Id"));
        Assert.Equal(0, RelaySessionCount(_lab));
    }

    [Fact]
    public void The_lab_process_serves_the_relay_to_two_sessions()
    {
        var a = Connect("-Network lab");
        var b = Connect("-Transport LongPolling");
        Run("Send-WebifiData -Data 'over the lab' -ToNetwork lab -Session $Session", b).AssertNoErrors();
        Assert.Equal(new object[] { "over the lab" }, Run("Receive-WebifiData -Count 1 -TimeoutSec 5 -Session $Session", a).Values("Data"));
        Assert.Equal(2, RelaySessionCount(_lab));
    }

    /// <summary>docs/design/decisions.md §21: a session that would listen to nothing is not a connection; no session is left open.</summary>
    [Fact]
    public void Connect_with_only_unknown_networks_is_a_terminating_error_and_leaves_no_session()
    {
        var run = TryConnect("-Network nosuch");
        PowerShellAssert.Error("WebifiNetworkNotSet", ErrorCategory.InvalidArgument, run.TerminatingError);
        Assert.Contains("nosuch", run.TerminatingError!.Exception.Message, StringComparison.Ordinal);
        Assert.Empty(run.Objects);
        Assert.Empty(_shell.Run("Get-DeviceSession -World Webifi").Objects);
        Assert.Equal(0, RelaySessionCount(_lab));
    }

    /// <summary>docs/design/decisions.md §21: -HostName/-Port (alias -ComputerName) beside -Server, and -TimeoutSec for a silent server.</summary>
    [Fact]
    public void Connect_takes_HostName_and_Port_and_a_silent_server_ends_after_TimeoutSec()
    {
        var run = _shell.Run("Connect-Webifi -Credential $Credential -ComputerName 127.0.0.1 -Port $Port -Network lab",
            ("Credential", Credential()), ("Port", _lab.Port("webifi")));
        run.AssertNoErrors();
        _sessions.AddRange(run.Objects);
        Assert.Equal(_server, Assert.Single(run.Objects).Get("Server")!.ToString());

        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        int port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var timedOut = _shell.Run("Connect-Webifi -Credential $Credential -HostName 127.0.0.1 -Port $Port -TimeoutSec 0.5",
            ("Credential", Credential()), ("Port", port));
        PowerShellAssert.Error("WebifiTimeout", ErrorCategory.OperationTimeout, timedOut.TerminatingError);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"{watch.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>docs/design/decisions.md §19: the official library's set_use_websocket as Set-WebifiSession -Transport, queued sends kept.</summary>
    [Fact]
    public void Set_Transport_switches_a_running_session_and_keeps_what_is_queued()
    {
        var receiver = Connect("-Network lab");
        var sender = Connect();
        // -TimeoutSec 0: the sends are queued and the command does not wait for them.
        var run = Run("1..50 | ForEach-Object { \"m$_\" } | Send-WebifiData -ToNetwork lab -TimeoutSec 0 -WarningAction SilentlyContinue -Session $Session; " +
                      "Set-WebifiSession -Transport LongPolling -PassThru -Session $Session", sender);
        run.AssertNoErrors();
        Assert.Equal("LongPolling", Assert.Single(run.Objects).Text("Transport"));
        // Received until quiet: a message in flight at the switch may come twice (the new login numbers afresh).
        var data = Run("Receive-WebifiData -TimeoutSec 10 -Session $Session", receiver).Values("Data").Cast<string>().Distinct();
        Assert.Equal(Enumerable.Range(1, 50).Select(i => $"m{i}"), data);

        Run("Set-WebifiSession -Transport WebSocket -Session $Session", sender).AssertNoErrors();
        Assert.Equal("WebSocket", sender.Text("Transport"));
        Run("Send-WebifiData -Data back -ToNetwork lab -TimeoutSec 10 -Session $Session", sender).AssertNoErrors();
        Assert.Contains("back", Run("Receive-WebifiData -Count 1 -TimeoutSec 5 -Session $Session", receiver).Values("Data"));
    }
}
