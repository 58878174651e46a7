using System.Globalization;
using StackExchange.Redis;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// Where the relays keep what they share in Redis. Everything of one account lives in the account's key space,
/// <c>deviceshell:webifi:{a:ACCOUNT}:</c>: the hash tag puts all of it in one slot, so every script (which only ever
/// touches one account) runs on one node of a Redis Cluster (docs/design/decisions.md §26). Outside it are only keys
/// that plain commands use: the device index a relay finds a session by, the session number counter and the
/// login failure counters.
/// </summary>
internal static class RedisKeys
{
    private const string Prefix = "deviceshell:webifi:";

    /// <summary>Relays publish a device id here when its stream has new entries (the name is also in the scripts).</summary>
    public static readonly RedisChannel Wake = RedisChannel.Literal(Prefix + "wake");

    /// <summary>A login at the cap ended this device id's session (the name is also in login.lua).</summary>
    public static readonly RedisChannel Ended = RedisChannel.Literal(Prefix + "ended");

    /// <summary>Session numbers, for all accounts: numbers stay unique across accounts, as on one relay.</summary>
    public static readonly RedisKey NextId = Prefix + "next-id";

    /// <summary>
    /// The prefix of every key of an account; the <c>a:</c> keeps the tag non-empty for an empty connect name. The
    /// scripts find it again as the longest prefix of their first key that ends in <c>}:</c>, which no suffix contains.
    /// </summary>
    public static string Space(string account) => Prefix + "{a:" + account + "}:";

    /// <summary>A session's record (hash: account, device id, networks, owning relay, unread counts).</summary>
    public static RedisKey Session(string account, int id) => Space(account) + "session:" + id.ToString(CultureInfo.InvariantCulture);

    /// <summary>A session's mailbox in Redis: one stream per destination session.</summary>
    public static RedisKey Stream(string account, string deviceId) => Space(account) + "stream:" + deviceId;

    /// <summary>The account's sessions on every relay (sorted set, scored by when their record expires).</summary>
    public static RedisKey Sessions(string account) => Space(account) + "sessions";

    /// <summary>The account's sessions with no client attached (scored by last seen): the ones a login at the cap may end.</summary>
    public static RedisKey Idle(string account) => Space(account) + "idle";

    /// <summary>Device id → account, for a relay a client comes to with only its device id.</summary>
    public static RedisKey Device(string deviceId) => Prefix + "device:" + deviceId;

    /// <summary>Failed logins per throttle key ("address …", "account …"), see <see cref="LoginThrottle"/>.</summary>
    public static RedisKey LoginFailures(string key) => Prefix + "login-failures:" + key;
}
