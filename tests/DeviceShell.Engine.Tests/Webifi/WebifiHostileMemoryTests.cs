using DeviceShell.Engine.Webifi;
using DeviceShell.Lab.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>
/// docs/design/decisions.md §25.4: idle sessions fed large messages. The mailboxes of one account's sessions stay within the
/// account's bound (64 MiB by default), senders past it get error 1 (not HTTP 500), and with Redis a stream is bounded
/// in bytes as well as entries.
/// </summary>
public class WebifiHostileMemoryTests
{
    private static readonly HttpClient Http = new();

    [Fact]
    public async Task Idle_sessions_fed_megabytes_stay_within_the_account_bound_and_senders_are_told()
    {
        var options = new WebifiRelayOptions();
        var (relay, server) = await WebifiHostileTests.StartAsync(options);
        await using var _ = relay;
        for (int i = 0; i < 20; i++)
        {
            string idle = (await WebifiSessionTests.PostAsync(Http, server, "~p=1~cn=webifi~cp=pswd")).Find("id")!;
            Assert.Equal("~e=4", await WebifiHostileTests.PostTextAsync(Http, new Uri(server, "Download"), $"~id={idle}~n=net1~z=0"));
        }
        string sender = (await WebifiSessionTests.PostAsync(Http, server, "~p=1~cn=webifi~cp=pswd")).Find("id")!;
        string megabyte = new('x', 1024 * 1024 - 64);
        var answers = new List<string>();
        for (int i = 0; i < 16; i++)
        {
            answers.Add(await WebifiHostileTests.PostTextAsync(Http, new Uri(server, "Upload"), $"~id={sender}~n=net1~d={megabyte}~z={i}"));
            Assert.InRange(relay.QueuedBytes, 0, 64L * 1024 * 1024);
        }
        Assert.All(answers, a => Assert.Contains(a, new[] { "~e=0", "~e=1" }));
        Assert.Contains("~e=1", answers);
    }

    /// <summary>300 × 1 MiB to one idle session on a relay on Redis: Redis holds about two mailboxes' worth, not 300 MiB.</summary>
    [RedisFact]
    public async Task A_stream_to_an_idle_session_is_bounded_in_bytes()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var relay = await redis.StartRelayAsync();
        var server = new Uri($"http://127.0.0.1:{relay["webifi"]!.Port}/");
        string idle = (await WebifiSessionTests.PostAsync(Http, server, "~p=1~cn=webifi~cp=pswd")).Find("id")!;
        Assert.Equal("~e=4", await WebifiHostileTests.PostTextAsync(Http, new Uri(server, "Download"), $"~id={idle}~n=net1~z=0"));
        string sender = (await WebifiSessionTests.PostAsync(Http, server, "~p=1~cn=webifi~cp=pswd")).Find("id")!;
        string megabyte = new('x', 1024 * 1024 - 64);
        var answers = new List<string>();
        for (int i = 0; i < 100; i++)
            answers.Add(await WebifiHostileTests.PostTextAsync(Http, new Uri(server, "Upload"), $"~id={sender}~n=net1~d={megabyte}~z={i}"));
        Assert.All(answers, a => Assert.Contains(a, new[] { "~e=0", "~e=1" }));
        Assert.Contains("~e=1", answers);
        long used = await redis.UsedMemoryAsync();
        Assert.True(used < 48L * 1024 * 1024, $"Redis holds {used / (1024 * 1024)} MiB");
    }
}
