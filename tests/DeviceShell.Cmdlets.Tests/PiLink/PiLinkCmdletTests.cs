using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using DeviceShell.Commands;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.PiLink.Gpio;
using DeviceShell.Engine.Sessions;
using DeviceShell.Testing;

namespace DeviceShell.Cmdlets.Tests.PiLink;

/// <summary>The Pi link cmdlets through the harness, over loopback TCP; every session and server is passed explicitly.</summary>
public class PiLinkCmdletTests
{
    private static PiLinkServer StartButtonServer(int pin)
    {
        var run = CmdletHarness.Invoke(new StartPiButtonServerCommand(), ("Port", 0), ("Pin", pin), ("Simulated", true));
        Assert.Null(run.TerminatingError);
        return Assert.IsType<PiLinkServer>(Assert.Single(run.Objects));
    }

    private static PiLinkSession Connect(int port)
    {
        var run = CmdletHarness.Invoke(new ConnectPiLinkCommand(), ("HostName", "127.0.0.1"), ("Port", port), ("OccupiedWaitSec", 0.2));
        Assert.Empty(run.Errors);
        return Assert.IsType<PiLinkSession>(Assert.Single(run.Objects));
    }

    private static string Ask(PiLinkSession session, string text)
    {
        var run = CmdletHarness.Invoke(new SendPiLinkMessageCommand(), ("Session", session), ("Message", text), ("WaitReplySec", 5));
        Assert.Empty(run.Errors);
        return Assert.IsType<PiLinkMessage>(Assert.Single(run.Objects)).Text;
    }

    private static void Close(DeviceSession session) => session.DisposeAsync().AsTask().Wait(TestSupport.Short);

    [Fact]
    public void The_tutorial_button_server_answers_go_and_follows_Set_PiButtonState()
    {
        const int pin = 23; // a line no other test presses
        var server = StartButtonServer(pin);
        try
        {
            Assert.Contains(server, SessionRegistry.Shared.List(DeviceWorld.PiLink));
            var client = Connect(server.Port);
            try
            {
                Assert.Equal("Button released", Ask(client, "go"));
                var press = CmdletHarness.Invoke(new SetPiButtonStateCommand(), ("Pressed", true), ("Pin", pin), ("PassThru", true));
                Assert.True(Assert.IsType<PiButtonState>(Assert.Single(press.Objects)).Pressed);
                Assert.Equal("Button pressed", Ask(client, "go"));

                var read = CmdletHarness.Invoke(new GetPiButtonStateCommand(), ("Pin", pin), ("Simulated", true));
                var state = Assert.IsType<PiButtonState>(Assert.Single(read.Objects));
                Assert.True(state.Pressed);
                Assert.Contains(read.Verbose, v => v.Contains("button server that holds it", StringComparison.Ordinal));

                CmdletHarness.Invoke(new SetPiButtonStateCommand(), ("Pin", pin));
                Assert.Equal("Button released", Ask(client, "go"));

                // The server's own view: state changes and the messages it received.
                var seen = CmdletHarness.Invoke(new ReceivePiLinkMessageCommand(), new Dictionary<string, object?> { ["Count"] = 5, ["TimeoutSec"] = 5 }, input: new[] { server });
                Assert.Equal(new[] { "LISTENING", "CONNECTED", "MESSAGE", "MESSAGE", "MESSAGE" }, seen.OfType<PiLinkMessage>().Select(m => m.StateName));
                Assert.All(seen.OfType<PiLinkMessage>().Skip(2), m => Assert.Equal("go", m.Text));
            }
            finally
            {
                var disconnect = CmdletHarness.Invoke(new DisconnectPiLinkCommand(), ("Session", client), ("PassThru", true));
                Assert.Same(client, Assert.Single(disconnect.Objects));
                Assert.Equal(DeviceSessionState.Closed, client.State);
            }
        }
        finally
        {
            var stop = CmdletHarness.Invoke(new StopPiLinkServerCommand(), ("Session", server), ("PassThru", true));
            Assert.Single(stop.ShouldProcessCalls);
            Assert.Same(server, Assert.Single(stop.Objects));
        }
        Assert.DoesNotContain(server, SessionRegistry.Shared.List());
        Assert.Equal(PiLinkState.Terminated, server.LinkState);
    }

