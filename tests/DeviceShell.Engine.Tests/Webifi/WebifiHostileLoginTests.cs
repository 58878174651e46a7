using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DeviceShell.Lab.Webifi;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// docs/design/decisions.md §25.6 (and §25.3): password guessing must not be turned against the account's owner or
/// the relay's log, must not tell known connect names from unknown ones by timing, and must not refuse parallel correct
/// logins. Guesses come from many loopback addresses (all of 127.0.0.0/8 is loopback on Linux).
/// </summary>
public class WebifiHostileLoginTests
{
    private static readonly HttpClient Http = new();

    [Fact]
    public async Task Guesses_from_rotating_addresses_keep_no_owner_out_and_are_logged_once()
    {
        var logs = new WebifiHostileTests.CapturingLoggerFactory(LogLevel.Information);
        var (relay, server) = await WebifiHostileTests.StartAsync(new WebifiRelayOptions(), logs);
        await using var _ = relay;
        using var stop = new CancellationTokenSource();
        int guesses = 0;
        var attackers = Enumerable.Range(1, 8).Select(worker => Task.Run(async () =>
        {
            for (int n = 0; !stop.IsCancellationRequested; n++)
            {
                using var http = From(IPAddress.Parse($"127.1.{worker}.{n % 250 + 1}"));
                try
                {
                    await WebifiHostileTests.PostTextAsync(http, server, $"~p=1~cn=webifi~cp=guess{worker}-{n}");
                    Interlocked.Increment(ref guesses);
                }
                catch (Exception ex) when (ex is TimeoutException or HttpRequestException or TaskCanceledException)
                {
                    // Held back past the test's patience.
                }
            }
        })).ToArray();
        try
        {
            await Eventually.True(() => Volatile.Read(ref guesses) >= 100, TestTimeouts.Long);
            for (int i = 0; i < 5; i++)
            {
                var clock = Stopwatch.StartNew();
                Assert.StartsWith("~e=0", await WebifiHostileTests.PostTextAsync(Http, server, "~p=1~cn=webifi~cp=pswd"));
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the owner's login {i} took {clock.ElapsedMilliseconds} ms during the attack");
                await Eventually.True(() => Volatile.Read(ref guesses) >= 100 + 20 * (i + 1), TestTimeouts.Long);
            }
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(attackers).Within(TestTimeouts.Long);
        }
        Assert.InRange(logs.Lines.Count(l => l.Contains("throttl", StringComparison.OrdinalIgnoreCase)), 1, 3);
    }

    /// <summary>
    /// Eight guesses on one connect name, each from its own address that has failed once before (so the name's count
    /// applies): the seventh and eighth wait their turns, whether the name exists or not.
    /// </summary>
    [Fact]
    public async Task Unknown_connect_names_are_slowed_down_like_known_ones()
    {
        var (relay, server) = await WebifiHostileTests.StartAsync(new WebifiRelayOptions());
        await using var _ = relay;
        foreach (var (name, net) in new[] { ("webifi", 1), ("nobody", 2) })
        {
            var took = new List<TimeSpan>();
            for (int i = 0; i < 8; i++)
            {
                using var http = From(IPAddress.Parse($"127.2.{net}.{i + 1}"));
                Assert.Equal("~e=8", await WebifiHostileTests.PostTextAsync(http, server, $"~p=1~cn=warm-up-{net}-{i}~cp=x"));
                var clock = Stopwatch.StartNew();
                Assert.Equal("~e=8", await WebifiHostileTests.PostTextAsync(http, server, $"~p=1~cn={name}~cp=guess{i}"));
                took.Add(clock.Elapsed);
            }
            Assert.True(took[6] + took[7] >= TimeSpan.FromMilliseconds(500),
                $"guesses on '{name}' took {string.Join(", ", took.Select(t => (int)t.TotalMilliseconds))} ms");
        }
    }

    /// <summary>Attempts in flight are not failures: 40 correct logins at once from one address all get in.</summary>
    [Fact]
    public async Task Forty_parallel_correct_logins_are_all_served()
    {
        var (relay, server) = await WebifiHostileTests.StartAsync(new WebifiRelayOptions());
        await using var _ = relay;
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => WebifiHostileTests.PostTextAsync(Http, server, "~p=1~cn=webifi~cp=pswd"))).Within(TestTimeouts.Long);
        Assert.All(answers, a => Assert.StartsWith("~e=0", a));
    }

    /// <summary>An HTTP client whose connections come from <paramref name="local"/>.</summary>
    internal static HttpClient From(IPAddress local) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(local, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    });
}
