using System.Diagnostics;
using System.Net.Sockets;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Tests.Bricks;

/// <summary>The client against daemons that misbehave on purpose: it must end in clear errors and recover, never spin or hang.</summary>
public class HostilePeerTests
{
    private static BrickConnectOptions Options(int port) => new()
    {
        HostName = "127.0.0.1",
        Port = port,
        Timeout = TimeSpan.FromSeconds(10), // far above what a broken stream may cost: the calls below must fail long before
        ReconnectInterval = TimeSpan.FromMilliseconds(50),
    };

    /// <summary>Answers every request properly with a 2-byte payload (what a good device would do).</summary>
    private static async Task AnswerProperly(Socket socket)
    {
        while (true) await AnswerNext(socket, TimeSpan.Zero);
    }

    /// <summary>Reads up to the next request that expects a response and answers it after <paramref name="delay"/>.</summary>
    private static async Task AnswerNext(Socket socket, TimeSpan delay)
    {
        byte[] request;
        do request = await HostilePeer.ReadRequestAsync(socket);
        while (request[5] == TfpFunction.DisconnectProbe || (request[6] & 0x08) == 0);
        var response = new byte[10];
        request.AsSpan(0, 8).CopyTo(response);
        response[4] = 10;
        response[8] = 0x0b;
        response[9] = 0x09;
        if (delay > TimeSpan.Zero) await Task.Delay(delay); // a slow device, not a wait for a condition
        await socket.SendAsync(response, SocketFlags.None);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(81)]
    [InlineData(255)]
    public async Task A_malformed_length_fails_the_call_with_MalformedPacket_disconnects_with_Error_then_auto_reconnects(int badLength)
    {
        await using var peer = new HostilePeer(async (socket, index) =>
        {
            if (index > 1)
            {
                await AnswerProperly(socket);
                return;
            }
            byte[] request = await HostilePeer.ReadRequestAsync(socket);
            var garbage = new byte[90];
            request.AsSpan(0, 4).CopyTo(garbage);
            garbage[4] = (byte)badLength;
            await socket.SendAsync(garbage, SocketFlags.None);
            await Task.Delay(TimeSpan.FromSeconds(10)); // holds the broken stream open: the call must fail on the bytes, not on a close
        });
        await using var session = await BrickSession.ConnectAsync(Options(peer.Port)).Within();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.CallAsync(12345, 1, Array.Empty<byte>(), 2).Within());
        Assert.Equal(("MalformedPacket", DeviceErrorKind.Protocol, (int?)null), (error.ErrorId, error.Kind, error.ErrorCode));
        Assert.Contains("out of sync", error.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "a broken stream must fail the waiting call at once, not after the timeout");

        var lost = await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Disconnected);
        Assert.Equal("Error", lost.Reason);
        var back = await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Connected && e.Reason == "AutoReconnect");
        Assert.NotNull(back);
        Assert.Equal(new byte[] { 0x0b, 0x09 }, await session.CallAsync(12345, 1, Array.Empty<byte>(), 2).Within());
    }

    [Fact]
    public async Task A_daemon_that_closes_mid_response_fails_the_call_at_once_and_reconnects()
    {
        await using var peer = new HostilePeer(async (socket, index) =>
        {
            if (index > 1)
            {
                await AnswerProperly(socket);
                return;
            }
            byte[] request = await HostilePeer.ReadRequestAsync(socket);
            var half = new byte[6];
            request.AsSpan(0, 6).CopyTo(half);
            half[4] = 10;
            await socket.SendAsync(half, SocketFlags.None);
            socket.Shutdown(SocketShutdown.Both);
        });
        await using var session = await BrickSession.ConnectAsync(Options(peer.Port)).Within();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.CallAsync(12345, 1, Array.Empty<byte>(), 2).Within());
        Assert.Equal("ConnectionLost", error.ErrorId);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "a closed connection must fail the waiting call at once, not after the timeout");
        Assert.Equal("Shutdown", (await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Disconnected)).Reason);
        await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Connected && e.Reason == "AutoReconnect");
        Assert.Equal(new byte[] { 0x0b, 0x09 }, await session.CallAsync(12345, 1, Array.Empty<byte>(), 2).Within());
    }

    [Fact]
    public async Task A_late_answer_after_a_timeout_is_dropped_and_does_not_confuse_the_next_call()
    {
        var callTimedOut = new SyncPoint();
        await using var peer = new HostilePeer(async (socket, _) =>
        {
            byte[] first = await HostilePeer.ReadRequestAsync(socket);
            await callTimedOut.WaitAsync(); // answers only once the caller has given up, however busy the machine
            var late = new byte[10];
            first.AsSpan(0, 8).CopyTo(late);
            late[4] = 10;
            late[8] = 0xEE;
            await socket.SendAsync(late, SocketFlags.None);
            await AnswerProperly(socket);
        });
        await using var session = await BrickSession.ConnectAsync(Options(peer.Port) with { Timeout = TimeSpan.FromMilliseconds(200) }).Within();
        Assert.Equal("RequestTimeout", (await Assert.ThrowsAsync<DeviceException>(() => session.CallAsync(12345, 1, Array.Empty<byte>(), 2))).ErrorId);
        callTimedOut.Reach();
        await Eventually.True(() => session.StaleResponses == 1, what: "the late answer");
        Assert.Equal(new byte[] { 0x0b, 0x09 }, await session.CallAsync(12345, 1, Array.Empty<byte>(), 2, TimeSpan.FromSeconds(5)).Within(TimeSpan.FromSeconds(10)));
    }

    /// <summary>
    /// docs/design/decisions.md §13.8: the link's reader thread completes a call inline, so calls made back to back
    /// from the previous call's continuation (as a loop awaiting CallAsync makes them) are sent from the reader thread
    /// itself; a slow answer and a daemon that closes while the reader is blocked must still reach the waiting call.
    /// </summary>
    [Fact]
    public async Task Back_to_back_calls_from_the_reader_thread_get_slow_answers_and_hear_at_once_of_a_close()
    {
        const int Calls = 40;
        await using var peer = new HostilePeer(async (socket, index) =>
        {
            if (index > 1)
            {
                await AnswerProperly(socket);
                return;
            }
            for (int i = 0; i < Calls; i++) await AnswerNext(socket, i % 10 == 5 ? TimeSpan.FromMilliseconds(50) : TimeSpan.Zero);
            await HostilePeer.ReadRequestAsync(socket);
            socket.Shutdown(SocketShutdown.Both);
        });
        await using var session = await BrickSession.ConnectAsync(Options(peer.Port)).Within();
        var clock = new Stopwatch();
        var closed = await Task.Run(async () =>
        {
            // ConfigureAwait(false): each next call starts on the reader, inline, while no response is pending.
            for (int i = 0; i < Calls; i++)
                Assert.Equal(new byte[] { 0x0b, 0x09 }, await session.CallAsync(12345, 1, Array.Empty<byte>(), 2).ConfigureAwait(false));
            clock.Start();
            return await Assert.ThrowsAsync<DeviceException>(() => session.CallAsync(12345, 1, Array.Empty<byte>(), 2)).ConfigureAwait(false);
        }).Within();
        Assert.Equal("ConnectionLost", closed.ErrorId);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "a closed connection must fail the waiting call at once, not after the timeout");
        await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Connected && e.Reason == "AutoReconnect");
        Assert.Equal(new byte[] { 0x0b, 0x09 }, await session.CallAsync(12345, 1, Array.Empty<byte>(), 2).Within());
    }
}