    [Fact]
    public void Receive_reads_messages_and_state_changes_of_a_client()
    {
        var run = CmdletHarness.Invoke(new StartPiLinkServerCommand(), ("Port", 0));
        var server = Assert.IsType<PiLinkServer>(Assert.Single(run.Objects));
        var client = Connect(server.Port);
        try
        {
            Assert.Empty(CmdletHarness.Invoke(new SendPiLinkMessageCommand(), ("Session", client), ("Message", new[] { "one", "two" })).Errors);
            var received = CmdletHarness.Invoke(new ReceivePiLinkMessageCommand(), ("Session", server), ("MessageOnly", true), ("Count", 2), ("TimeoutSec", 5));
            Assert.Equal(new[] { "one", "two" }, received.OfType<PiLinkMessage>().Select(m => m.Text));

            Assert.Empty(CmdletHarness.Invoke(new SendPiLinkMessageCommand(), ("Session", server), ("Message", "back")).Errors);
            var atClient = CmdletHarness.Invoke(new ReceivePiLinkMessageCommand(), ("Session", client), ("Count", 3), ("TimeoutSec", 5));
            Assert.Equal(new[] { "CONNECTING", "CONNECTED", "MESSAGE" }, atClient.OfType<PiLinkMessage>().Select(m => m.StateName));
            Assert.Equal("back", atClient.OfType<PiLinkMessage>().Last().Text);
        }
        finally
        {
            Close(client);
            Close(server);
        }
    }

    [Fact]
    public void An_oversized_message_is_a_non_terminating_error_and_the_link_goes_on()
    {
        var server = Assert.IsType<PiLinkServer>(Assert.Single(
            CmdletHarness.Invoke(new StartPiLinkServerCommand(), ("Port", 0), ("MaxMessageBytes", 16)).Objects));
        try
        {
            using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            raw.Connect(IPAddress.Loopback, server.Port);
            raw.Send(new byte[40].Select(_ => (byte)'x').Concat("\0fine\0"u8.ToArray()).ToArray());
            var run = CmdletHarness.Invoke(new ReceivePiLinkMessageCommand(), ("Session", server), ("MessageOnly", true), ("Count", 1), ("TimeoutSec", 5));
            var error = Assert.Single(run.Errors);
            Assert.Equal("PiLinkMessageTooLarge", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ProtocolError, error.CategoryInfo.Category);
            Assert.Equal("fine", Assert.IsType<PiLinkMessage>(Assert.Single(run.Objects)).Text);

            var tooLong = CmdletHarness.Invoke(new SendPiLinkMessageCommand(), ("Session", server), ("Message", new string('y', 17)));
            Assert.Equal("PiLinkMessageTooLarge", Assert.Single(tooLong.Errors).FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, tooLong.Errors[0].CategoryInfo.Category);
        }
        finally
        {
            Close(server);
        }
    }

    [Fact]
    public void Connect_reports_an_occupied_server_and_a_closed_port_as_errors_and_registers_nothing()
    {
        var server = Assert.IsType<PiLinkServer>(Assert.Single(CmdletHarness.Invoke(new StartPiLinkServerCommand(), ("Port", 0)).Objects));
        var first = Connect(server.Port);
        try
        {
            int before = SessionRegistry.Shared.List(DeviceWorld.PiLink).Count;
            var occupied = CmdletHarness.Invoke(new ConnectPiLinkCommand(), ("HostName", "127.0.0.1"), ("Port", server.Port), ("OccupiedWaitSec", 5));
            Assert.Empty(occupied.Objects);
            var error = Assert.Single(occupied.Errors);
            Assert.Equal("PiLinkServerOccupied", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ResourceUnavailable, error.CategoryInfo.Category);
            Assert.Contains("SERVER_OCCUPIED", error.Exception.Message, StringComparison.Ordinal);
            Assert.True(SessionRegistry.Shared.List(DeviceWorld.PiLink).Count <= before);
        }
        finally
        {
            Close(first);
            Close(server);
        }
        var failed = CmdletHarness.Invoke(new ConnectPiLinkCommand(), ("HostName", "127.0.0.1"), ("Port", server.Port), ("TimeoutSec", 2));
        var refused = Assert.Single(failed.Errors);
        Assert.Equal("PiLinkConnectionFailed", refused.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ConnectionError, refused.CategoryInfo.Category);
    }

