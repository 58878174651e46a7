namespace DeviceShell.Lab.Webifi;

/// <summary>
/// The relay's router while it replays a recording (<see cref="WebifiReplay"/>): logins of the recorded connect name
/// and the sends of its sessions are answered as recorded and play the recorded step (messages, drop); everything
/// else, and what the recording does not cover, goes to the normal router underneath.
/// </summary>
internal sealed class ReplayRelayRouter(IRelayRouter inner, WebifiReplay replay) : IRelayRouter
{
    public int Count => inner.Count;

    public IReadOnlyList<RelaySession> Sessions => inner.Sessions;

    public bool HasAccount(string connectName) => inner.HasAccount(connectName);

    /// <summary>The recorded connect name logs in with any password, or is refused with the recorded code.</summary>
    public async ValueTask<(RelaySession? Session, int Code)> LoginAsync(string connectName, string connectPassword, bool messageIds)
    {
        if (connectName != replay.Account.ConnectName) return await inner.LoginAsync(connectName, connectPassword, messageIds).ConfigureAwait(false);
        var step = replay.Next(WebifiReplay.LoginRequest(connectName), out bool inOrder);
        if (step is not null && step.Code != 0) return (null, step.Code);
        var (session, code) = await inner.LoginAsync(connectName, replay.Account.ConnectPassword, messageIds).ConfigureAwait(false);
        if (session is not null && step is not null) replay.Play(step, session, inOrder, Restart);
        return (session, code);
    }

    public ValueTask<RelaySession?> FindAsync(string? deviceId) => inner.FindAsync(deviceId);

    public bool IsLive(RelaySession session) => inner.IsLive(session);

    public void Remove(RelaySession session) => inner.Remove(session);

    public Task<int> ExpireAsync(DateTime cutoff) => inner.ExpireAsync(cutoff);

    public ValueTask<int> SetNetworksAsync(RelaySession session, IEnumerable<string> requested) => inner.SetNetworksAsync(session, requested);

    /// <summary>A recorded send gets the recorded code and plays its step; the others are routed, in one call, in their order.</summary>
    public async ValueTask<int[]?> RouteAllAsync(RelaySession from, IReadOnlyList<IReadOnlyList<RelayDataGroup>> messages)
    {
        if (from.Account.ConnectName != replay.Account.ConnectName) return await inner.RouteAllAsync(from, messages).ConfigureAwait(false);
        var codes = new int[messages.Count];
        var uncovered = new List<int>();
        for (int i = 0; i < messages.Count; i++)
        {
            // A client of this module sends one group per message; anything else is the normal relay's business.
            WebifiReplay.Step? step = null;
            bool inOrder = false;
            if (messages[i] is [var group]) step = replay.Next(WebifiReplay.SendRequest(group.SessionIds, group.Networks, group.DataType, group.Data), out inOrder);
            if (step is null)
            {
                uncovered.Add(i);
                continue;
            }
            codes[i] = step.Code;
            replay.Play(step, from, inOrder, Restart);
        }
        if (uncovered.Count == 0) return codes;
        var routed = await inner.RouteAllAsync(from, uncovered.Select(i => messages[i]).ToList()).ConfigureAwait(false);
        if (routed is null) return null;
        for (int i = 0; i < uncovered.Count; i++) codes[uncovered[i]] = routed[i];
        return codes;
    }

    public void Delivered(RelaySession session, IReadOnlyList<RelayDelivery> batch) => inner.Delivered(session, batch);

    public Task SettleAsync(RelaySession session) => inner.SettleAsync(session);

    public void Close() => inner.Close();

    public ValueTask DisposeAsync()
    {
        replay.Dispose();
        return inner.DisposeAsync();
    }

    /// <summary>The recorded relay restart: every session is forgotten, so every client loses its link and logs in again.</summary>
    private void Restart()
    {
        foreach (var session in inner.Sessions) inner.Remove(session);
    }
}
