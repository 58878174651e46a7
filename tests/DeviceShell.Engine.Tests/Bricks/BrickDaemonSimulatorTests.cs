using System.Net.Sockets;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Engine.Tests.Bricks;

/// <summary>The simulator speaks like brickd to a raw socket client (what the official bindings would see).</summary>
public class BrickDaemonSimulatorTests
{
    private static async Task<Socket> RawClient(BrickFixture bed)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, bed.Port).Within();
        return socket;
    }

    /// <summary>Reads one packet, or returns null when the daemon closed the connection; fails the test after the limit.</summary>
    private static async Task<byte[]?> Receive(Socket socket, TimeSpan? limit = null)
    {
        using var timeout = new CancellationTokenSource(limit ?? TestTimeouts.Short);
        var header = new byte[8];
        int read = 0;
        while (read < 8)
        {
            int n = await socket.ReceiveAsync(header.AsMemory(read), SocketFlags.None, timeout.Token);
            if (n == 0) return null;
            read += n;
        }
        var packet = new byte[header[4]];
        header.CopyTo(packet, 0);
        while (read < packet.Length)
        {
            int n = await socket.ReceiveAsync(packet.AsMemory(read), SocketFlags.None, timeout.Token);
            if (n == 0) return null;
            read += n;
        }
        return packet;
    }

    [Theory]
    [InlineData("39300000" + "07010800")] // length 7
    [InlineData("39300000" + "51010800")] // length 81
    [InlineData("39300000" + "08001800")] // function 0
    [InlineData("39300000" + "08010800")] // sequence 0
    [InlineData("01000000" + "08011800")] // nonce request while authentication is disabled
    public async Task Invalid_requests_close_the_connection(string hex)
    {
        await using var bed = await BrickFixture.StartAsync();
        using var socket = await RawClient(bed);
        var bytes = Convert.FromHexString(hex);
        await socket.SendAsync(bytes.Concat(new byte[bytes[4] > 8 && bytes[4] <= 80 ? bytes[4] - 8 : 0]).ToArray(), SocketFlags.None);
        Assert.Null(await Receive(socket));
    }

    [Fact]
    public async Task Answers_like_brickd_byte_for_byte()
    {
        await using var bed = await BrickFixture.StartAsync();
        using var socket = await RawClient(bed);
        // Unknown daemon function with R=1: empty response, error 2.
        await socket.SendAsync(Convert.FromHexString("0100000008034800"), SocketFlags.None);
        Assert.Equal("0100000008034880", Convert.ToHexString((await Receive(socket))!));
        // get_identity of 4ER with seq 3: 33 bytes with the identity payload.
        await socket.SendAsync(Convert.FromHexString("3930000008ff3800"), SocketFlags.None);
        byte[] identity = (await Receive(socket))!;
        Assert.Equal("393000002" + "1FF3800", Convert.ToHexString(identity)[..16]);
        Assert.Equal("4ER", BrickDevice.FromPayload(identity.AsSpan(8)).Uid);
        // The probe is swallowed; the next request still gets its answer.
        await socket.SendAsync(Convert.FromHexString("0000000008801000" + "3930000008ff4800"), SocketFlags.None);
        Assert.Equal(0x48, (await Receive(socket))![6]);
    }

    [Fact]
    public async Task Responses_go_to_the_requester_only_and_callbacks_to_everyone()
    {
        await using var bed = await BrickFixture.StartAsync();
        using var asking = await RawClient(bed);
        using var other = await RawClient(bed);
        await asking.SendAsync(Convert.FromHexString("3930000008ff3800"), SocketFlags.None);
        Assert.NotNull(await Receive(asking));
        bed.Daemon.PressButton("23Qx", true);
        byte[] first = (await Receive(other))!;
        Assert.Equal(BrickDeviceCatalog.Find(RgbLedButtonBricklet.Identifier)!.Callback("ButtonStateChanged")!.Id, first[5]);
        Assert.Equal(0x08, first[6]);
        Assert.Equal(BrickDeviceCatalog.Find(RgbLedButtonBricklet.Identifier)!.Callback("ButtonStateChanged")!.Id, (await Receive(asking))![5]);
    }

    [Fact]
    public async Task Authentication_state_machine_follows_brickd()
    {
        await using var bed = await BrickFixture.StartAsync(secret: "pw");
        using (var early = await RawClient(bed))
        {
            // authenticate before asking for a nonce: closed
            await early.SendAsync(Convert.FromHexString("0100000020021800").Concat(new byte[24]).ToArray(), SocketFlags.None);
            Assert.Null(await Receive(early));
        }
        using var socket = await RawClient(bed);
        await socket.SendAsync(Convert.FromHexString("3930000008ff1800"), SocketFlags.None); // dropped before auth
        await socket.SendAsync(Convert.FromHexString("0100000008012800"), SocketFlags.None);
        byte[] nonce = (await Receive(socket))!;
        Assert.Equal("010000000C012800", Convert.ToHexString(nonce)[..16]);
        await socket.SendAsync(Convert.FromHexString("0100000008012800"), SocketFlags.None);
        Assert.Equal(nonce, await Receive(socket)); // same nonce for the connection's lifetime
        var clientNonce = new byte[] { 1, 2, 3, 4 };
        byte[] digest = BrickSession.ComputeDigest("pw", nonce.AsSpan(8), clientNonce);
        await socket.SendAsync(Convert.FromHexString("0100000020023800").Concat(clientNonce).Concat(digest).ToArray(), SocketFlags.None);
        Assert.Equal("0100000008023800", Convert.ToHexString((await Receive(socket))!));
        await socket.SendAsync(Convert.FromHexString("3930000008ff4800"), SocketFlags.None);
        Assert.Equal(33, (await Receive(socket))!.Length);
    }
}
