using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Tests.PiLink;

/// <summary>The canonical interaction sequences of docs/design/pilink-tcpcom.md §9, one test each, over loopback TCP.</summary>
public class PiLinkSequenceTests
{
    private static string PortText(PiLinkServer server) => server.Port.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Server_start_reports_LISTENING_with_the_port()
    {
        await using var pi = await PiLinkFixture.StartAsync();
        var server = pi.Server;
        Assert.InRange(server.Port, 1, 65535);
        await server.ExpectAsync(PiLinkState.Listening, PortText(server));
        Assert.Equal(PiLinkState.Listening, server.LinkState);
        Assert.Equal(DeviceSessionState.Disconnected, server.State);
    }

    [Fact]
    public async Task Client_connect_send_and_reply_follow_the_tcpcom_sequence()
    {
        await using var pi = await PiLinkFixture.StartAsync();
        var server = pi.Server;
        await server.ExpectAsync(PiLinkState.Listening);
        await using var client = await PiLinkFixture.ConnectToAsync(server.Port);
        Assert.True(client.IsConnected);
        Assert.Equal(DeviceSessionState.Connected, client.State);

        var connected = await server.ExpectAsync(PiLinkState.Connected, "127.0.0.1");
        Assert.Equal("127.0.0.1", connected.Peer);
        Assert.Equal("127.0.0.1", server.ClientAddress);

        await client.SendAsync("go").Within();
        var message = await server.ExpectAsync(PiLinkState.Message, "go");
        Assert.Equal("127.0.0.1", message.Peer);

        await server.SendAsync("Button released").Within();
        var reply = await client.ExpectAsync(PiLinkState.Message, "Button released");
        Assert.Equal($"127.0.0.1:{server.Port}", reply.Peer);
        Assert.Equal(1, client.MessagesSent);
        Assert.Equal(1, client.MessagesReceived);
    }

    [Fact]
    public async Task A_second_client_is_closed_at_once_and_sees_SERVER_OCCUPIED_then_DISCONNECTED()
    {
        await using var pi = await PiLinkFixture.StartAsync();
        var server = pi.Server;
        var first = await pi.ConnectAsync();

        await using var second = new PiLinkSession("127.0.0.1", server.Port, PiLinkFixture.Patient);
        Assert.Equal(PiLinkState.ServerOccupied, await second.ConnectAsync().Within());
        await second.ExpectAsync(PiLinkState.Connecting);
        await second.ExpectAsync(PiLinkState.ServerOccupied, $"127.0.0.1:{server.Port}");
        await second.ExpectAsync(PiLinkState.Disconnected, "");
        Assert.False(second.IsConnected);
        Assert.Contains("another client", second.LastError, StringComparison.Ordinal);

        server.ExpectQuiet(); // the server says nothing about a refused client
        Assert.Equal(1, server.RefusedClients);
        await first.SendAsync("still here").Within();
        await server.ExpectAsync(PiLinkState.Message, "still here");
    }

