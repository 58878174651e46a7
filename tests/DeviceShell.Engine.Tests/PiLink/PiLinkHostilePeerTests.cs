using System.Globalization;
using System.Net.Sockets;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.PiLink.Gpio;
using DeviceShell.Lab.Hosting;
using DeviceShell.Lab.PiLink;

namespace DeviceShell.Engine.Tests.PiLink;

/// <summary>
/// docs/design/decisions.md §12.1 and §12.2, against the Pi link servers: hostile peers on loopback (big messages, silent connections) must neither
/// grow the server's memory past its bounds nor lock legitimate clients out.
/// </summary>
public class PiLinkHostilePeerTests
{
    private const int Megabyte = 1024 * 1024;

    [Fact]
    public async Task A_peer_flooding_megabyte_messages_is_held_to_the_byte_bound_and_the_server_still_serves_the_next_client()
    {
        const int line = 27; // a simulated line no other test uses
        await using var server = PiButtonServer.Create(new PiButton(new SimulatedPinSource(0, line), 0, line), 0, PiLinkFixture.Fast);
        server.Start();
        await server.ExpectAsync(PiLinkState.Listening);
        long before = GC.GetTotalMemory(forceFullCollection: true);

        const int flood = 48;
        using (var hostile = await PiLinkFixture.RawConnectAsync(server.Port))
        {
            var message = new byte[Megabyte + 1];
            message.AsSpan(0, Megabyte).Fill((byte)'x'); // exactly the largest message allowed, then its terminator
            for (int i = 0; i < flood; i++) await hostile.SendRawAsync(message);
            await hostile.SendRawAsync(new byte[Megabyte + 10].Select(_ => (byte)'y').Append((byte)0).ToArray()); // one over the limit
            await Eventually.True(() => server.MessagesReceived >= flood, TestTimeouts.Long, "the flood to be received");
            Assert.Equal(flood, server.MessagesReceived);
        }
        await Eventually.True(() => server.ClientAddress is null, what: "the server to see the peer leave");

        // Each message is 2 MiB as text: unbounded, the queue would hold ~96 MiB after the peer left.
        long held = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.True(held < 24L * Megabyte, $"the server holds {held / Megabyte} MiB after the hostile peer left");
        Assert.True(server.DroppedEvents >= flood - 2, $"only {server.DroppedEvents} drops counted");

        await using var client = await PiLinkFixture.ConnectToAsync(server.Port);
        Assert.Equal(PiButtonServer.ReleasedReply, (await client.SendAndReceiveReplyAsync(PiButtonServer.Command, TestTimeouts.Short).Within()).Text);
    }

    [Fact]
    public async Task A_silent_client_frees_the_lab_button_server_within_its_idle_timeout()
    {
        var settings = new Dictionary<string, string> { ["idle-timeout"] = "1" };
        await using var simulator = new PiButtonSimulator();
        var endpoint = await simulator.StartAsync(LabSimulatorOptions.Loopback(settings: settings), CancellationToken.None);

        using var silent = await PiLinkFixture.RawConnectAsync(endpoint.Port);
        Assert.True(await silent.ClosedByPeerAsync(TimeSpan.FromSeconds(5)), "the silent client still holds the server");
        // A probe shorter than the idle timeout: this client is silent too while it watches for SERVER_OCCUPIED.
        await using var client = await PiLinkFixture.ConnectToAsync(endpoint.Port);
        Assert.Equal(PiButtonServer.ReleasedReply, (await client.SendAndReceiveReplyAsync(PiButtonServer.Command, TestTimeouts.Short).Within()).Text);
    }

    [Fact]
    public async Task Both_ends_of_a_link_probe_a_vanished_peer_with_TCP_keep_alive()
    {
        await using var pi = await PiLinkFixture.StartAsync();
        var server = pi.Server;
        var client = await pi.ConnectAsync();
        // The kernel's socket table shows which timer runs on each established socket; a socket with SO_KEEPALIVE
        // and nothing in flight runs the keepalive timer (column "tr" = 2). One row for each end of the connection,
        // in tcp (IPv4 sockets) or tcp6 (dual-mode sockets).
        string port = server.Port.ToString("X4", CultureInfo.InvariantCulture);
        var rows = new[] { "/proc/net/tcp", "/proc/net/tcp6" }
            .SelectMany(File.ReadLines)
            .Select(row => row.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 5 && f[3] == "01" && (f[1].EndsWith(":" + port, StringComparison.Ordinal) || f[2].EndsWith(":" + port, StringComparison.Ordinal)))
            .ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, f => Assert.Equal("02", f[5].Split(':')[0]));
    }
}
