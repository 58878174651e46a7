namespace DeviceShell.Lab.Webifi;

/// <summary>
/// Where a relay keeps its sessions and how it routes between them: <see cref="RelayRouter"/> holds everything in this
/// process (the default, no dependency); <see cref="RedisRelayRouter"/> shares sessions, networks and delivery with
/// other relay processes through Redis (<c>--webifi-redis</c>). The connections (WebSocket, long polling) see only this.
/// Whatever may need Redis is asynchronous, so a slow or stalled Redis holds up only the requests that need it, never a
/// thread (and with it other clients' keep-alives); a failing Redis gives the client an error code, never an exception.
/// </summary>
internal interface IRelayRouter : IAsyncDisposable
{
    /// <summary>Sessions whose client this relay serves.</summary>
    int Count { get; }

    IReadOnlyList<RelaySession> Sessions { get; }

    bool HasAccount(string connectName);

    /// <param name="messageIds">The client asked for message ids (<c>~mi=1</c>, see WebifiMessageId): it gets them on what it receives.</param>
    ValueTask<(RelaySession? Session, int Code)> LoginAsync(string connectName, string connectPassword, bool messageIds);

    ValueTask<RelaySession?> FindAsync(string? deviceId);

    bool IsLive(RelaySession session);

    void Remove(RelaySession session);

    /// <summary>Ends the sessions idle since before <paramref name="cutoff"/>; throws when shared storage fails (the caller retries).</summary>
    Task<int> ExpireAsync(DateTime cutoff);

    ValueTask<int> SetNetworksAsync(RelaySession session, IEnumerable<string> requested);

    /// <summary>
    /// Routes the data messages of one read (the messages of a WebSocket frame, or one /Upload), in order, as one step:
    /// one code per message (0, 2 or 7, see <see cref="RelayRouter"/>; 1 when shared storage failed, 12 when the
    /// sender's session is gone), or null when the relay is stopping (then
    /// nothing was routed). A connection awaits it before it routes its next read, so a sender's order is kept.
    /// </summary>
    ValueTask<int[]?> RouteAllAsync(RelaySession from, IReadOnlyList<IReadOnlyList<RelayDataGroup>> messages);

    /// <summary>The batch has been written to the session's client: what it took from shared storage may go.</summary>
    void Delivered(RelaySession session, IReadOnlyList<RelayDelivery> batch);

    /// <summary>
    /// The relay is stopping in order and has written out the session's mailbox: what it wrote counts as received, and
    /// the session is left to the next relay. Called before the connection closes, so the client finds it settled.
    /// </summary>
    Task SettleAsync(RelaySession session);

    void Close();
}
