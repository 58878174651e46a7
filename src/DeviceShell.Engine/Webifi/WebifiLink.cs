using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Webifi;

/// <summary>Upload and download counters as the Python library counts them (docs/design/webifi.md §4.4).</summary>
internal sealed class WebifiCounters
{
    private long _uploads;
    private long _downloads;

    public long Uploads => Interlocked.Read(ref _uploads);

    public long Downloads => Interlocked.Read(ref _downloads);

    /// <summary>Counts an upload (or frame with data or a cancel); returns the value before, which goes out as <c>~z</c>.</summary>
    public long NextUpload() => Interlocked.Increment(ref _uploads) - 1;

    public long NextDownload() => Interlocked.Increment(ref _downloads) - 1;
}

/// <summary>
/// What a link reports to its session. The session itself takes the calls: three delegates for them were a quarter of a
/// KiB of every idle session (docs/benchmarks.md, "Webifi idle session").
/// </summary>
internal interface IWebifiLinkOwner
{
    /// <summary>A received message, in order: from session id, data type, payload, message id if the relay gave one.</summary>
    void Deliver(int from, string dataType, byte[] data, WebifiMessageId? id);

    /// <summary>An error code met in the background, with what the link was doing.</summary>
    void Report(int code, string context);

    /// <summary>The link went down (it reconnects on its own) or came back.</summary>
    void ChangeState(DeviceSessionState state);
}

/// <summary>
/// One logged-in connection to the relay (a device id with its WebSocket, or its long-polling requests).
/// A broken link is never repaired: the session drops it and logs in again, which gives a new session id
/// (docs/design/webifi.md §6). (A WebSocket link reconnects its socket under the same device id; it breaks only when the
/// relay no longer knows that id.) Received data is handed to <see cref="IWebifiLinkOwner.Deliver"/> on the link's reader task.
/// </summary>
internal abstract class WebifiLink : IAsyncDisposable
{
    private readonly TaskCompletionSource _broken = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _brokenToken = new();

    private long _sentMessages;

    protected WebifiLink(WebifiCredentials credentials, WebifiConnectOptions options, WebifiCounters counters, ReconnectBackoff backoff, IWebifiLinkOwner owner)
    {
        Credentials = credentials;
        Options = options;
        Counters = counters;
        Backoff = backoff;
        Owner = owner;
    }

    public WebifiCredentials Credentials { get; }

    /// <summary>
    /// The sender half of every <see cref="WebifiMessageId"/> sent on this link: random, chosen at this login. A new
    /// login numbers afresh under a new one, so numbers a peer planted under a relay session id that comes round again
    /// (relay ids start over after a relay restart) never match what this session sends (docs/design/decisions.md §25).
    /// </summary>
    public string MessageSender { get; } = WebifiMessageId.NewSender();

    /// <summary>The next sequence number under <see cref="MessageSender"/> (from 1, in wire order).</summary>
    public long NextSequence() => Interlocked.Increment(ref _sentMessages);

    /// <summary>The session's pause before the next attempt; the link resets it when the relay accepts something.</summary>
    protected ReconnectBackoff Backoff { get; }

    protected WebifiConnectOptions Options { get; }

    protected WebifiCounters Counters { get; }

    /// <summary>The session: what the link receives, meets and goes through is reported to it.</summary>
    protected IWebifiLinkOwner Owner { get; }

    /// <summary>Completes, with the reason as its exception, when the link is broken.</summary>
    public Task Broken => _broken.Task;

    /// <summary>Cancelled when the link breaks, so nothing waits on a dead link.</summary>
    public CancellationToken BrokenToken => _brokenToken.Token;

    public bool IsBroken => _broken.Task.IsCompleted;

    /// <summary>Logs in on the transport and sets the networks; returns the networks code (4 or 5).</summary>
    public abstract Task<int> OpenAsync(IReadOnlyList<string> networks, CancellationToken cancellationToken);

    /// <summary>Sets the listen-to networks; returns 4 (all set) or 5 (not all).</summary>
    public abstract Task<int> SetNetworksAsync(IReadOnlyList<string> networks, CancellationToken cancellationToken);

    /// <summary>
    /// Sends the messages in order, each its own message, and returns at once with a task per message that completes
    /// with the relay's code for it (long polling: already complete). <paramref name="sameSocketAs"/>: the socket the
    /// caller still has answers pending on; when the link is on another one by now, nothing is sent and a
    /// <see cref="DeviceException"/> is thrown, so that nothing overtakes what must be sent again.
    /// </summary>
    /// <returns>The socket the batch went out on (always 0 for long polling) and the answer of each message.</returns>
    public abstract Task<(int Socket, Task<int>[] Replies)> SendAsync(IReadOnlyList<NumberedOutgoing> batch, int? sameSocketAs, CancellationToken cancellationToken);

    /// <summary>Ends the relay session politely (close message or terminating cancel); best effort.</summary>
    public abstract Task CloseAsync(CancellationToken cancellationToken);

    public void Break(Exception reason)
    {
        if (_broken.TrySetException(reason))
        {
            _brokenToken.Cancel();
            OnBroken();
        }
        _ = _broken.Task.Exception; // observed: the session reads the reason when it wants it
    }

    /// <summary>
    /// Called once, by the call that broke the link, after <see cref="BrokenToken"/> was cancelled. A method rather
    /// than a registration on the token: an idle link then keeps no registration (docs/benchmarks.md, "Webifi idle session").
    /// </summary>
    protected virtual void OnBroken()
    {
    }

    /// <summary>The reason the link broke (or a generic one when it has not).</summary>
    public Exception BreakReason => _broken.Task.Exception?.InnerException ?? new DeviceException(DeviceErrorKind.Connection, "WebifiConnectionLost", "The connection to the Webifi relay was lost.");

    /// <summary>Hands every <c>[f][dt][u]d</c> group of a received message to <see cref="IWebifiLinkOwner.Deliver"/> (f, dt and u reset after each d).</summary>
    protected void DeliverGroups(IReadOnlyList<TildeField> fields)
    {
        int from = -1;
        string dataType = "";
        WebifiMessageId? messageId = null;
        foreach (var field in fields)
        {
            switch (field.Key)
            {
                case "f":
                    from = int.TryParse(field.Text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int id) ? id : -1;
                    break;
                case "dt":
                    dataType = field.Text;
                    break;
                case "u":
                    messageId = WebifiMessageId.Parse(field.Text);
                    break;
                case "d":
                    Owner.Deliver(from, dataType, field.Value, messageId);
                    from = -1;
                    dataType = "";
                    messageId = null;
                    break;
            }
        }
    }

    protected static DeviceException Lost(string why, Exception? inner = null) =>
        new(DeviceErrorKind.Connection, "WebifiConnectionLost", $"The connection to the Webifi relay was lost: {why}", null, inner);

    public virtual ValueTask DisposeAsync()
    {
        // The token source is not disposed: reader tasks may still look at the token; it holds no timer.
        Break(Lost("closed"));
        return ValueTask.CompletedTask;
    }
}
