using StackExchange.Redis;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// Failed-login counters in Redis (<see cref="RedisKeys.LoginFailures"/>, one per client address and per account):
/// password guessing spread over relays counts on each of them (see <see cref="LoginThrottle"/>).
/// </summary>
internal sealed class RedisLoginFailures(IDatabase db, TimeSpan memory) : ISharedLoginFailures
{
    public async Task<int[]> FailuresAsync(IReadOnlyList<string> keys)
    {
        var counts = await db.StringGetAsync(keys.Select(RedisKeys.LoginFailures).ToArray()).ConfigureAwait(false);
        return counts.Select(count => count.TryParse(out int failures) ? failures : 0).ToArray();
    }

    public void Record(string key, bool succeeded)
    {
        var counter = RedisKeys.LoginFailures(key);
        if (succeeded)
        {
            db.KeyDelete(counter, CommandFlags.FireAndForget);
            return;
        }
        db.StringIncrement(counter, flags: CommandFlags.FireAndForget);
        db.KeyExpire(counter, memory, CommandFlags.FireAndForget);
    }
}
