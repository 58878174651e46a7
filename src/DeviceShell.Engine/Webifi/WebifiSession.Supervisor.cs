using System.Net.WebSockets;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Webifi;

/// <summary>
/// The session's supervisor: opens a link (login, then WebSocket or long polling), watches it, and logs in again after
/// a growing pause when it breaks; switches transport or encryption on request.
/// </summary>
public sealed partial class WebifiSession
{
    /// <summary>A link that lived this long was healthy: the next re-login after it breaks starts the back-off over.</summary>
    private static readonly TimeSpan HealthyLinkAge = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Switches transport and/or encryption on the running session, as the official library's set_use_websocket and
    /// set_use_encryption do: the relay session is closed politely and the session logs in again at once with the new
    /// settings. Queued sends stay queued and go out on the new link (one in flight at the switch may arrive twice,
    /// the new login numbering afresh); returns when the new link is up, or fails after three reply timeouts while the
    /// session keeps trying in the background.
    /// </summary>
    public async Task SetTransportAsync(WebifiTransport? transport, bool? useEncryption, CancellationToken cancellationToken = default)
    {
        if (_closing.IsCancellationRequested) throw new DeviceException(DeviceErrorKind.InvalidOperation, "WebifiSessionClosed", "The Webifi session is closed.", this);
        if (_refused is not null) throw _refused;
        var current = _options;
        var wanted = current with { Transport = transport ?? current.Transport, UseEncryption = useEncryption ?? current.UseEncryption };
        if (wanted.Transport == current.Transport && wanted.Encrypted == current.Encrypted) return;
        var relinked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _options = wanted;
            _relinked = relinked;
        }
        if (_link is { } link)
        {
            using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                limit.CancelAfter(current.ReplyTimeout);
                await link.CloseAsync(limit.Token).ConfigureAwait(false);
            }
            link.Break(new DeviceException(DeviceErrorKind.Connection, "WebifiSwitching", $"The session is switching to {wanted.Transport}{(wanted.Encrypted ? " with TLS" : "")}."));
        }
        var limitOfWait = wanted.ReplyTimeout * 3;
        try
        {
            await relinked.Task.WaitAsync(limitOfWait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new DeviceException(DeviceErrorKind.Timeout, "WebifiTimeout",
                $"The session did not log in again with {wanted.Transport} within {limitOfWait.TotalSeconds:0.#} s; it keeps trying (state {State}).", this, ex);
        }
    }

    private async Task<WebifiLink> OpenLinkAsync(CancellationToken cancellationToken)
    {
        WebifiCredentials credentials;
        try
        {
            credentials = await WebifiLogin.RequestAsync(_options, cancellationToken).ConfigureAwait(false);
        }
        catch (DeviceException ex)
        {
            RecordLoginFailure(ex);
            throw;
        }
        RecordLoginAccepted(credentials.SessionId);
        if (credentials.ErrorTable is not null) _errorTable = credentials.ErrorTable;
        var downloadTimeout = TimeSpan.FromTicks(Interlocked.Read(ref _downloadTimeoutTicks));
        // A copy only when the hold time was changed: an idle session keeps one options record, not two.
        var options = _options.DownloadTimeout == downloadTimeout ? _options : _options with { DownloadTimeout = downloadTimeout };
        WebifiLink link = options.Transport == WebifiTransport.WebSocket
            ? new WebSocketLink(credentials, options, _counters, _backoff, this)
            : new LongPollingLink(Http, credentials, options, _counters, _backoff, this);
        try
        {
            // The session's own array (replaced, never changed), not a copy for every link to keep.
            IReadOnlyList<string> networks;
            lock (_gate) networks = _networks;
            int code = await link.OpenAsync(networks, cancellationToken).ConfigureAwait(false);
            RecordNetworks(networks, code);
            if (code == WebifiErrorCode.NotAllNetworksSet) OnReport(code, await KeepKnownNetworksAsync(link, cancellationToken).ConfigureAwait(false));
            else if (code != WebifiErrorCode.NetworksSet) OnReport(code, "networks");
        }
        catch
        {
            await link.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        Volatile.Write(ref _sessionId, credentials.SessionId);
        _dialect = credentials.Dialect;
        _link = link;
        ChangeState(DeviceSessionState.Connected);
        TakeRelinked()?.TrySetResult();
        return link;
    }

    private TaskCompletionSource? TakeRelinked()
    {
        lock (_gate)
        {
            var relinked = _relinked;
            _relinked = null;
            return relinked;
        }
    }

    /// <summary>Sends what is queued on a link until it breaks, then logs in again, until the session closes.</summary>
    private async Task SuperviseAsync(WebifiLink link)
    {
        // Off the connecting caller's thread, without a Task.Run wrapper an idle session would keep.
        await Task.Yield();
        var closing = _closing.Token;
        while (!closing.IsCancellationRequested)
        {
            var openedAt = DateTime.UtcNow;
            // What was queued while there was no link goes out now; later sends start the loop themselves.
            lock (_gate) StartSendingLocked();
            await Task.WhenAny(link.Broken, _closed.Task).ConfigureAwait(false);
            if (closing.IsCancellationRequested)
            {
                await CurrentSender().ConfigureAwait(false);
                return;
            }
            link.Break(link.BreakReason);
            RecordDrop(link.BreakReason);
            await CurrentSender().ConfigureAwait(false);
            await link.DisposeAsync().ConfigureAwait(false);
            _link = null;
            ChangeState(DeviceSessionState.Reconnecting);
            if (DateTime.UtcNow - openedAt >= HealthyLinkAge) _backoff.Reset();
            var next = await ReconnectAsync(closing).ConfigureAwait(false);
            if (next is null) return;
            link = next;
        }
    }

    /// <summary>
    /// Logs in again, each attempt after the back-off's pause (none for a switch asked for by
    /// <see cref="SetTransportAsync"/>): a relay that breaks every link right after the login sees a few logins, not a
    /// storm. Null when closing or when the login is refused (error 8, not retried).
    /// </summary>
    private async Task<WebifiLink?> ReconnectAsync(CancellationToken closing)
    {
        bool switching;
        lock (_gate) switching = _relinked is not null;
        while (!closing.IsCancellationRequested)
        {
            try
            {
                if (!switching) await Task.Delay(_backoff.Next(), closing).ConfigureAwait(false);
                switching = false;
                var link = await OpenLinkAsync(closing).ConfigureAwait(false);
                Interlocked.Increment(ref _reconnects);
                return link;
            }
            catch (DeviceException ex) when (ex.Kind == DeviceErrorKind.Authentication)
            {
                // The account changed under us: retrying cannot help, and waiting sends must not hang.
                _refused = ex;
                OnReport(WebifiErrorCode.InvalidCredentials, "login");
                ChangeState(DeviceSessionState.Disconnected);
                FailQueued(ex);
                TakeRelinked()?.TrySetException(ex);
                return null;
            }
            catch (Exception ex) when (ex is DeviceException or HttpRequestException or WebSocketException or IOException
                                       || (ex is OperationCanceledException && !closing.IsCancellationRequested))
            {
                // The relay is not back yet: try again after a pause.
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
        return null;
    }
}
