using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// Losing a link and getting it back: a dropped link fails its waiting requests, announces the disconnect and, unless the
/// user asked for it, starts the auto-reconnect loop, which re-authenticates every new link.
/// </summary>
public sealed partial class BrickSession
{
    /// <summary>
    /// Ends one link: fails its waiting requests with <paramref name="error"/> (default: ConnectionLost naming <paramref name="why"/>)
    /// and, if it was the session's connection, handles the loss.
    /// </summary>
    private void Drop(Link link, BrickDisconnectReason reason, string why, DeviceException? error = null)
    {
        if (!link.MarkDead(reason, error ?? LinkLost(why))) return;
        link.Close();
        foreach (var (_, slot) in _slots) slot.FailIfOn(link, link.LostError!);
        AfterLoss(link);
    }

    /// <summary>Announces the disconnect of the session's connection and, unless the user asked for it, starts auto-reconnect.</summary>
    private void AfterLoss(Link link)
    {
        lock (_gate)
        {
            if (_link != link || !link.ClaimLoss()) return;
            _link = null;
        }
        var reason = link.DropReason;
        RecordDisconnect(reason);
        _events.Post(new BrickEvent(this, BrickEventKind.Disconnected, null, 0, Array.Empty<byte>(), null, reason.ToString()));
        if (reason != BrickDisconnectReason.Request && _autoReconnect && !_userDisconnected && !_closing.IsCancellationRequested)
        {
            StartReconnecting();
        }
        else if (State is not DeviceSessionState.Closed)
        {
            SetState(DeviceSessionState.Disconnected);
        }
    }

    private void StartReconnecting()
    {
        SetState(DeviceSessionState.Reconnecting);
        if (Interlocked.Exchange(ref _reconnecting, 1) == 0) _ = Task.Run(ReconnectLoopAsync);
    }

    private async Task ReconnectLoopAsync()
    {
        Link? link = null;
        try
        {
            while (link is null && _autoReconnect && !_userDisconnected && !_closing.IsCancellationRequested)
            {
                await Task.Delay(_options.ReconnectInterval, _closing.Token).ConfigureAwait(false);
                try
                {
                    link = await OpenAuthenticatedLinkAsync(_closing.Token).ConfigureAwait(false);
                }
                catch (DeviceException)
                {
                    // Daemon still away (or refusing our secret): keep trying until the user disconnects.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The session is closing.
        }
        // Let the next loss start a new loop before the link is adopted: it may die at once.
        Interlocked.Exchange(ref _reconnecting, 0);
        if (link is not null)
        {
            Interlocked.Increment(ref _reconnects);
            Adopt(link, BrickConnectReason.AutoReconnect);
        }
        else if (!_userDisconnected && State == DeviceSessionState.Reconnecting)
        {
            SetState(DeviceSessionState.Disconnected);
        }
    }
}