    [Fact]
    public async Task No_server_at_the_address_gives_CONNECTION_FAILED()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        } // closed again: nothing listens on this port now
        await using var client = new PiLinkSession("127.0.0.1", port, PiLinkFixture.Fast);
        Assert.Equal(PiLinkState.ConnectionFailed, await client.ConnectAsync().Within());
        await client.ExpectAsync(PiLinkState.Connecting, $"127.0.0.1:{port}");
        await client.ExpectAsync(PiLinkState.ConnectionFailed, $"127.0.0.1:{port}");
        Assert.NotNull(client.LastError);
        var send = await Assert.ThrowsAsync<DeviceException>(() => client.SendAsync("go"));
        Assert.Equal("PiLinkNotConnected", send.ErrorId);
    }

    [Fact]
    public async Task Client_disconnect_gives_server_LISTENING_and_client_DISCONNECTED()
    {
        await using var pi = await PiLinkFixture.StartAsync();
        var server = pi.Server;
        var client = await pi.ConnectAsync();

        await client.DisconnectAsync().Within();
        await client.ExpectAsync(PiLinkState.Disconnected, "");
        await server.ExpectAsync(PiLinkState.Listening, PortText(server));
        Assert.Null(server.ClientAddress);
        Assert.Equal(DeviceSessionState.Disconnected, client.State);
    }

    [Fact]
    public async Task A_client_connecting_right_after_another_disconnected_is_never_refused()
    {
        await using var pi = await PiLinkFixture.StartAsync();
        var server = pi.Server;
        // The patient probe turns a late refusal into SERVER_OCCUPIED rather than letting it pass as CONNECTED.
        for (int round = 0; round < 20; round++)
        {
            await using var client = new PiLinkSession("127.0.0.1", server.Port, PiLinkFixture.Patient with { OccupiedWait = TimeSpan.FromMilliseconds(300) });
            Assert.Equal(PiLinkState.Connected, await client.ConnectAsync().Within());
            await client.DisconnectAsync().Within();
            Assert.Null(server.ClientAddress); // the server saw the end before the disconnect returned
        }
    }

    [Fact]
    public async Task Server_disconnect_clears_the_client_connected_flag()
    {
        await using var pi = await PiLinkFixture.StartAsync();
        var server = pi.Server;
        var client = await pi.ConnectAsync();

        await server.DisconnectClientAsync().Within();
        await server.ExpectAsync(PiLinkState.Listening, PortText(server));
        await client.ExpectAsync(PiLinkState.Disconnected, "");
        Assert.False(client.IsConnected); // upstream kept returning True here
        Assert.Equal(PiLinkState.Disconnected, client.LinkState);

        // The server takes the next client.
        await using var next = await PiLinkFixture.ConnectToAsync(server.Port);
        await server.ExpectAsync(PiLinkState.Connected);
    }

    [Fact]
    public async Task Server_idle_timeout_disconnects_a_silent_client()
    {
        await using var pi = await PiLinkFixture.StartAsync(PiLinkFixture.Fast with { IdleTimeout = TimeSpan.FromSeconds(1) });
        var server = pi.Server;
        var client = await pi.ConnectAsync();
        await client.SendAsync("tick").Within(); // activity resets the timer
        await server.ExpectAsync(PiLinkState.Message, "tick");

        await server.ExpectAsync(PiLinkState.Listening, PortText(server));
        await client.ExpectAsync(PiLinkState.Disconnected, "");
    }

    [Fact]
    public async Task Server_terminate_with_a_client_gives_TERMINATED_and_client_DISCONNECTED()
    {
        await using var pi = await PiLinkFixture.StartAsync();
        var server = pi.Server;
        var client = await pi.ConnectAsync();

        await server.DisposeAsync().AsTask().Within();
        await server.ExpectAsync(PiLinkState.Terminated, "");
        server.ExpectQuiet(); // no LISTENING after TERMINATED
        Assert.Equal(DeviceSessionState.Closed, server.State);
        await client.ExpectAsync(PiLinkState.Disconnected, "");

        await using var late = new PiLinkSession("127.0.0.1", server.Port, PiLinkFixture.Fast);
        Assert.Equal(PiLinkState.ConnectionFailed, await late.ConnectAsync().Within());
    }

    [Fact]
    public async Task A_port_in_use_reports_PORT_IN_USE_and_a_clear_error()
    {
        using var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        int port = ((IPEndPoint)blocker.LocalEndpoint).Port;
        await using var server = new PiLinkServer(port, PiLinkFixture.Fast);
        var error = Assert.Throws<DeviceException>(server.Start);
        Assert.Equal("PiLinkPortInUse", error.ErrorId);
        Assert.Equal(DeviceErrorKind.ResourceUnavailable, error.Kind);
        await server.ExpectAsync(PiLinkState.PortInUse, port.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(PiLinkState.PortInUse, server.LinkState);
    }

    [Fact]
    public async Task WaitReply_returns_the_reply_and_does_not_queue_it_twice()
    {
        await using var pi = await PiLinkFixture.StartAsync(PiLinkFixture.Fast);
        var server = pi.Server;
        await using var client = await PiLinkFixture.ConnectToAsync(server.Port);
        var echo = Task.Run(async () =>
        {
            PiLinkMessage item;
            do item = await server.NextAsync(); while (item.State != PiLinkState.Message);
            await server.SendAsync("re: " + item.Text);
        });
        var reply = await client.SendAndReceiveReplyAsync("go", TimeSpan.FromSeconds(5)).Within();
        await echo.Within();
        Assert.Equal("re: go", reply.Text);
        client.ExpectQuiet();

        var timeout = await Assert.ThrowsAsync<DeviceException>(() => client.SendAndReceiveReplyAsync("nobody answers", TimeSpan.FromMilliseconds(200)));
        Assert.Equal("PiLinkReplyTimeout", timeout.ErrorId);
        Assert.Equal(DeviceErrorKind.Timeout, timeout.Kind);
        await server.SendAsync("late").Within(); // a reply after the timeout goes to the queue
        await client.ExpectAsync(PiLinkState.Message, "late");
    }
}