    [Fact]
    public void Start_PiLinkServer_on_a_taken_port_stops_with_PiLinkPortInUse_and_WhatIf_starts_nothing()
    {
        using var blocker = new TcpListener(IPAddress.Any, 0);
        blocker.Start();
        int port = ((IPEndPoint)blocker.LocalEndpoint).Port;
        var run = CmdletHarness.Invoke(new StartPiLinkServerCommand(), ("Port", port));
        Assert.Equal("PiLinkPortInUse", run.TerminatingError?.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceUnavailable, run.TerminatingError!.CategoryInfo.Category);
        Assert.Contains("PORT_IN_USE", run.TerminatingError.Exception.Message, StringComparison.Ordinal);

        var whatIf = CmdletHarness.Invoke(new StartPiLinkServerCommand(), new Dictionary<string, object?> { ["Port"] = 0 }, whatIf: true);
        Assert.Empty(whatIf.Objects);
        Assert.Single(whatIf.ShouldProcessCalls);
    }

    [Fact]
    public void A_newline_terminator_serves_a_line_client()
    {
        var server = Assert.IsType<PiLinkServer>(Assert.Single(CmdletHarness.Invoke(new StartPiLinkServerCommand(), ("Port", 0), ("Terminator", "\n")).Objects));
        try
        {
            Assert.Equal((byte)'\n', server.Options.Terminator);
            using var raw = new TcpClient();
            raw.Connect(IPAddress.Loopback, server.Port);
            using var writer = new StreamWriter(raw.GetStream()) { AutoFlush = true };
            writer.Write("hello\r\n");
            var run = CmdletHarness.Invoke(new ReceivePiLinkMessageCommand(), ("Session", server), ("MessageOnly", true), ("Count", 1), ("TimeoutSec", 5));
            Assert.Equal("hello", Assert.IsType<PiLinkMessage>(Assert.Single(run.Objects)).Text);
        }
        finally
        {
            Close(server);
        }
        var bad = CmdletHarness.Invoke(new StartPiLinkServerCommand(), ("Port", 0), ("Terminator", "é"));
        Assert.Equal("PiLinkBadTerminator", bad.TerminatingError?.FullyQualifiedErrorId);
    }

    [Fact]
    public void Real_GPIO_on_a_missing_chip_is_ObjectNotFound()
    {
        var server = CmdletHarness.Invoke(new StartPiButtonServerCommand(), ("Port", 0), ("Chip", 99));
        Assert.Equal("PiGpioChipNotFound", server.TerminatingError?.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, server.TerminatingError!.CategoryInfo.Category);
        var read = CmdletHarness.Invoke(new GetPiButtonStateCommand(), ("Chip", 99));
        Assert.Equal("PiGpioChipNotFound", read.TerminatingError?.FullyQualifiedErrorId);
    }

    [Fact]
    public async Task Set_PiButtonState_presses_the_button_of_a_running_lab()
    {
        var lab = Assert.IsType<DeviceLab>(Assert.Single(CmdletHarness.Invoke(new StartDeviceLabCommand(), ("PiButton", true)).Objects));
        await using (lab)
        {
            var client = Connect(lab["pibutton"]!.Port);
            try
            {
                Assert.Equal("Button released", Ask(client, "go"));
                var press = CmdletHarness.Invoke(new SetPiButtonStateCommand(), ("Pressed", true), ("Lab", lab), ("Pin", 24));
                Assert.Empty(press.Errors);
                Assert.Equal(2, press.ShouldProcessCalls.Count);
                Assert.Equal("Button pressed", Ask(client, "go"));
                CmdletHarness.Invoke(new SetPiButtonStateCommand(), ("Lab", lab), ("Pin", 24));
                Assert.Equal("Button released", Ask(client, "go"));
            }
            finally
            {
                Close(client);
            }
        }
    }
}
