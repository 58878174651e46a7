using System.Management.Automation;
using DeviceShell.Commands;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;
using DeviceShell.Lab.Hosting;
using DeviceShell.Lab.Webifi;
using DeviceShell.Testing;

namespace DeviceShell.Cmdlets.Tests.Webifi;

/// <summary>The Webifi cmdlets through the harness against a relay on loopback (in-process, and once as the Lab process).</summary>
public sealed class WebifiCmdletTests : IAsyncLifetime
{
    private readonly List<WebifiSession> _sessions = new();
    private WebifiRelay _relay = null!;
    private Uri _server = null!;

    public async Task InitializeAsync()
    {
        _relay = new WebifiRelay(new WebifiRelayOptions());
        var endpoint = await _relay.StartAsync(LabSimulatorOptions.Loopback(), CancellationToken.None).WaitAsync(TestSupport.Short);
        _server = new Uri($"http://127.0.0.1:{endpoint.Port}/");
    }

    public async Task DisposeAsync()
    {
        foreach (var session in _sessions) await session.DisposeAsync().AsTask().WaitAsync(TestSupport.Short);
        await _relay.DisposeAsync().AsTask().WaitAsync(TestSupport.Short);
    }

    private static PSCredential Credential(string password = "pswd") =>
        new("webifi", new System.Net.NetworkCredential(string.Empty, password).SecurePassword);

