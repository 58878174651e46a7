using System.Globalization;
using DeviceShell.Engine.Webifi;
using StackExchange.Redis;

namespace DeviceShell.Lab.Webifi;

/// <summary>The data side of the router on Redis: a session's networks, routing a connection's read, and receipts.</summary>
internal sealed partial class RedisRelayRouter
{
    /// <summary>4 or 5 as on one relay; 12 when the session's record is gone (the session ends), 1 when Redis fails.</summary>
    public async ValueTask<int> SetNetworksAsync(RelaySession session, IEnumerable<string> requested)
    {
        var names = requested.Where(n => n.Length > 0).ToList();
        var known = names.Where(n => session.Account.Networks.Contains(n, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        if (!_served.TryGetValue(session.DeviceId, out var served) || served.Session != session) return WebifiErrorCode.SessionExpired;
        try
        {
            int code = await _store.JoinAsync(served, known, await LiveRelaysAsync().ConfigureAwait(false)).ConfigureAwait(false);
            _failures.Succeeded();
            if (code == WebifiErrorCode.SessionExpired)
            {
                EndHere(served);
                return code;
            }
        }
        catch (RedisException ex)
        {
            _failures.Failed("setting networks", ex);
            return WebifiErrorCode.Unknown;
        }
        session.Networks = known.ToHashSet(StringComparer.Ordinal);
        return known.Count == names.Count ? WebifiErrorCode.NetworksSet : WebifiErrorCode.NotAllNetworksSet;
    }

    /// <summary>The names of the relays connected to Redis right now (this one included).</summary>
    private async Task<HashSet<string>> LiveRelaysAsync()
    {
        var live = new HashSet<string>(StringComparer.Ordinal) { _name };
        foreach (var endpoint in _redis.GetEndPoints())
            foreach (var client in await _redis.GetServer(endpoint).ClientListAsync().ConfigureAwait(false))
                if (!string.IsNullOrEmpty(client.Name)) live.Add(client.Name);
        return live;
    }

    /// <summary>
    /// One script call for all the messages (see route.lua); what can be checked here is checked here.
    /// A sender whose record is gone or another session's gets 12 for every message and its session ends (its client
    /// logs in again); when Redis fails every message gets 1 (the sender tries again: it may have been stored after all,
    /// so at least once).
    /// </summary>
    public async ValueTask<int[]?> RouteAllAsync(RelaySession from, IReadOnlyList<IReadOnlyList<RelayDataGroup>> messages)
    {
        if (_closed) return null;
        var codes = new int[messages.Count];
        var call = new RedisRouteCall(from);
        for (int m = 0; m < messages.Count; m++)
        {
            if (RelayDataGroup.AreUnroutable(messages[m], _options))
            {
                codes[m] = WebifiErrorCode.ProtocolError;
                continue;
            }
            foreach (var group in messages[m])
            {
                if (!call.Add(m, group)) codes[m] = WebifiErrorCode.NotDelivered;
            }
        }
        RedisResult result;
        try
        {
            result = await RedisScript.Route.EvaluateAsync(_db, [RedisKeys.Session(from.Account.ConnectName, from.Id)],
                call.Arguments(StreamLength, _options.MailboxBytes, (long)_store.KeyLifetime.TotalMilliseconds, (long)ReadingRecently.TotalMilliseconds)).ConfigureAwait(false);
            _failures.Succeeded();
        }
        catch (RedisException ex)
        {
            _failures.Failed("routing", ex);
            Array.Fill(codes, WebifiErrorCode.Unknown);
            return codes;
        }
        if (result.Resp2Type == ResultType.Integer)
        {
            if (_served.TryGetValue(from.DeviceId, out var served) && served.Session == from) EndHere(served);
            Array.Fill(codes, WebifiErrorCode.SessionExpired);
            return codes;
        }
        var reply = (RedisResult[])result!;
        call.ApplyFlags((string)reply[0]!, codes);
        // Routed and in order: the pause only delays the acknowledgements, and with them the sender's next messages.
        if ((long)reply[1] > Backlogged) await Task.Delay(BacklogPause).ConfigureAwait(false);
        return codes;
    }

    /// <summary>See <see cref="RedisReceipts"/>.</summary>
    public void Delivered(RelaySession session, IReadOnlyList<RelayDelivery> batch)
    {
        if (_served.TryGetValue(session.DeviceId, out var served) && served.Session == session) _receipts.Delivered(served, batch);
    }

    public Task SettleAsync(RelaySession session) =>
        _served.TryGetValue(session.DeviceId, out var served) && served.Session == session ? _receipts.SettleAsync(served) : Task.CompletedTask;
}
