using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Webifi;

/// <summary>
/// The HTTP long-polling transport (docs/design/webifi.md §3.3): data goes up with <c>/Upload</c> (several queued messages per
/// request, each its own group, never merged), a held <c>/Download</c> brings data down, and <c>/CancelDownload</c>
/// ends the session. Networks are set with a <c>/Download</c> that carries <c>~n</c> fields, which the relay answers
/// at once (4/5); unlike the Python library we do not cancel the held download for that.
/// When the relay cannot be reached (connection refused or cut, no answer in time, an HTTP error), the link keeps its
/// device id and polls again after a pause (100 ms, doubling up to <see cref="WebifiConnectOptions.MaxReconnectDelay"/>),
/// as the Python library does and as the WebSocket link reconnects its socket; uploads wait until a poll is answered.
/// Only a relay that no longer knows the id (12, 18) breaks the link. Keeping the id matters with relays on Redis: the
/// relay a load balancer sends the client to next takes the session over with everything still undelivered in it, in
/// order, where a fresh login would have to guess which orphaned session was its own.
/// </summary>
internal sealed class LongPollingLink : WebifiLink
{
    private const int DefaultHoldSeconds = 120;
    private const int RecoveringHoldSeconds = 1;
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(100);

    private readonly HttpClient _http;
    private readonly object _gate = new();
    /// <summary>Completed while the relay answers; uploads wait on it when it does not.</summary>
    private TaskCompletionSource _reachable = Reached();
    private Task? _reader;
    /// <summary>The last upload got no answer: the next one waits the session's back-off first.</summary>
    private volatile bool _uploadFailed;

    public LongPollingLink(HttpClient http, WebifiCredentials credentials, WebifiConnectOptions options, WebifiCounters counters, ReconnectBackoff backoff, IWebifiLinkOwner owner)
        : base(credentials, options, counters, backoff, owner)
    {
        _http = http;
    }

    private Uri Upload => new(Credentials.UploadBase, "Upload");

    private Uri Download => new(Credentials.DownloadBase, "Download");

    private Uri Cancel => new(Credentials.UploadBase, "CancelDownload");

    public override async Task<int> OpenAsync(IReadOnlyList<string> networks, CancellationToken cancellationToken)
    {
        int code = networks.Count > 0 ? await SetNetworksAsync(networks, cancellationToken).ConfigureAwait(false) : WebifiErrorCode.NetworksSet;
        if (code == WebifiErrorCode.SessionExpired)
            throw new DeviceException(DeviceErrorKind.Connection, "WebifiSessionExpired", "The relay refused the new device id (error 12).");
        _reader = Task.Run(DownloadLoopAsync, CancellationToken.None); // outlives the open call
        return code;
    }