    private WebifiSession Connect(params (string Name, object? Value)[] extra)
    {
        var parameters = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase) { ["Credential"] = Credential(), ["Server"] = _server };
        foreach (var (name, value) in extra) parameters[name] = value;
        var run = CmdletHarness.Invoke(new ConnectWebifiCommand(), parameters);
        Assert.Null(run.TerminatingError);
        var session = Assert.IsType<WebifiSession>(Assert.Single(run.Objects));
        _sessions.Add(session);
        return session;
    }

    [Theory]
    [InlineData("WebSocket")]
    [InlineData("LongPolling")]
    public void Send_from_the_pipeline_and_Receive_Count_2_work_as_a_pair(string transport)
    {
        var receiver = Connect(("Network", new[] { "lab" }), ("Transport", transport));
        var sender = Connect(("Transport", transport));
        Assert.Contains(sender, SessionRegistry.Shared.List(DeviceWorld.Webifi));

        var send = CmdletHarness.Invoke(new SendWebifiDataCommand(),
            new Dictionary<string, object?> { ["ToNetwork"] = new[] { "lab" }, ["Session"] = sender }, input: new[] { "a", "b" });
        Assert.Null(send.TerminatingError);
        Assert.Empty(send.Errors);
        Assert.Empty(send.Objects); // a sink without -PassThru

        var receive = CmdletHarness.Invoke(new ReceiveWebifiDataCommand(), ("Count", 2), ("TimeoutSec", 5.0), ("Session", receiver));
        Assert.Equal(new[] { "a", "b" }, receive.OfType<WebifiMessage>().Select(m => m.Data));
        Assert.All(receive.OfType<WebifiMessage>(), m => Assert.Equal(sender.SessionId, m.FromSessionId));
    }

    [Fact]
    public void PassThru_receipts_and_per_item_errors_for_unknown_recipients()
    {
        var sender = Connect(("Network", new[] { "net1" }));
        var run = CmdletHarness.Invoke(new SendWebifiDataCommand(), ("Data", new[] { "x", "y" }), ("ToSessionId", new[] { 99999 }), ("Session", sender));
        Assert.Equal(2, run.Errors.Count);
        Assert.All(run.Errors, e =>
        {
            Assert.Equal("WebifiNotDelivered", e.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
        });

        var ok = CmdletHarness.Invoke(new SendWebifiDataCommand(), ("Data", new[] { "to me" }), ("ToSessionId", new[] { sender.SessionId }), ("DataType", "note"), ("PassThru", true), ("Session", sender));
        var receipt = Assert.IsType<WebifiSendReceipt>(Assert.Single(ok.Objects));
        Assert.Equal(("to me", "note", sender.SessionId), (receipt.Data, receipt.DataType, receipt.FromSessionId));
        Assert.Contains(ok.Verbose, v => v.Contains("session " + sender.SessionId, StringComparison.Ordinal));

        var filtered = CmdletHarness.Invoke(new ReceiveWebifiDataCommand(), ("DataType", "note"), ("Count", 1), ("TimeoutSec", 5.0), ("Session", sender));
        Assert.Equal("to me", Assert.IsType<WebifiMessage>(Assert.Single(filtered.Objects)).Data);
    }

    [Fact]
    public async Task Sends_made_while_the_relay_is_down_wait_in_the_queue_and_arrive_after_the_reconnect()
    {
        var receiver = Connect(("Network", new[] { "lab" }));
        var sender = Connect();
        await _relay.DisposeAsync().AsTask().WaitAsync(TestSupport.Short);

        var send = CmdletHarness.Invoke(new SendWebifiDataCommand(), ("Data", new[] { "queued" }), ("ToNetwork", new[] { "lab" }), ("TimeoutSec", 0.3), ("Session", sender));
        Assert.Empty(send.Errors);
        Assert.Contains(send.Warnings, w => w.Contains("1 message(s) are not acknowledged yet", StringComparison.Ordinal));
        Assert.Equal(1, sender.BufferedCount);

        _relay = new WebifiRelay(new WebifiRelayOptions());
        await _relay.StartAsync(LabSimulatorOptions.Loopback(_server.Port), CancellationToken.None).WaitAsync(TestSupport.Short);
        var receive = CmdletHarness.Invoke(new ReceiveWebifiDataCommand(), ("Count", 1), ("TimeoutSec", 10.0), ("Session", receiver));
        Assert.Equal("queued", Assert.IsType<WebifiMessage>(Assert.Single(receive.Objects)).Data);
        // The acknowledgement reaches the sender just after the data reached the receiver.
        var deadline = DateTime.UtcNow + TestSupport.Short;
        while (sender.BufferedCount > 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(0, sender.BufferedCount);
    }

    [Fact]
    public async Task UseEncryption_with_the_relays_certificate_file()
    {
        await using var tlsRelay = new WebifiRelay(new WebifiRelayOptions { Certificate = WebifiRelayOptions.CreateSelfSignedCertificate() });
        var endpoint = await tlsRelay.StartAsync(LabSimulatorOptions.Loopback(), CancellationToken.None).WaitAsync(TestSupport.Short);
        var server = new Uri($"https://127.0.0.1:{endpoint.Port}/");
        Assert.True(File.Exists(endpoint.CaCertificate));

        var untrusted = CmdletHarness.Invoke(new ConnectWebifiCommand(), ("Credential", Credential()), ("Server", server), ("UseEncryption", true));
        Assert.Equal("WebifiConnectionFailed", untrusted.TerminatingError?.FullyQualifiedErrorId);

        var run = CmdletHarness.Invoke(new ConnectWebifiCommand(), ("Credential", Credential()), ("Server", server), ("UseEncryption", true), ("CaCertificate", endpoint.CaCertificate));
        Assert.Null(run.TerminatingError);
        var session = Assert.IsType<WebifiSession>(Assert.Single(run.Objects));
        _sessions.Add(session);
        Assert.True(session.UseEncryption);
        Assert.Empty(CmdletHarness.Invoke(new SendWebifiDataCommand(), ("Data", new[] { "over TLS" }), ("ToSessionId", new[] { session.SessionId }), ("Session", session)).Errors);
        var received = CmdletHarness.Invoke(new ReceiveWebifiDataCommand(), ("Count", 1), ("TimeoutSec", 5.0), ("Session", session));
        Assert.Equal("over TLS", Assert.IsType<WebifiMessage>(Assert.Single(received.Objects)).Data);

        var bad = CmdletHarness.Invoke(new ConnectWebifiCommand(), ("Credential", Credential()), ("Server", server), ("UseEncryption", true), ("CaCertificate", "/nonexistent/relay.crt"));
        Assert.Equal("WebifiBadCertificate", bad.TerminatingError?.FullyQualifiedErrorId);
    }

    [Fact]
    public void A_wrong_password_is_a_terminating_AuthenticationError()
    {
        var run = CmdletHarness.Invoke(new ConnectWebifiCommand(), ("Credential", Credential("bad")), ("Server", _server));
        Assert.NotNull(run.TerminatingError);
        Assert.Equal("WebifiAuthenticationFailed", run.TerminatingError!.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.AuthenticationError, run.TerminatingError.CategoryInfo.Category);
        Assert.DoesNotContain("bad", run.TerminatingError.Exception.Message, StringComparison.Ordinal);
        Assert.Empty(run.Objects);
    }

    [Fact]
    public void An_unknown_network_at_connect_is_a_non_terminating_error_and_the_session_still_opens()
    {
        var run = CmdletHarness.Invoke(new ConnectWebifiCommand(), ("Credential", Credential()), ("Server", _server), ("Network", new[] { "net1", "nosuch" }));
        var session = Assert.IsType<WebifiSession>(Assert.Single(run.Objects));
        _sessions.Add(session);
        var error = Assert.Single(run.Errors);
        Assert.Equal("WebifiNetworkNotSet", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
    }

    [Fact]
    public void Find_lists_discoverable_sessions_by_name()
    {
        var device = Connect(("Network", new[] { "net1" }), ("Name", "thermostat"));
        Connect(("Network", new[] { "net1" }), ("NotDiscoverable", true));
        var finder = Connect(("Network", new[] { "net2" }));
        var run = CmdletHarness.Invoke(new FindWebifiDeviceCommand(), ("Network", new[] { "net1" }), ("WaitSec", 0.5), ("Session", finder));
        Assert.Null(run.TerminatingError);
        var found = Assert.IsType<WebifiDevice>(Assert.Single(run.Objects));
        Assert.Equal(("thermostat", device.SessionId), (found.Name, found.SessionId));
        Assert.NotEmpty(run.Progress);
    }

    [Fact]
    public void Set_changes_networks_and_settings_and_honours_WhatIf()
    {
        var session = Connect(("Network", new[] { "net1" }));
        var whatIf = CmdletHarness.Invoke(new SetWebifiSessionCommand(), new Dictionary<string, object?> { ["Network"] = new[] { "net2" }, ["Session"] = session }, whatIf: true);
        Assert.Single(whatIf.ShouldProcessCalls);
        Assert.Equal(new[] { "net1" }, session.Networks);

        var run = CmdletHarness.Invoke(new SetWebifiSessionCommand(), ("Network", new[] { "net2", "lab" }), ("Discoverable", false), ("Name", "renamed"), ("DownloadTimeoutSec", 30.0), ("PassThru", true), ("Session", session));
        Assert.Same(session, Assert.Single(run.Objects));
        Assert.Equal(new[] { "net2", "lab" }, session.Networks);
        Assert.False(session.Discoverable);
        Assert.Equal("renamed", session.Name);
        Assert.Equal(30, session.DownloadTimeoutSec);

        var bad = CmdletHarness.Invoke(new SetWebifiSessionCommand(), ("Network", new[] { "unknown" }), ("Session", session));
        Assert.Equal("WebifiNetworkNotSet", Assert.Single(bad.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Error_texts_come_from_the_server_table_or_the_fallback()
    {
        var session = Connect();
        var run = CmdletHarness.Invoke(new GetWebifiErrorTextCommand(), ("Code", new[] { 8, 99 }), ("Session", session));
        var texts = run.OfType<WebifiErrorDescription>().ToList();
        Assert.Equal("Invalid connect name or connect password", texts[0].Text);
        Assert.Equal(WebifiErrorCode.FallbackText, texts[1].Text);
    }

    [Fact]
    public void Disconnect_closes_and_unregisters()
    {
        var session = Connect();
        var run = CmdletHarness.Invoke(new DisconnectWebifiCommand(), ("Session", session), ("PassThru", true));
        Assert.Same(session, Assert.Single(run.Objects));
        Assert.Equal(DeviceSessionState.Closed, session.State);
        Assert.DoesNotContain(session, SessionRegistry.Shared.List(DeviceWorld.Webifi));
        Assert.Equal(0, _relay.SessionCount);
    }

    [Fact]
    public async Task The_lab_process_serves_the_relay_to_two_sessions()
    {
        var lab = Assert.IsType<DeviceLab>(Assert.Single(CmdletHarness.Invoke(new StartDeviceLabCommand(), ("Webifi", true)).Objects));
        await using (lab)
        {
            var endpoint = lab["webifi"]!;
            var server = new Uri($"http://{endpoint.Host}:{endpoint.Port}/");
            var a = Assert.IsType<WebifiSession>(Assert.Single(CmdletHarness.Invoke(new ConnectWebifiCommand(), ("Credential", Credential()), ("Server", server), ("Network", new[] { "lab" })).Objects));
            var b = Assert.IsType<WebifiSession>(Assert.Single(CmdletHarness.Invoke(new ConnectWebifiCommand(), ("Credential", Credential()), ("Server", server), ("Transport", "LongPolling")).Objects));
            _sessions.Add(a);
            _sessions.Add(b);
            Assert.Empty(CmdletHarness.Invoke(new SendWebifiDataCommand(), ("Data", new[] { "over the lab" }), ("ToNetwork", new[] { "lab" }), ("Session", b)).Errors);
            var received = CmdletHarness.Invoke(new ReceiveWebifiDataCommand(), ("Count", 1), ("TimeoutSec", 5.0), ("Session", a));
            Assert.Equal("over the lab", Assert.IsType<WebifiMessage>(Assert.Single(received.Objects)).Data);
            var sessions = await lab.ControlAsync("webifi", "sessions", null, TestSupport.Short);
            Assert.Equal(2, sessions.GetArrayLength());
        }
    }
}
