using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// One of the relay's Lua scripts (the embedded <c>Webifi/Redis/*.lua</c>, each behind <c>functions.lua</c>), loaded
/// into Redis once (SCRIPT LOAD when the relay connects) and run by its hash (EVALSHA), so a call carries only its
/// keys and arguments. A Redis that lost its script cache (restarted) gets the text once more (EVAL caches it).
/// </summary>
internal sealed class RedisScript
{
    public static readonly RedisScript Route = Load("route");
    public static readonly RedisScript Join = Load("join");
    public static readonly RedisScript TakeOver = Load("take-over");
    public static readonly RedisScript Read = Load("read");
    public static readonly RedisScript Settle = Load("settle");
    public static readonly RedisScript Remove = Load("remove");
    public static readonly RedisScript Login = Load("login");
    public static readonly RedisScript Refresh = Load("refresh");

    private static readonly RedisScript[] All = [Route, Join, TakeOver, Read, Settle, Remove, Login, Refresh];

    private readonly string _text;
    private readonly byte[] _hash;

    private RedisScript(string text)
    {
        _text = text;
        _hash = SHA1.HashData(Encoding.UTF8.GetBytes(text));
    }

    private static RedisScript Load(string name) => new(Resource("functions") + Resource(name));

    private static string Resource(string name)
    {
        using var stream = typeof(RedisScript).Assembly.GetManifestResourceStream($"DeviceShell.Lab.Webifi.Redis.{name}.lua")
            ?? throw new InvalidOperationException($"The relay script {name}.lua is not embedded in the Lab.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Loads every script into each server, so the first calls need not carry their text.</summary>
    public static async Task PrepareAsync(IConnectionMultiplexer redis)
    {
        foreach (var endpoint in redis.GetEndPoints())
            foreach (var script in All)
                await redis.GetServer(endpoint).ScriptLoadAsync(script._text).ConfigureAwait(false);
    }

    public async Task<RedisResult> EvaluateAsync(IDatabaseAsync db, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await db.ScriptEvaluateAsync(_hash, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await db.ScriptEvaluateAsync(_text, keys, values).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Queues the call without waiting for it (its place among this connection's commands is kept); a failure is
    /// reported to <paramref name="failures"/>.
    /// </summary>
    public void Send(IDatabaseAsync db, RedisKey[] keys, RedisValue[] values, FailureBurst failures, string what) =>
        _ = EvaluateAsync(db, keys, values).ContinueWith(
            call => failures.Failed(what, call.Exception!.GetBaseException()),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