    public override async Task<int> SetNetworksAsync(IReadOnlyList<string> networks, CancellationToken cancellationToken)
    {
        var body = Body();
        foreach (string network in networks) TildeCodec.AppendField(body, "n", network);
        TildeCodec.AppendField(body, "z", Counters.NextDownload());
        return await PostCodeAsync(Download, body, Options.ReplyTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One /Upload carrying the batch, each message its own group; the upload's code answers every message. When the
    /// upload gets no answer (refused, cut, timed out, an HTTP error) every answer fails with why, the batch stays
    /// unacknowledged, and the session sends it again once a poll is answered and the back-off has passed.
    /// </summary>
    public override async Task<(int Socket, Task<int>[] Replies)> SendAsync(IReadOnlyList<NumberedOutgoing> batch, int? sameSocketAs, CancellationToken cancellationToken)
    {
        Task reachable;
        lock (_gate) reachable = _reachable.Task;
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, BrokenToken))
        {
            await reachable.WaitAsync(linked.Token).ConfigureAwait(false);
            if (_uploadFailed) await Task.Delay(Backoff.Next(), linked.Token).ConfigureAwait(false);
        }
        var body = Body();
        foreach (var outgoing in batch) outgoing.AppendTo(body, Credentials);
        TildeCodec.AppendField(body, "z", Counters.NextUpload());
        Task<int> code;
        try
        {
            var answer = await WebifiLogin.PostAsync(_http, Upload, body, Options.MaxAnswerBytes, Options.ReplyTimeout, BrokenToken).WaitAsync(cancellationToken).ConfigureAwait(false);
            _uploadFailed = false;
            Backoff.Reset();
            code = Task.FromResult(answer.FindInt("e") ?? WebifiErrorCode.ProtocolError);
        }
        catch (DeviceException ex) when (IsUnreachable(ex))
        {
            _uploadFailed = true;
            if (ex.InnerException is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } || ex.Kind == DeviceErrorKind.Timeout)
            {
                // Nobody there (or silent): the uploads wait until a poll is answered again.
                SetReachable(false);
                code = Task.FromException<int>(ex);
            }
            else
            {
                // The relay took the upload and ended it without an answer (cut it, or an HTTP error): as a WebSocket
                // the relay closes right after a message, this counts towards a refusal (WebifiSession.Settle).
                code = Task.FromException<int>(Lost($"the relay ended the upload without an answer ({ex.Message})", ex));
            }
        }
        return (0, Enumerable.Repeat(code, batch.Count).ToArray());
    }

    private bool Reachable
    {
        get
        {
            lock (_gate) return _reachable.Task.IsCompleted;
        }
    }

    private static TaskCompletionSource Reached()
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reached.SetResult();
        return reached;
    }

    /// <summary>No answer, a cut connection or an HTTP error: worth asking again under the same id.</summary>
    private static bool IsUnreachable(DeviceException ex) => ex.Kind is DeviceErrorKind.Connection or DeviceErrorKind.Timeout;

    private void SetReachable(bool reachable)
    {
        bool changed;
        lock (_gate)
        {
            changed = _reachable.Task.IsCompleted != reachable;
            if (!changed) return;
            if (reachable) _reachable.SetResult();
            else _reachable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        if (!IsBroken) Owner.ChangeState(reachable ? DeviceSessionState.Connected : DeviceSessionState.Reconnecting);
    }

    public override async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (IsBroken) return;
        var body = Body();
        TildeCodec.AppendField(body, "ts", "1");
        TildeCodec.AppendField(body, "z", Counters.NextUpload());
        try
        {
            await PostCodeAsync(Cancel, body, Options.ReplyTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DeviceException or OperationCanceledException)
        {
            // Best effort: the relay lets an unclosed session expire.
        }
    }

    private async Task DownloadLoopAsync()
    {
        int holdSeconds = (int)Math.Round(Options.DownloadTimeout.TotalSeconds);
        var httpTimeout = Options.DownloadTimeout + TimeSpan.FromSeconds(30);
        var pause = RetryPause;
        try
        {
            while (!IsBroken)
            {
                var body = Body();
                // After a failure the next poll is held only briefly: its answer is what tells the link (and the uploads
                // waiting on it) that the relay is back, and a full hold would keep them waiting for up to two minutes.
                int hold = Reachable ? holdSeconds : RecoveringHoldSeconds;
                if (hold != DefaultHoldSeconds) TildeCodec.AppendField(body, "t", hold);
                TildeCodec.AppendField(body, "z", Counters.NextDownload());
                List<TildeField> fields;
                try
                {
                    fields = await WebifiLogin.PostAsync(_http, Download, body, Options.MaxAnswerBytes, httpTimeout, BrokenToken).ConfigureAwait(false);
                }
                catch (DeviceException ex) when (IsUnreachable(ex))
                {
                    SetReachable(false);
                    await Task.Delay(pause, BrokenToken).ConfigureAwait(false);
                    pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, Options.MaxReconnectDelay.Ticks));
                    continue;
                }
                pause = RetryPause;
                SetReachable(true);
                int code = fields.FindInt("e") ?? WebifiErrorCode.ProtocolError;
                switch (code)
                {
                    case WebifiErrorCode.Success:
                        DeliverGroups(fields);
                        break;
                    case WebifiErrorCode.NoData or WebifiErrorCode.DownloadCancelled:
                        break;
                    case WebifiErrorCode.SessionExpired or WebifiErrorCode.DuplicateDownload:
                        // 18: another download of ours is still held somewhere; a fresh login is the clean way out.
                        Break(new DeviceException(DeviceErrorKind.Connection, "WebifiSessionExpired", $"The relay ended the long-polling session (error {code})."));
                        return;
                    default:
                        Owner.Report(code, "download");
                        await Task.Delay(RetryPause, BrokenToken).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The link was broken or disposed.
        }
        catch (DeviceException ex)
        {
            Break(ex);
        }
    }

    private List<byte> Body()
    {
        var body = new List<byte>();
        TildeCodec.AppendField(body, "id", Credentials.DeviceId);
        return body;
    }

    /// <summary>POSTs and returns the answer's <c>~e</c>; an HTTP failure breaks the link.</summary>
    private async Task<int> PostCodeAsync(Uri uri, List<byte> body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (IsBroken) throw BreakReason;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, BrokenToken);
        try
        {
            var fields = await WebifiLogin.PostAsync(_http, uri, body, Options.MaxAnswerBytes, timeout, linked.Token).ConfigureAwait(false);
            return fields.FindInt("e") ?? WebifiErrorCode.ProtocolError;
        }
        catch (DeviceException ex)
        {
            Break(ex);
            throw;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw BreakReason;
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync().ConfigureAwait(false);
        if (_reader is not null) await _reader.ConfigureAwait(false);
    }
}
