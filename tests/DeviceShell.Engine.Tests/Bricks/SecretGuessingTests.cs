using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Engine.Tests.Bricks;

/// <summary>
/// The Lab's Brick Daemon slows secret guessing down per client address (docs/design/decisions.md §25.6): a few free failures,
/// then a growing delay; an address without failures is not held behind the guesser's.
/// </summary>
public sealed class SecretGuessingTests
{
    private const string Secret = "the owner's secret";

    /// <summary>One handshake from <paramref name="from"/>: true when the daemon accepted the digest, false when it closed the connection.</summary>
    private static async Task<bool> AuthenticateAsync(int port, IPAddress from, string secret, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Bind(new IPEndPoint(from, 0));
        await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        await socket.SendAsync(Convert.FromHexString("0100000008011800"), SocketFlags.None, cancellationToken);
        byte[]? nonce = await ReceiveAsync(socket, cancellationToken);
        if (nonce is null) throw new SocketException((int)SocketError.ConnectionReset);
        var clientNonce = new byte[] { 9, 8, 7, 6 };
        byte[] digest = BrickSession.ComputeDigest(secret, nonce.AsSpan(8, 4), clientNonce);
        await socket.SendAsync(Convert.FromHexString("0100000020022800").Concat(clientNonce).Concat(digest).ToArray(), SocketFlags.None, cancellationToken);
        byte[]? answer = await ReceiveAsync(socket, cancellationToken);
        return answer is not null && answer[7] >> 6 == 0;
    }

    private static async Task<byte[]?> ReceiveAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[80];
        int read = 0;
        while (read < 8 || read < buffer[4])
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
            if (n == 0) return null;
            read += n;
        }
        return buffer[..buffer[4]];
    }

    [Fact]
    public async Task Guesses_from_one_address_are_slowed_down_and_the_owner_elsewhere_gets_in_at_once()
    {
        await using var bed = await BrickFixture.StartAsync(secret: Secret);
        using var attack = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        int attempts = 0;
        var guessers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!attack.IsCancellationRequested)
            {
                try
                {
                    Assert.False(await AuthenticateAsync(bed.Port, IPAddress.Loopback, "guess " + Interlocked.Increment(ref attempts), attack.Token));
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (SocketException)
                {
                    // A refused or reset connection is no guess checked.
                }
            }
        })).ToArray();
        // The owner, from another address, mid-attack (the free guesses are used up, the throttle holds the attacker): in at once.
        await Eventually.True(() => bed.Daemon.WrongSecrets >= 5, what: "the five free guesses to be checked");
        var clock = Stopwatch.StartNew();
        using var ownerLimit = new CancellationTokenSource(TestTimeouts.Short);
        Assert.True(await AuthenticateAsync(bed.Port, IPAddress.Parse("127.0.0.2"), Secret, ownerLimit.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the owner waited {clock.Elapsed.TotalMilliseconds:F0} ms");
        await Task.WhenAll(guessers).WaitAsync(TimeSpan.FromSeconds(30));
        // Unthrottled, the daemon checked thousands of guesses in 3 s; five free failures and doubling delays from
        // 100 ms leave a handful checked (the others wait or are turned away unchecked).
        Assert.InRange(bed.Daemon.WrongSecrets, 5, 15);
        Assert.True(attempts > bed.Daemon.WrongSecrets);
    }
}
