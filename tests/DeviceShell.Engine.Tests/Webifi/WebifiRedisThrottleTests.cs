using System.Diagnostics;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>Password guessing spread over relays sharing Redis is slowed down as if it went to one relay.</summary>
public class WebifiRedisThrottleTests
{
    private static readonly HttpClient Http = new();

    /// <summary>
    /// Ten wrong passwords, alternately to relay A and B: each relay alone sees five (all free), together they are ten,
    /// so from the sixth on the attempts wait their turns (200 ms doubling, webifi relay defaults).
    /// </summary>
    [RedisFact]
    public async Task Failed_logins_count_on_all_relays()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var relayA = await redis.StartRelayAsync();
        await using var relayB = await redis.StartRelayAsync();
        var relays = new[] { relayA, relayB };
        for (int i = 0; i < 5; i++) Assert.Equal(WebifiErrorCode.InvalidCredentials, await GuessAsync(relays[i % 2], i));
        var clock = Stopwatch.StartNew();
        for (int i = 5; i < 10; i++) Assert.Equal(WebifiErrorCode.InvalidCredentials, await GuessAsync(relays[i % 2], i));
        // Shared: the 7th and 8th wait 200 ms after their relay's previous attempt, the 9th and 10th 800 ms.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"5 guesses past the free ones took {clock.ElapsedMilliseconds} ms");
    }

    private static async Task<int> GuessAsync(DeviceLab relay, int attempt) =>
        (await WebifiSessionTests.PostAsync(Http, new Uri($"http://127.0.0.1:{relay["webifi"]!.Port}/"), $"~p=1~cn=webifi~cp=guess{attempt}")).FindInt("e") ?? -1;
}
