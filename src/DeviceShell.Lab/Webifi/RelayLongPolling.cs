using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// The relay's long-polling endpoints (<c>/Upload</c>, held <c>/Download</c>, <c>/CancelDownload</c>, see
/// docs/design/webifi.md §8), as <see cref="RelayWebSocket"/> is its WebSocket endpoint: every request names its session
/// by <c>~id</c>, and a download is held until data arrives. The tilde-body helpers serve the credentials endpoint too.
/// </summary>
internal sealed class RelayLongPolling(IRelayRouter router, WebifiRelayOptions options, ILogger log, CancellationToken stopping)
{
    /// <summary><c>~id=…</c> + data groups + <c>~z=…</c> → <c>~e=0</c>, 2 (some recipient unknown), 7 or 12.</summary>
    public async Task UploadAsync(HttpContext context)
    {
        var (fields, session) = await ReadSessionRequestAsync(context).ConfigureAwait(false);
        if (session is null) return;
        if (await router.RouteAllAsync(session, new[] { RelayDataGroup.Parse(fields!) }).ConfigureAwait(false) is { } codes)
            await WriteCodeAsync(context, codes[0]).ConfigureAwait(false);
        else
            context.Abort(); // stopping: unacknowledged, so the client sends it again to the next relay
    }

    /// <summary>
    /// With <c>~n</c>: sets the networks and answers 4/5 at once. Otherwise held until data arrives (<c>~e=0</c> + groups),
    /// the hold time passes (16), a CancelDownload comes (15) or the session ends (12); a second held request gets 18.
    /// </summary>
    public async Task DownloadAsync(HttpContext context)
    {
        var (fields, session) = await ReadSessionRequestAsync(context).ConfigureAwait(false);
        if (session is null) return;
        var request = fields!;
        var networks = request.FindAll("n").ToList();
        if (networks.Count > 0)
        {
            await WriteCodeAsync(context, await router.SetNetworksAsync(session, networks).ConfigureAwait(false)).ConfigureAwait(false);
            return;
        }
        session.PollsLongly = true;
        var held = session.HoldDownload();
        if (held is null)
        {
            await WriteCodeAsync(context, WebifiErrorCode.DuplicateDownload).ConfigureAwait(false);
            return;
        }
        try
        {
            var hold = request.FindInt("t") is int seconds ? TimeSpan.FromSeconds(Math.Clamp(seconds, 1, options.MaxHold.TotalSeconds)) : options.DefaultHold;
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
            var mail = session.WaitForMailAsync(wait.Token);
            await Task.WhenAny(mail, held.Task, Task.Delay(hold, wait.Token)).ConfigureAwait(false);
            if (held.Task.IsCompleted)
            {
                await WriteCodeAsync(context, held.Task.Result).ConfigureAwait(false);
                return;
            }
            var batch = session.TakeBatch(options.MaxMessageBytes);
            var answer = new List<byte>();
            TildeCodec.AppendField(answer, "e", batch.Count > 0 ? WebifiErrorCode.Success : WebifiErrorCode.NoData);
            foreach (var delivery in batch) delivery.AppendTo(answer, session.MessageIds);
            await WriteAsync(context, answer).ConfigureAwait(false);
            router.Delivered(session, batch);
        }
        finally
        {
            session.ReleaseDownload(held);
        }
    }

    /// <summary>Releases a held download with 15; <c>~ts=1</c> also ends the session. Answers <c>~e=0</c>.</summary>
    public async Task CancelDownloadAsync(HttpContext context)
    {
        var (fields, session) = await ReadSessionRequestAsync(context).ConfigureAwait(false);
        if (session is null) return;
        session.CancelDownload(WebifiErrorCode.DownloadCancelled);
        if (fields!.Find("ts") == "1") router.Remove(session);
        await WriteCodeAsync(context, WebifiErrorCode.Success).ConfigureAwait(false);
    }

    /// <summary>
    /// Long-polling clients between two downloads still have data here: while stopping, downloads answer at once,
    /// so give them a moment to collect it.
    /// </summary>
    public async Task LetDrainAsync(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline && router.Sessions.Any(s => s.QueuedCount > 0 && !s.Ended.IsCancellationRequested && s.PollsLongly))
            await Task.Delay(20).ConfigureAwait(false);
    }

    /// <summary>Reads a long-polling body and its session; answers 7 or 12 itself and returns no session then.</summary>
    private async Task<(List<TildeField>? Fields, RelaySession? Session)> ReadSessionRequestAsync(HttpContext context)
    {
        var fields = await ReadFieldsAsync(context, log).ConfigureAwait(false);
        if (fields is null) return (null, null);
        var session = await router.FindAsync(fields.Find("id")).ConfigureAwait(false);
        if (session is null)
        {
            await WriteCodeAsync(context, WebifiErrorCode.SessionExpired).ConfigureAwait(false);
            return (fields, null);
        }
        session.Touch();
        return (fields, session);
    }

    /// <summary>The request body as fields; on a malformed or oversized body answers <c>~e=7</c> and returns null.</summary>
    public static async Task<List<TildeField>?> ReadFieldsAsync(HttpContext context, ILogger log)
    {
        try
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
            return TildeCodec.Decode(body.GetBuffer().AsSpan(0, (int)body.Length));
        }
        catch (Exception ex) when (ex is FormatException or BadHttpRequestException)
        {
            log.LogWarning("Bad request to {Path}: {Reason}", LogText.Quote(context.Request.Path.Value), LogText.Quote(ex.Message));
            await WriteCodeAsync(context, WebifiErrorCode.ProtocolError).ConfigureAwait(false);
            return null;
        }
    }

    public static Task WriteCodeAsync(HttpContext context, int code)
    {
        var answer = new List<byte>();
        TildeCodec.AppendField(answer, "e", code);
        return WriteAsync(context, answer);
    }

    public static async Task WriteAsync(HttpContext context, List<byte> answer)
    {
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = answer.Count;
        await context.Response.Body.WriteAsync(answer.ToArray(), context.RequestAborted).ConfigureAwait(false);
    }
}
