using System.Management.Automation;
using System.Net;
using System.Net.Sockets;

namespace DeviceShell.Cmdlets.Tests.PiLink;

/// <summary>
/// The Pi link cmdlets over loopback TCP; every session and server is passed explicitly. In the registry collection:
/// they add Pi link sessions (which would become the default under other tests) and Set-PiButtonState reaches any running lab.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class PiLinkCmdletTests(ModuleRunspace shell) : IClassFixture<ModuleRunspace>
{
    private PSObject StartServer(string arguments = "") => shell.Single("Start-PiLinkServer -Port 0 " + arguments);

    private PSObject Connect(object port) => shell.Single("Connect-PiLink -HostName 127.0.0.1 -Port $Port -OccupiedWaitSec 0.2", ("Port", port));

    private string Ask(PSObject session, string text) =>
        shell.Single("Send-PiLinkMessage -Session $Session -Message $Text -WaitReplySec 5", ("Session", session), ("Text", text)).Text("Text")!;

    private PowerShellRun Receive(PSObject session, string arguments) =>
        shell.Run("Receive-PiLinkMessage -Session $Session -TimeoutSec 5 " + arguments, ("Session", session));

    private void StopServer(PSObject server) => shell.Run("$Server | Stop-PiLinkServer", ("Server", server)).AssertNoErrors();

    private void Disconnect(PSObject client) => shell.Run("$Client | Disconnect-PiLink", ("Client", client)).AssertNoErrors();

    private IReadOnlyList<object?> PiLinkSessionIds() => shell.Run("Get-DeviceSession -World PiLink").Values("Id");

    [Fact]
    public void The_tutorial_button_server_answers_go_and_follows_Set_PiButtonState()
    {
        const int pin = 23; // a line no other test presses
        var server = shell.Single("Start-PiButtonServer -Port 0 -Pin $Pin -Simulated", ("Pin", pin));
        try
        {
            Assert.Contains(server.Get("Id"), PiLinkSessionIds());
            var client = Connect(server.Get("Port")!);
            try
            {
                Assert.Equal("Button released", Ask(client, "go"));
                var press = shell.Single("Set-PiButtonState -Pressed -Pin $Pin -PassThru", ("Pin", pin));
                Assert.Equal(true, press.Get("Pressed"));
                Assert.Equal("Button pressed", Ask(client, "go"));

                var read = shell.Run("Get-PiButtonState -Pin $Pin -Simulated -Verbose", ("Pin", pin));
                Assert.Equal(true, Assert.Single(read.Objects).Get("Pressed"));
                Assert.Contains(read.Verbose, v => v.Contains("button server that holds it", StringComparison.Ordinal));

                shell.Run("Set-PiButtonState -Pin $Pin", ("Pin", pin)).AssertNoErrors();
                Assert.Equal("Button released", Ask(client, "go"));

                // The server's own view: state changes and the messages it received.
                var seen = shell.Run("$Server | Receive-PiLinkMessage -Count 5 -TimeoutSec 5", ("Server", server));
                Assert.Equal(new object[] { "LISTENING", "CONNECTED", "MESSAGE", "MESSAGE", "MESSAGE" }, seen.Values("StateName"));
                Assert.All(seen.Objects.Skip(2), m => Assert.Equal("go", m.Get("Text")));
            }
            finally
            {
                var disconnected = shell.Single("Disconnect-PiLink -Session $Client -PassThru", ("Client", client));
                Assert.Equal((client.Get("Id"), "Closed"), (disconnected.Get("Id"), disconnected.Text("State")));
            }
        }
        finally
        {
            var whatIf = shell.Run("Stop-PiLinkServer -Session $Server -WhatIf", ("Server", server));
            Assert.Single(whatIf.WhatIf);
            Assert.Equal("Listening", server.Text("LinkState"));
            var stopped = shell.Single("Stop-PiLinkServer -Session $Server -PassThru", ("Server", server));
            Assert.Equal(server.Get("Id"), stopped.Get("Id"));
        }
        Assert.DoesNotContain(server.Get("Id"), PiLinkSessionIds());
        Assert.Equal("Terminated", server.Text("LinkState"));
    }

    [Fact]
    public void Receive_reads_messages_and_state_changes_of_a_client()
    {
        var server = StartServer();
        var client = Connect(server.Get("Port")!);
        try
        {
            shell.Run("Send-PiLinkMessage -Session $Client -Message one, two", ("Client", client)).AssertNoErrors();
            Assert.Equal(new object[] { "one", "two" }, Receive(server, "-MessageOnly -Count 2").Values("Text"));

            shell.Run("Send-PiLinkMessage -Session $Server -Message back", ("Server", server)).AssertNoErrors();
            var atClient = Receive(client, "-Count 3");
            Assert.Equal(new object[] { "CONNECTING", "CONNECTED", "MESSAGE" }, atClient.Values("StateName"));
            Assert.Equal("back", atClient.Objects[^1].Get("Text"));
        }
        finally
        {
            Disconnect(client);
            StopServer(server);
        }
    }

    [Fact]
    public void An_oversized_message_is_a_non_terminating_error_and_the_link_goes_on()
    {
        var server = StartServer("-MaxMessageBytes 16");
        try
        {
            using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            raw.Connect(IPAddress.Loopback, (int)server.Get("Port")!);
            raw.Send(Enumerable.Repeat((byte)'x', 40).Concat("\0fine\0"u8.ToArray()).ToArray());
            var run = Receive(server, "-MessageOnly -Count 1");
            PowerShellAssert.Error("PiLinkMessageTooLarge", ErrorCategory.ProtocolError, Assert.Single(run.Errors));
            Assert.Equal(new object[] { "fine" }, run.Values("Text"));

            var tooLong = shell.Run("Send-PiLinkMessage -Session $Server -Message $Text", ("Server", server), ("Text", new string('y', 17)));
            PowerShellAssert.Error("PiLinkMessageTooLarge", ErrorCategory.InvalidArgument, Assert.Single(tooLong.Errors));
        }
        finally
        {
            StopServer(server);
        }
    }

    [Fact]
    public void Connect_stops_with_a_terminating_error_on_an_occupied_server_and_a_closed_port_and_registers_nothing()
    {
        var server = StartServer();
        var first = Connect(server.Get("Port")!);
        try
        {
            int before = PiLinkSessionIds().Count;
            var occupied = shell.Run("Connect-PiLink -HostName 127.0.0.1 -Port $Port -OccupiedWaitSec 5", ("Port", server.Get("Port")));
            Assert.Empty(occupied.Objects);
            var error = occupied.TerminatingError;
            PowerShellAssert.Error("PiLinkServerOccupied", ErrorCategory.ResourceUnavailable, error);
            Assert.Contains("SERVER_OCCUPIED", error!.Exception.Message, StringComparison.Ordinal);
            Assert.True(PiLinkSessionIds().Count <= before);
        }
        finally
        {
            Disconnect(first);
            StopServer(server);
        }
        var failed = shell.Run("Connect-PiLink -HostName 127.0.0.1 -Port $Port -TimeoutSec 2", ("Port", server.Get("Port")));
        PowerShellAssert.Error("PiLinkConnectionFailed", ErrorCategory.ConnectionError, failed.TerminatingError);
    }

    [Fact]
    public void Start_PiLinkServer_on_a_taken_port_stops_with_PiLinkPortInUse_and_WhatIf_starts_nothing()
    {
        using var blocker = new TcpListener(IPAddress.Any, 0);
        blocker.Start();
        var run = shell.Run("Start-PiLinkServer -Port $Port", ("Port", ((IPEndPoint)blocker.LocalEndpoint).Port));
        PowerShellAssert.Error("PiLinkPortInUse", ErrorCategory.ResourceUnavailable, run.TerminatingError);
        Assert.Contains("PORT_IN_USE", run.TerminatingError!.Exception.Message, StringComparison.Ordinal);

        var sessions = PiLinkSessionIds().Count;
        var whatIf = shell.Run("Start-PiLinkServer -Port 0 -WhatIf");
        Assert.Empty(whatIf.Objects);
        Assert.Single(whatIf.WhatIf);
        Assert.Equal(sessions, PiLinkSessionIds().Count);
    }

    [Fact]
    public void A_newline_terminator_serves_a_line_client()
    {
        var server = StartServer("-Terminator \"`n\"");
        try
        {
            Assert.Equal((byte)'\n', PSObject.AsPSObject(server.Get("Options")!).Get("Terminator"));
            using var raw = new TcpClient();
            raw.Connect(IPAddress.Loopback, (int)server.Get("Port")!);
            using var writer = new StreamWriter(raw.GetStream()) { AutoFlush = true };
            writer.Write("hello\r\n");
            Assert.Equal(new object[] { "hello" }, Receive(server, "-MessageOnly -Count 1").Values("Text"));
        }
        finally
        {
            StopServer(server);
        }
        var bad = shell.Run("Start-PiLinkServer -Port 0 -Terminator é");
        PowerShellAssert.Error("PiLinkBadTerminator", ErrorCategory.InvalidArgument, bad.TerminatingError);
    }

    [Fact]
    public void A_silent_client_is_dropped_after_IdleTimeoutSec_and_the_next_client_connects_by_default_in_a_short_probe()
    {
        const int pin = 21; // a line no other test presses
        var server = shell.Single("Start-PiButtonServer -Port 0 -Pin $Pin -Simulated -IdleTimeoutSec 1", ("Pin", pin));
        try
        {
            Assert.Equal(TimeSpan.FromSeconds(1), PSObject.AsPSObject(server.Get("Options")!).Get("IdleTimeout"));
            using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000 };
            silent.Connect(IPAddress.Loopback, (int)server.Get("Port")!);
            Assert.Equal(0, silent.Receive(new byte[16])); // closed by the server, not by the 5 s receive timeout

            var run = shell.Run("Connect-PiLink -HostName 127.0.0.1 -Port $Port -Verbose", ("Port", server.Get("Port")));
            var client = Assert.Single(run.Objects);
            try
            {
                // Four loopback handshakes, at least 50 ms: well under 0.1 s (tcpcom blocks 2 s).
                Assert.Contains(run.Verbose, v => v.StartsWith("Watched 0.0", StringComparison.Ordinal));
                Assert.Equal("Button released", Ask(client, "go"));
            }
            finally
            {
                Disconnect(client);
            }
        }
        finally
        {
            StopServer(server);
        }
        var defaults = shell.Single("Start-PiButtonServer -Port 0 -Pin $Pin -Simulated", ("Pin", pin));
        try
        {
            Assert.Equal(TimeSpan.FromSeconds(30), PSObject.AsPSObject(defaults.Get("Options")!).Get("IdleTimeout"));
        }
        finally
        {
            StopServer(defaults);
        }
        var never = shell.Single("Start-PiButtonServer -Port 0 -Pin $Pin -Simulated -IdleTimeoutSec 0", ("Pin", pin));
        StopServer(never);
        Assert.Null(PSObject.AsPSObject(never.Get("Options")!).Get("IdleTimeout"));
    }

    [Fact]
    public void Real_GPIO_on_a_missing_chip_is_ObjectNotFound()
    {
        PowerShellAssert.Error("PiGpioChipNotFound", ErrorCategory.ObjectNotFound, shell.Run("Start-PiButtonServer -Port 0 -Chip 99").TerminatingError);
        PowerShellAssert.Error("PiGpioChipNotFound", ErrorCategory.ObjectNotFound, shell.Run("Get-PiButtonState -Chip 99").TerminatingError);
    }

    [Fact]
    public void Set_PiButtonState_presses_the_button_of_a_running_lab()
    {
        using var lab = new RunningLab(shell, "-PiButton");
        var client = Connect(lab.Port("pibutton"));
        try
        {
            Assert.Equal("Button released", Ask(client, "go"));
            // Only the lab's button: no button server of this process reads a simulated line.
            Assert.Single(shell.Run("Set-PiButtonState -Pressed -Lab $Lab -WhatIf", ("Lab", lab.Lab)).WhatIf);
            Assert.Equal("Button released", Ask(client, "go"));
            shell.Run("Set-PiButtonState -Pressed -Lab $Lab", ("Lab", lab.Lab)).AssertNoErrors();
            Assert.Equal("Button pressed", Ask(client, "go"));
            shell.Run("Set-PiButtonState -Lab $Lab", ("Lab", lab.Lab)).AssertNoErrors();
            Assert.Equal("Button released", Ask(client, "go"));
            // A line that no server of this process reads is an error, and nothing is pressed (not even the lab's).
            var phantom = shell.Run("Set-PiButtonState -Pressed -Lab $Lab -Pin 24", ("Lab", lab.Lab));
            PowerShellAssert.Error("PiButtonNotFound", ErrorCategory.ObjectNotFound, Assert.Single(phantom.Errors));
            Assert.Equal("Button released", Ask(client, "go"));
        }
        finally
        {
            Disconnect(client);
        }
    }
}
