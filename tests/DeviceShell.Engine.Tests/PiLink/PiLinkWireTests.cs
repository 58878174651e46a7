using System.Net;
using System.Net.Sockets;
using System.Text;
using DeviceShell.Engine.PiLink;

namespace DeviceShell.Engine.Tests.PiLink;

/// <summary>
/// Compatibility checked on the bytes: our server from a raw socket client, and our client against a raw socket peer
/// that behaves like tcpcom's server (accept, NUL-terminated UTF-8 both ways, a second client closed at once).
/// </summary>
public class PiLinkWireTests
{
    [Fact]
    public async Task Our_server_from_a_raw_client_several_per_write_split_writes_and_the_empty_message()
    {
        await using var pi = await PiLinkFixture.StartAsync();
        var server = pi.Server;
        using var raw = await PiLinkFixture.RawConnectAsync(server.Port);
        await server.ExpectAsync(PiLinkState.Listening);
        await server.ExpectAsync(PiLinkState.Connected);

        await raw.SendRawAsync("a\0\0b\0");
        byte[] greeting = Encoding.UTF8.GetBytes("Grüße\0");
        await raw.SendRawAsync(greeting[..3]); // splits the two bytes of 'ü'
        await Task.Delay(50); // the point: the halves arrive in separate reads
        await raw.SendRawAsync(greeting[3..]);

        foreach (string expected in new[] { "a", "", "b", "Grüße" })
            await server.ExpectAsync(PiLinkState.Message, expected);

        await server.SendAsync("Grüße zurück").Within();
        Assert.Equal(Encoding.UTF8.GetBytes("Grüße zurück"), await raw.ReadBlockAsync());
    }

    [Fact]
    public async Task Our_client_against_a_raw_tcpcom_style_server()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepting = listener.AcceptSocketAsync();

        await using var client = await PiLinkFixture.ConnectToAsync(port);
        using var peer = await accepting.WaitAsync(TestTimeouts.Short);

        await client.SendAsync("go").Within();
        Assert.Equal("go"u8.ToArray(), await peer.ReadBlockAsync());
        var reply = client.SendAndReceiveReplyAsync("go", TimeSpan.FromSeconds(5));
        Assert.Equal("go"u8.ToArray(), await peer.ReadBlockAsync());
        await peer.SendRawAsync("Button pressed\0");
        Assert.Equal("Button pressed", (await reply.Within()).Text);

        // A second client on the tcpcom server: accepted and closed at once.
        var refusing = listener.AcceptSocketAsync();
        await using var second = new PiLinkSession("127.0.0.1", port, PiLinkFixture.Patient);
        var outcome = second.ConnectAsync();
        using (var newcomer = await refusing.WaitAsync(TestTimeouts.Short))
        {
            newcomer.Shutdown(SocketShutdown.Both);
        }
        Assert.Equal(PiLinkState.ServerOccupied, await outcome.Within());

        peer.Shutdown(SocketShutdown.Both); // the tcpcom server disconnects the first client
        await client.ExpectAsync(PiLinkState.Disconnected, "");
        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task A_message_sent_by_the_server_during_the_probe_arrives_after_CONNECTED()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var greeter = Task.Run(async () =>
        {
            var socket = await listener.AcceptSocketAsync();
            await socket.SendRawAsync("hello\0");
            return socket;
        });
        await using var client = await PiLinkFixture.ConnectToAsync(port); // asserts CONNECTING, CONNECTED first
        using var peer = await greeter.Within();
        await client.ExpectAsync(PiLinkState.Message, "hello");
    }

    [Fact]
    public async Task Garbage_without_a_terminator_up_to_the_limit_is_an_error_and_the_link_stays_usable()
    {
        await using var pi = await PiLinkFixture.StartAsync(PiLinkFixture.Fast with { MaxMessageBytes = 1024 });
        var server = pi.Server;
        using var raw = await PiLinkFixture.RawConnectAsync(server.Port);
        await server.ExpectAsync(PiLinkState.Listening);
        await server.ExpectAsync(PiLinkState.Connected);

        var garbage = new byte[3000];
        new Random(7).NextBytes(garbage);
        for (int i = 0; i < garbage.Length; i++) if (garbage[i] == 0) garbage[i] = 0xFF;
        await raw.SendRawAsync(garbage);
        var tooLarge = await server.ExpectAsync(PiLinkState.MessageTooLarge);
        Assert.Contains("limit 1024", tooLarge.Text, StringComparison.Ordinal);

        await raw.SendRawAsync("\0after\0");
        await server.ExpectAsync(PiLinkState.Message, "after");
        Assert.Equal(PiLinkState.Connected, server.LinkState);
    }

    [Fact]
    public async Task Ten_thousand_messages_in_one_burst_arrive_complete_and_in_order()
    {
        await using var pi = await PiLinkFixture.StartAsync();
        var server = pi.Server;
        var client = await pi.ConnectAsync();

        const int count = 10_000;
        var burst = new StringBuilder();
        var sends = new List<Task>(count);
        for (int i = 0; i < count; i++) sends.Add(client.SendAsync("m" + i));
        await Task.WhenAll(sends).Within(TestTimeouts.Long);
        for (int i = 0; i < count; i++)
        {
            var item = await server.NextAsync();
            Assert.Equal(PiLinkState.Message, item.State);
            Assert.Equal("m" + i, item.Text);
        }
        Assert.Equal(count, server.MessagesReceived);
        Assert.Equal(0, server.DroppedEvents);
    }

    [Fact]
    public async Task A_newline_terminator_serves_line_oriented_clients()
    {
        await using var pi = await PiLinkFixture.StartAsync(PiLinkFixture.Fast with { Terminator = (byte)'\n' });
        var server = pi.Server;
        using var raw = await PiLinkFixture.RawConnectAsync(server.Port);
        await server.ExpectAsync(PiLinkState.Listening);
        await server.ExpectAsync(PiLinkState.Connected);
        await raw.SendRawAsync("status\r\n");
        await server.ExpectAsync(PiLinkState.Message, "status");
        await server.SendAsync("ok").Within();
        Assert.Equal("ok"u8.ToArray(), await raw.ReadBlockAsync((byte)'\n'));
    }
}
